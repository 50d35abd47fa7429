"""Fleet benchmark: the agent against simulated clusters holding thousands of realistic apps.

    python bench/fleet.py                                   # 2,000 apps x 25 objects, 5 clusters
    python bench/fleet.py --apps 10000 --clusters 20        # the large fleet
    python bench/fleet.py --curve 1000,2000,5000,10000      # cold start and peak RSS per fleet size

Every app is ``bench/fleet_app``: two Deployments (probes, resources, env from Secrets, ConfigMaps
and fields, volumes, an init container), a Service, an Ingress, an HPA, a ServiceAccount, a Role
and RoleBinding, a PodDisruptionBudget, a Secret, a NetworkPolicy, a custom resource and ConfigMaps.
Live objects are loaded exactly as a real 1.24 API server returned them after ``kubectl apply``
and the controllers' status writes (``live.json``: defaults filled in, ``managedFields``, the
last-applied annotation, status), with the namespace changed per app.

The simulated API servers run in a child process and ``/metrics`` is read by another one, as
Prometheus would, so neither shares the agent's event loop or CPU accounting; the agent with its
HTTP server runs in this process, reading a real Git repository with one directory per app. Prints:

- cold start: from ``Agent.start()`` to every app evaluated;
- live change -> /metrics: from a live edit in a cluster until a finished ``/metrics`` scrape shows
  the app OutOfSync, scraping back to back, p50/p99 over ``--changes`` edits (and back to Healthy);
- webhook -> /metrics: from a signed push webhook until a scrape shows the new revision;
- peak RSS of the agent process; ``/metrics`` scrape time (median of 20, gzipped as Prometheus asks);
- agent CPU per change vs a naive baseline that re-lists every cluster and re-compares every app on
  each cycle (what a cron job running ``kubectl diff`` amounts to), and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}
WEBHOOK_SECRET = "bench-secret"

sys.path.insert(0, str(ROOT / "bench" / "fleet_app"))
from capture import TOKEN  # noqa: E402 - the fleet app's own module, beside its data

sys.path.insert(0, str(ROOT / "bench"))
import floors  # noqa: E402 - the floors beside this bench

FLEET_APP = ROOT / "bench" / "fleet_app"
#: The live change the bench makes and undoes: a value a person edits in a ConfigMap.
EDITED = ("", "ConfigMap", "config-00")


def namespace_of(i: int) -> str:
    return f"team-{i:04d}"


def manifests_text(objects: int) -> str:
    """The app's Git manifests with the namespace token left in, cut to ``objects`` documents."""
    docs = (FLEET_APP / "manifests.yaml").read_text(encoding="utf-8").split("\n---\n")
    if objects > len(docs):
        raise SystemExit(f"--objects: the fleet app has {len(docs)} objects")
    return "\n---\n".join(docs[:objects]) + "\n"


def live_template(objects: int) -> tuple[dict[str, Any], str]:
    """The CRD and the app's live objects as the real server returned them (``live.json``)."""
    captured = json.loads((FLEET_APP / "live.json").read_text(encoding="utf-8"))
    return captured["crd"], json.dumps(captured["objects"][:objects])


# ---- the simulated clusters, in a child process ------------------------------------------------------

def _clusters_main(args: argparse.Namespace, conn: Any) -> None:
    asyncio.run(_clusters(args, conn))


async def _clusters(args: argparse.Namespace, conn: Any) -> None:
    from aiohttp import web

    from exporter.model import ObjectKey
    from exporter.simulator import SimulatedCluster

    sims = [SimulatedCluster(bookmark_interval=30, history_limit=2000) for _ in range(args.clusters)]
    crd, template = live_template(args.objects)
    for sim in sims:
        await sim.start()
        sim.load(crd)
    for i in range(args.apps):
        for obj in json.loads(template.replace(TOKEN, namespace_of(i))):
            sims[i % args.clusters].load(obj)

    async def patch(request: web.Request) -> web.Response:
        body = await request.json()
        sims[body["cluster"]].patch(ObjectKey(*body["key"]), body["patch"], manager="kubectl-edit")
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


# ---- the scraper, in its own process: it decodes what Prometheus would, off the agent's CPU -----------

