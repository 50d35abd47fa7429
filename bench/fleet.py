"""Fleet benchmark: the agent against simulated clusters with thousands of apps.

    python bench/fleet.py [--apps 2000] [--objects 25] [--clusters 5] [--changes 200]

Runs the simulated API servers in a child process (so they do not share the agent's event loop or
CPU accounting), a real Git repository with one directory per app, and the agent with its HTTP
server in this process. Prints a table:

- cold start: from ``Agent.start()`` to every app evaluated;
- live change -> /metrics: from a live edit in a cluster until the app's status (what ``/metrics``
  reads) changed, p50/p99 over ``--changes`` edits;
- webhook -> /metrics: from a signed push webhook until the app shows the new revision;
- peak RSS of the agent process; ``/metrics`` scrape time (median of 20);
- agent CPU per change vs a naive baseline that re-lists every cluster and re-compares every app on
  each cycle (what a cron job running ``kubectl diff`` amounts to), and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}
WEBHOOK_SECRET = "bench-secret"


def app_objects(i: int, objects: int) -> list[dict[str, Any]]:
    ns = f"team-{i:04d}"
    out: list[dict[str, Any]] = [{
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "svc", "namespace": ns},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "svc"}},
                 "template": {"metadata": {"labels": {"app": "svc"}},
                              "spec": {"containers": [{"name": "svc", "image": f"example/svc:{i}",
                                                       "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}}}]}}},
    }, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc", "namespace": ns},
        "spec": {"selector": {"app": "svc"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }]
    for j in range(objects - len(out)):
        out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{j:02d}", "namespace": ns},
                    "data": {"key": f"value-{i}-{j}", "mode": "fast"}})
    return out


def live_version(obj: dict[str, Any], app: str) -> dict[str, Any]:
    live = json.loads(json.dumps(obj))
    live["metadata"].setdefault("labels", {})["app.kubernetes.io/instance"] = app
    if obj["kind"] == "Deployment":
        live["status"] = {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
                          "availableReplicas": 2, "conditions": [{"type": "Available", "status": "True"}]}
    return live


# ---- the simulated clusters, in a child process ------------------------------------------------------

def _clusters_main(args: argparse.Namespace, conn: Any) -> None:
    asyncio.run(_clusters(args, conn))


async def _clusters(args: argparse.Namespace, conn: Any) -> None:
    from aiohttp import web

    from exporter.model import ObjectKey
    from exporter.simulator import SimulatedCluster

    sims = [SimulatedCluster(bookmark_interval=30) for _ in range(args.clusters)]
    for sim in sims:
        await sim.start()
    for i in range(args.apps):
        sim = sims[i % args.clusters]
        for obj in app_objects(i, args.objects):
            sim.apply(live_version(obj, f"app-{i:04d}"))

    async def patch(request: web.Request) -> web.Response:
        body = await request.json()
        sim = sims[body["cluster"]]
        sim.patch(ObjectKey(*body["key"]), body["patch"], manager="kubectl-edit")
        return web.json_response({})

    control = web.Application()
    control.router.add_post("/patch", patch)
    runner = web.AppRunner(control)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    conn.send({"urls": [s.url for s in sims], "control": f"http://127.0.0.1:{port}"})
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # wait for "stop"
    for sim in sims:
        await sim.stop()


# ---- helpers ---------------------------------------------------------------------------------------

def make_repo(root: Path, args: argparse.Namespace) -> Path:
    repo = root / "repo"
    for i in range(args.apps):
        d = repo / "apps" / f"app-{i:04d}"
        d.mkdir(parents=True)
        (d / "manifests.yaml").write_text(yaml.safe_dump_all(app_objects(i, args.objects), sort_keys=False))
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "apps"]):
        subprocess.run(cmd, cwd=repo, env=GIT_ENV, check=True, capture_output=True)
    return repo


def commit_all(repo: Path, message: str) -> str:
    subprocess.run(["git", "add", "-A"], cwd=repo, env=GIT_ENV, check=True)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, env=GIT_ENV, check=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip()


def write_config(root: Path, repo: Path, urls: list[str], args: argparse.Namespace) -> Path:
    clusters = []
    for n, url in enumerate(urls):
        kubeconfig = root / f"kubeconfig-{n}"
        kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "sim",
            "clusters": [{"name": "sim", "cluster": {"server": url}}],
            "users": [{"name": "u", "user": {}}],
            "contexts": [{"name": "sim", "context": {"cluster": "sim", "user": "u"}}]}))
        clusters.append({"name": f"cluster-{n}", "kubeconfig": str(kubeconfig), "context": "sim"})
    apps = [{"name": f"app-{i:04d}",
             "source": {"repoURL": f"file://{repo}", "targetRevision": "main", "path": f"apps/app-{i:04d}"},
             "destination": {"cluster": f"cluster-{i % args.clusters}", "namespace": f"team-{i:04d}"}}
            for i in range(args.apps)]
    config = root / "config.yaml"
    config.write_text(yaml.safe_dump({"clusters": clusters, "apps": apps, "interval": "1h", "gitPollInterval": "1h",
                                      "cacheDir": str(root / "cache"),
                                      "webhook": {"secretEnv": "BENCH_WEBHOOK_SECRET"}}, sort_keys=False))
    return config


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def cpu() -> float:
    t = os.times()
    return t.user + t.system


async def wait_until(check: Any, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.001)


# ---- the run ---------------------------------------------------------------------------------------

async def run(args: argparse.Namespace) -> dict[str, Any]:
    from exporter.agent import Agent
    from exporter.metrics import REGISTRY, AppStatusCollector
    from exporter.model import AppState
    from exporter.server import build_app, serve
    from exporter.wiring import load_config

    os.environ["BENCH_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="gde-bench-") as tmp:
        root = Path(tmp)
        parent, child = multiprocessing.Pipe()
        proc = multiprocessing.get_context("spawn").Process(target=_clusters_main, args=(args, child), daemon=True)
        t = time.perf_counter()
        proc.start()
        repo = make_repo(root, args)
        info = await asyncio.get_running_loop().run_in_executor(None, parent.recv)
        results["setup (clusters filled, repo made) s"] = round(time.perf_counter() - t, 1)
        config = load_config(str(write_config(root, repo, info["urls"], args)))

        agent = Agent(config, concurrency=16)
        collector = AppStatusCollector(agent.snapshot, agent.ready)
        web = build_app(agent, metrics_registry=REGISTRY, webhook_secret=WEBHOOK_SECRET, diff=agent.diff_text,
                        app_metrics=collector.text)
        runner = await serve(web, "127.0.0.1", 0)
        port = runner.addresses[0][1]
        base = f"http://127.0.0.1:{port}"

        t = time.perf_counter()
        await agent.start()
        results["cold start to every app evaluated s"] = round(time.perf_counter() - t, 2)
        states = [s.state for _, s in agent.snapshot().values()]
        results["apps evaluated / healthy"] = f"{len(states)} / {sum(s is AppState.HEALTHY for s in states)}"

        async with aiohttp.ClientSession() as http:
            scrape = []
            for _ in range(20):
                t = time.perf_counter()
                async with http.get(f"{base}/metrics") as r:
                    body = await r.read()
                scrape.append(time.perf_counter() - t)
            results["/metrics scrape ms (median of 20)"] = round(statistics.median(scrape) * 1000, 1)
            results["/metrics size KiB"] = round(len(body) / 1024)

            rng = random.Random(7)
            latencies = []
            cpu0 = cpu()
            for n in range(args.changes):
                i = rng.randrange(args.apps)
                name = f"app-{i:04d}"
                value = f"changed-{n}"
                t = time.perf_counter()
                async with http.post(f"{info['control']}/patch", json={
                        "cluster": i % args.clusters, "key": ["", "ConfigMap", f"team-{i:04d}", "cm-00"],
                        "patch": {"data": {"key": value}}}) as r:
                    r.raise_for_status()
                await wait_until(lambda name=name: agent.snapshot()[name][1].state is AppState.OUT_OF_SYNC)
                latencies.append(time.perf_counter() - t)
                async with http.post(f"{info['control']}/patch", json={
                        "cluster": i % args.clusters, "key": ["", "ConfigMap", f"team-{i:04d}", "cm-00"],
                        "patch": {"data": {"key": f"value-{i}-0"}}}) as r:
                    r.raise_for_status()
                await wait_until(lambda name=name: agent.snapshot()[name][1].state is AppState.HEALTHY)
            agent_cpu_per_change = (cpu() - cpu0) / (2 * args.changes)
            results["live change -> /metrics p50 ms"] = round(pct(latencies, 0.5) * 1000, 1)
            results["live change -> /metrics p99 ms"] = round(pct(latencies, 0.99) * 1000, 1)

            # Webhook: a commit to one app's directory, then a signed GitHub push.
            hooks = []
            for n in range(5):
                i = rng.randrange(args.apps)
                name = f"app-{i:04d}"
                target = repo / "apps" / name / "extra.yaml"
                target.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap",
                                                  "metadata": {"name": f"extra-{n}", "namespace": f"team-{i:04d}"},
                                                  "data": {"n": str(n)}}))
                sha = await asyncio.get_running_loop().run_in_executor(None, commit_all, repo, f"change {n}")
                payload = json.dumps({"ref": "refs/heads/main", "after": sha,
                                      "repository": {"clone_url": f"file://{repo}", "html_url": f"file://{repo}"}}).encode()
                signature = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), payload, hashlib.sha256).hexdigest()
                t = time.perf_counter()
                async with http.post(f"{base}/api/webhook", data=payload, headers={
                        "X-GitHub-Event": "push", "X-Hub-Signature-256": signature,
                        "Content-Type": "application/json"}) as r:
                    assert r.status == 202, await r.text()
                await wait_until(lambda name=name, sha=sha: agent.snapshot()[name][1].revision == sha
                                 and agent.snapshot()[name][1].state is AppState.MISSING, timeout=60)
                hooks.append(time.perf_counter() - t)
            results["webhook -> new revision on /metrics ms (max of 5)"] = round(max(hooks) * 1000, 1)

        results["peak RSS of the agent MB"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

        # The naive baseline: each cycle re-lists every cluster and re-compares every app.
        from exporter import diff as compare_mod
        from exporter.render import render
        cycles = 2
        cpu0 = cpu()
        for _ in range(cycles):
            for cluster in agent._clusters.values():
                assert cluster.client is not None
                live_by_key = {}
                for api_version, kind in (("v1", "ConfigMap"), ("v1", "Service"), ("apps/v1", "Deployment")):
                    res = await cluster.client.resolve(api_version, kind)
                    assert res is not None
                    items, _ = await cluster.client.list(res)
                    for obj in items:
                        m = obj["metadata"]
                        live_by_key[(kind, m.get("namespace", ""), m["name"])] = obj
                for app in config.apps:
                    if app.destination.cluster != cluster.config.name:
                        continue
                    tree = await agent.git.checkout(app.source.repo_url, agent._apps[app.name].sha or "")
                    for obj in await render(app, tree):
                        m = obj["metadata"]
                        found = live_by_key.get((obj["kind"], m.get("namespace") or app.destination.namespace, m["name"]))
                        if found is not None:
                            compare_mod.compare(obj, found, app.compare)
                            agent.health.assess(found)
        baseline_cpu = (cpu() - cpu0) / cycles
        results["agent CPU per change ms"] = round(agent_cpu_per_change * 1000, 2)
        results["baseline CPU per full cycle ms"] = round(baseline_cpu * 1000, 1)
        results["baseline / agent CPU ratio"] = round(baseline_cpu / agent_cpu_per_change, 1)

        await agent.close()
        await runner.cleanup()
        parent.send("stop")
        proc.join(30)
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--apps", type=int, default=2000)
    p.add_argument("--objects", type=int, default=25)
    p.add_argument("--clusters", type=int, default=5)
    p.add_argument("--changes", type=int, default=200)
    args = p.parse_args()
    results = asyncio.run(run(args))
    print(f"\n{args.apps} apps x {args.objects} objects across {args.clusters} clusters, {os.cpu_count()} CPUs\n")
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"  {key.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