def _scraper_main(url: str, conn: Any) -> None:
    """Answer ``[pattern, ...]`` with the monotonic time at which a finished ``/metrics`` scrape first
    matched every pattern (a whole line, or a regular expression when it starts with ``^``),
    scraping back to back as an impatient Prometheus would, and the number of scrapes it took;
    answer ``"median"`` with the median of 20 scrape times."""
    import gzip
    import re
    import urllib.request

    def scrape() -> str:
        request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            raw = answer.read()
            gzipped = answer.headers.get("Content-Encoding") == "gzip"
        return (gzip.decompress(raw) if gzipped else raw).decode()

    while True:
        message = conn.recv()
        if message == "stop":
            return
        if message == "median":
            times, size = [], 0
            for _ in range(20):
                t = time.monotonic()
                size = len(scrape())
                times.append(time.monotonic() - t)
            conn.send((statistics.median(times), size))
            continue
        # A line is looked for as a substring, a regular expression searched: over 15 MiB the
        # second takes 50 ms, which would count against the agent in every scrape.
        checks = [re.compile(p, re.M).search if p.startswith("^") else _has_line(p) for p in message]
        scrapes, deadline = 1, time.monotonic() + 120
        while not all(check(text) for text in ["\n" + scrape()] for check in checks):
            scrapes += 1
            if time.monotonic() > deadline:
                conn.send((None, scrapes))
                break
        else:
            conn.send((time.monotonic(), scrapes))


def _has_line(line: str) -> Callable[[str], bool]:
    needle = f"\n{line}\n"
    return lambda text: needle in text


class Scraper:
    """The scraping child process, asked from the agent's loop without blocking it."""

    def __init__(self, url: str) -> None:
        self._conn, child = multiprocessing.Pipe()
        self._proc = multiprocessing.get_context("spawn").Process(target=_scraper_main, args=(url, child),
                                                                  daemon=True)
        self._proc.start()

    async def ask(self, message: Any) -> Any:
        self._conn.send(message)
        return await asyncio.get_running_loop().run_in_executor(None, self._conn.recv)

    async def shows(self, *patterns: str) -> float:
        """Monotonic time of the end of the first scrape that shows every pattern."""
        seen, scrapes = await self.ask(list(patterns))
        if seen is None:
            raise TimeoutError(f"{scrapes} scrapes in 2 minutes did not show {patterns}")
        return float(seen)

    def stop(self) -> None:
        self._conn.send("stop")
        self._proc.join(10)


def status_line(app: str, state: str) -> str:
    return f'gitops_app_status{{app="{app}",status="{state}"}} 1'


# ---- helpers ---------------------------------------------------------------------------------------

def make_repo(root: Path, args: argparse.Namespace) -> Path:
    repo = root / "repo"
    text = manifests_text(args.objects)
    for i in range(args.apps):
        d = repo / "apps" / f"app-{i:04d}"
        d.mkdir(parents=True)
        (d / "manifests.yaml").write_text(text.replace(TOKEN, namespace_of(i)))
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
             "destination": {"cluster": f"cluster-{i % args.clusters}", "namespace": namespace_of(i)}}
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


def peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def workers() -> list[int]:
    """The agent's worker processes (exporter.workers), not the bench's own helpers."""
    from exporter import workers as pool
    executor = pool._pool
    return [p.pid for p in getattr(executor, "_processes", {}).values() if p.pid] if executor else []


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_peak_rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return 0


class CollectorPauses:
    """The garbage collector's passes in this process, and the time they held the event loop."""

    def __init__(self) -> None:
        self.full = 0
        self.seconds = 0.0
        self._started = 0.0

    def observe(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        self.seconds += time.perf_counter() - self._started
        self.full += info["generation"] == 2


async def timeline(agent: Any, sim_pid: int) -> None:
    """Print, every two seconds of the cold start, how many apps are evaluated and where the CPU went."""
    start, last = time.perf_counter(), (cpu(), 0.0, process_cpu(sim_pid))
    print("    s  evaluated  agent  workers  servers  (CPU s in the interval)", file=sys.stderr)
    while True:
        await asyncio.sleep(2)
        now = (cpu(), sum(process_cpu(p) for p in workers()), process_cpu(sim_pid))
        print(f"{time.perf_counter() - start:5.0f}  {len(agent.snapshot()):9d}  "
              + "  ".join(f"{b - a:5.1f}  " for a, b in zip(last, now, strict=True)), file=sys.stderr)
        last = now


# ---- the run ---------------------------------------------------------------------------------------

async def live_changes(args: argparse.Namespace, control: str, scraper: Scraper | None, agent: Any,
                       avoid: frozenset[str] = frozenset()) -> list[float]:
    """Edit a ConfigMap value by hand and put it back, ``--changes`` times on random apps; each
    edit's latency until the app shows OutOfSync (and back Healthy): through ``scraper`` when given,
    else from the agent's snapshot in this process (cheap polling, for CPU accounting). Apps in
    ``avoid`` (Missing since a webhook's push added an object) are not edited."""
    from exporter.model import AppState

    rng = random.Random(7 if scraper else 11)
    latencies = []
    async with aiohttp.ClientSession() as http:
        for n in range(args.changes):
            i = rng.randrange(args.apps)
            while f"app-{i:04d}" in avoid:
                i = rng.randrange(args.apps)
            name = f"app-{i:04d}"
            for value, state in ((f"edited-{n}", AppState.OUT_OF_SYNC), ("fast", AppState.HEALTHY)):
                t = time.monotonic()
                async with http.post(f"{control}/patch", json={
                        "cluster": i % args.clusters, "key": [EDITED[0], EDITED[1], namespace_of(i), EDITED[2]],
                        "patch": {"data": {"mode": value}}}) as r:
                    r.raise_for_status()
                if scraper is not None:
                    latencies.append(await scraper.shows(status_line(name, state.value)) - t)
                    continue
                while agent.snapshot()[name][1].state is not state:
                    await asyncio.sleep(0.001)
                    if time.monotonic() - t > 30:
                        raise TimeoutError(f"{name} did not become {state.value}")
                latencies.append(time.monotonic() - t)
    return latencies


async def webhooks(args: argparse.Namespace, repo: Path, base: str, scraper: Scraper,
                   clone: Path | None = None) -> list[tuple[float, float]]:
    """A commit adding a ConfigMap to one app's directory, then a signed GitHub push webhook; the time
    until a scrape shows that app at the new revision and Missing (the new object is not live)."""
    rng = random.Random(5)
    hooks = []
    async with aiohttp.ClientSession() as http:
        for n in range(5):
            i = rng.randrange(args.apps)
            name = f"app-{i:04d}"
            (repo / "apps" / name / "extra.yaml").write_text(yaml.safe_dump({
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"extra-{n}"}, "data": {"n": str(n)}}))
            sha = await asyncio.get_running_loop().run_in_executor(None, commit_all, repo, f"change {n}")
            payload = json.dumps({"ref": "refs/heads/main", "after": sha,
                                  "repository": {"clone_url": f"file://{repo}", "html_url": f"file://{repo}"}}).encode()
            signature = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), payload, hashlib.sha256).hexdigest()
            t = time.monotonic()
            async with http.post(f"{base}/api/webhook", data=payload, headers={
                    "X-GitHub-Event": "push", "X-Hub-Signature-256": signature,
                    "Content-Type": "application/json"}) as r:
                assert r.status == 202, await r.text()
            took = await scraper.shows(status_line(name, "Missing"),
                                       f'^gitops_app_info{{app="{name}",.*revision="{sha}"}} 1$') - t
            floor = await asyncio.get_running_loop().run_in_executor(None, floors.git_floor, clone, sha) \
                if clone is not None else 0.0
            hooks.append((took, floor))
    return hooks


async def naive_cycle_cpu(agent: Any, config: Any) -> float:
    """CPU of one cycle of the naive way: re-list every kind the apps use in every cluster, re-render
    and re-compare every app (what a cron job running ``kubectl diff`` per app amounts to)."""
    from exporter import diff as compare_mod
    from exporter.render import render

    start = cpu()
    for cluster in agent.parts.clusters.values():
        live_by_key = {}
        kinds = {(d["apiVersion"], d["kind"]) for d in yaml.safe_load_all(manifests_text(25))}
        for api_version, kind in sorted(kinds):
            res = await cluster.client.resolve(api_version, kind)
            items, _ = await cluster.client.list(res)
            for obj in items:
                m = obj["metadata"]
                live_by_key[(kind, m.get("namespace", ""), m["name"])] = obj
        for app in config.apps:
            if app.destination.cluster != cluster.config.name:
                continue
            tree = await agent.git.checkout(app.source.repo_url, agent.parts.apps[app.name].sha or "")
            for obj in await render(app, tree):
                m = obj["metadata"]
                found = live_by_key.get((obj["kind"], m.get("namespace") or app.destination.namespace, m["name"]))
                if found is not None:
                    compare_mod.compare(obj, found, app.compare)
                    agent.parts.health.assess(found)
    return cpu() - start


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from exporter.metrics import REGISTRY, AppStatusCollector
    from exporter.model import AppState
    from exporter.server import build_app, serve
    from exporter.status import app_diff
    from exporter.wiring import build_agent, load_config

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

        agent = build_agent(config, concurrency=16)
        collector = AppStatusCollector(agent.snapshot, agent.ready)
        web = build_app(agent, metrics_registry=REGISTRY, webhook_secret=WEBHOOK_SECRET, diff=lambda _app, status: app_diff(status),
                        app_metrics=collector.chunks)
        runner = await serve(web, "127.0.0.1", 0)
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"

        if args.memory_top:
            import tracemalloc
            tracemalloc.start()
        profile = None
        if args.stages and not args.profile:
            args.profile = str(root / "cold-start.prof")
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
        pauses = CollectorPauses()
        gc.callbacks.append(pauses.observe)
        t, cpu0, sim_cpu0 = time.perf_counter(), cpu(), process_cpu(proc.pid)
        tracer = asyncio.ensure_future(timeline(agent, proc.pid)) if args.timeline else None
        await agent.start()
        if tracer is not None:
            tracer.cancel()
        cold_cpu = cpu() - cpu0
        gc.callbacks.remove(pauses.observe)
        sim_cpu = process_cpu(proc.pid) - sim_cpu0
        if profile is not None:
            profile.disable()
            profile.dump_stats(args.profile)
        results["cold start to every app evaluated s"] = round(time.perf_counter() - t, 2)
        states = [s.state for _, s in agent.snapshot().values()]
        results["apps evaluated / healthy"] = f"{len(states)} / {sum(s is AppState.HEALTHY for s in states)}"
        results["CPU in the cold start: agent / its workers s"] = \
            f"{cold_cpu:.1f} / {sum(process_cpu(p) for p in workers()):.1f}"
        results["CPU of the simulated API servers in it s"] = round(sim_cpu, 1)
        results["garbage collector in it: full passes / s"] = f"{pauses.full} / {pauses.seconds:.2f}"
        results["peak RSS after cold start MB"] = peak_rss_mb()
        results["peak RSS of its workers MB"] = sum(process_peak_rss_mb(p) for p in workers())
        await cold_start_floor(args, agent, info["urls"], repo, root, results)
        if args.stages:
            for stage, seconds in floors.stage_table(args.profile).items():
                results[f"cold start CPU (profiled) in {stage} s"] = round(seconds, 1)
        if args.memory_top:
            snapshot = tracemalloc.take_snapshot()
            tracemalloc.stop()
            for stat in snapshot.statistics("lineno")[:args.memory_top]:
                print(f"{stat.size / 1024 / 1024:8.1f} MB {stat.count:9d} blocks  {stat.traceback}", file=sys.stderr)
        if not args.rss_only:
            scraper = Scraper(f"{base}/metrics")
            median, size = await scraper.ask("median")
            results["/metrics scrape ms (median of 20)"] = round(median * 1000, 1)
            results["/metrics size KiB"] = round(size / 1024)
            latencies = await live_changes(args, info["control"], scraper, agent)
            results["live change -> /metrics scrape p50 ms"] = round(pct(latencies, 0.5) * 1000, 1)
            results["live change -> /metrics scrape p99 ms"] = round(pct(latencies, 0.99) * 1000, 1)
            clone = await asyncio.get_running_loop().run_in_executor(None, floors.git_clone, repo, root / "floor-clone")
            hook_profile = cProfile.Profile() if args.profile_webhooks else None
            if hook_profile is not None:
                hook_profile.enable()
            hooks = await webhooks(args, repo, base, scraper, clone)
            if hook_profile is not None:
                hook_profile.disable()
                hook_profile.dump_stats(args.profile_webhooks)
            worst = max(hooks, key=lambda h: h[0] / max(h[1], 1e-9))
            results["webhook -> new revision on /metrics ms (max of 5)"] = round(max(h[0] for h in hooks) * 1000, 1)
            results["  floor: git fetch + checkout of that push ms / ratio (worst of 5)"] = \
                f"{worst[1] * 1000:.1f} / {worst[0] / max(worst[1], 1e-9):.2f}"
            scraper.stop()
            cpu0 = cpu()
            missing = frozenset(name for name, (_, st) in agent.snapshot().items() if st.state is AppState.MISSING)
            direct = await live_changes(args, info["control"], None, agent, missing)
            agent_cpu = (cpu() - cpu0) / (2 * args.changes)
            results["live change -> the agent's state (no scraper), p50 / p99 ms"] = \
                f"{pct(direct, 0.5) * 1000:.1f} / {pct(direct, 0.99) * 1000:.1f}"
            results["peak RSS of the agent MB"] = peak_rss_mb()
            baseline = await naive_cycle_cpu(agent, config)
            results["agent CPU per change ms"] = round(agent_cpu * 1000, 2)
            results["baseline CPU per full cycle ms"] = round(baseline * 1000, 1)
            results["baseline / agent CPU ratio"] = round(baseline / agent_cpu, 1)
        await agent.close()
        await runner.cleanup()
        parent.send("stop")
        proc.join(30)
    return results


async def cold_start_floor(args: argparse.Namespace, agent: Any, urls: list[str], repo: Path, root: Path,
                           results: dict[str, Any]) -> None:
    """The floor of the cold start, measured now on the same machine: decoding every list page the
    servers send, parsing every manifest, and git cloning the repository; and the ratio."""
    cluster = next(iter(agent.parts.clusters.values()))
    paths = []
    for api_version, kind in sorted({(d["apiVersion"], d["kind"]) for d in yaml.safe_load_all(manifests_text(args.objects))}):
        res = await cluster.client.resolve(api_version, kind)
        if res is not None:
            paths.append(res.path(None))
    decode = await floors.decode_floor(urls, paths)
    parse = await asyncio.get_running_loop().run_in_executor(None, floors.parse_floor, repo)
    started = time.perf_counter()
    await asyncio.get_running_loop().run_in_executor(None, floors.git_clone, repo, root / "floor-cold")
    git = time.perf_counter() - started
    floor = decode["seconds"] + parse + git
    cold = results["cold start to every app evaluated s"]
    results["  floor: decode pages / parse manifests / git clone s"] = \
        f"{decode['seconds']:.1f} ({decode['pages']} pages, {decode['MiB']:.0f} MiB) / {parse:.1f} / {git:.1f}"
    results["  floor total s / cold start ratio"] = f"{floor:.1f} / {cold / floor:.2f}"


def curve(args: argparse.Namespace) -> dict[str, Any]:
    """Cold start and peak RSS per fleet size, each in a fresh process (one cluster per 500 apps)."""
    results: dict[str, Any] = {}
    before: tuple[int, int] | None = None
    for apps in (int(n) for n in args.curve.split(",")):
        clusters = max(1, apps // 500)
        done = subprocess.run([sys.executable, __file__, "--apps", str(apps), "--clusters", str(clusters),
                               "--objects", str(args.objects), "--rss-only", "--json"],
                              capture_output=True, text=True, check=True)
        measured = json.loads(done.stdout.strip().splitlines()[-1])
        rss = measured["peak RSS after cold start MB"]
        objects = apps * args.objects
        growth = f"{(rss - before[1]) * 1024 / (objects - before[0]):.1f}" if before else "-"
        results[f"{apps} apps ({clusters} clusters): cold start s / peak RSS MB / KB per object / "
                "KB per object added"] = \
            f"{measured['cold start to every app evaluated s']} / {rss} / {rss * 1024 / objects:.1f} / {growth}"
        before = (objects, rss)
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--apps", type=int, default=2000)
    p.add_argument("--objects", type=int, default=25)
    p.add_argument("--clusters", type=int, default=5)
    p.add_argument("--changes", type=int, default=200)
    p.add_argument("--curve", help="comma-separated fleet sizes: cold start and peak RSS for each")
    p.add_argument("--rss-only", action="store_true", help="stop after the cold start")
    p.add_argument("--profile", metavar="FILE", help="write a cProfile of the cold start to FILE")
    p.add_argument("--profile-webhooks", metavar="FILE",
                   help="write a cProfile of the agent during the five webhooks to FILE")
    p.add_argument("--memory-top", type=int, default=0, metavar="N",
                   help="print the N places that allocated most of what is held after the cold start")
    p.add_argument("--timeline", action="store_true",
                   help="print progress and CPU every two seconds of the cold start (to stderr)")
    p.add_argument("--stages", action="store_true",
                   help="profile the cold start and print the agent's own CPU per stage")
    p.add_argument("--json", action="store_true", help="print the results as one JSON line")
    args = p.parse_args()
    results = curve(args) if args.curve else asyncio.run(run(args))
    if args.json:
        print(json.dumps(results))
        return
    scope = "fleet sizes" if args.curve else f"{args.apps} apps x {args.objects} objects across {args.clusters} clusters"
    print(f"\n{scope}, {os.cpu_count()} CPUs\n")
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"  {key.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
