"""The agent against the push pipeline, on a real kube-apiserver: what it costs to notice a live edit.

    KUBEBUILDER_ASSETS=build/k8s-1.24 python bench/push_pipeline.py [--apps 500] [--objects 20] [--edits 20]

Loads ``--apps`` apps of ``--objects`` objects each (a headless Service, a ServiceAccount, a Role, a
RoleBinding and ConfigMaps) from a real Git repository into a real Kubernetes 1.24 control plane
(the real-server tests' harness, ``tests/realserver/control_plane.py``), then measures in one run:

- the agent's cold start to every app evaluated, through its read-only identity;
- a live edit (``kubectl patch``) until the agent's status of that app changes, p50/p99, and the
  agent's CPU per detected change;
- what a CI job that runs ``kubectl diff -f`` per app takes, wall time and CPU of its kubectl
  processes, for one pass over every app (it must diff them all to notice one edit);

and prints the ratios. Prints numbers; it is not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "realserver"), str(ROOT)]

from control_plane import ControlPlane, assets_dir  # noqa: E402

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}


def app_objects(i: int, objects: int) -> list[dict]:
    ns = f"team-{i:04d}"
    meta = {"namespace": ns}
    docs: list[dict] = [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", **meta},
         "spec": {"clusterIP": "None", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web", **meta}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "web", **meta},
         "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "web", **meta},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "web"},
         "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": ns}]},
    ]
    docs += [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{n:02d}", **meta},
              "data": {"key": f"value-{i}-{n}", "mode": "production", "limit": str(n * 10)}}
             for n in range(objects - len(docs))]
    return docs


def make_repo(root: Path, apps: int, objects: int) -> Path:
    repo = root / "repo"
    for i in range(apps):
        (repo / f"app-{i:04d}").mkdir(parents=True)
        (repo / f"app-{i:04d}" / "manifests.yaml").write_text(yaml.safe_dump_all(app_objects(i, objects)))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "apps"]):
        subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True)
    return repo


_PATHS = {"Service": "/api/v1/namespaces/{ns}/services", "ServiceAccount": "/api/v1/namespaces/{ns}/serviceaccounts",
          "ConfigMap": "/api/v1/namespaces/{ns}/configmaps",
          "Role": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
          "RoleBinding": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings"}


def load(plane: ControlPlane, apps: int, objects: int) -> None:
    """Create every app's objects as ``kubectl apply`` would (its field manager), eight at a time:
    one kubectl apply of ten thousand objects takes minutes."""
    from concurrent.futures import ThreadPoolExecutor

    def create(doc: dict) -> None:
        path = _PATHS[doc["kind"]].format(ns=doc["metadata"]["namespace"])
        plane.request("POST", f"{path}?fieldManager=kubectl-client-side-apply", json.dumps(doc))

    docs = [doc for i in range(apps) for doc in app_objects(i, objects)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, docs))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def kubectl_diff_pass(plane: ControlPlane, repo: Path, apps: int) -> tuple[float, float, int]:
    """One CI pass: ``kubectl diff -f`` per app. Wall time, CPU of the kubectl processes, and how
    many apps it found changed (kubectl diff exits 1 for those)."""
    cpu0, t = children_cpu(), time.perf_counter()
    found = 0
    for i in range(apps):
        done = subprocess.run(["kubectl", f"--kubeconfig={plane.admin_kubeconfig}", "diff", "-f",
                               str(repo / f"app-{i:04d}")], capture_output=True, text=True, timeout=120)
        found += done.returncode == 1
    return time.perf_counter() - t, children_cpu() - cpu0, found


async def wait_until(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.005)


async def run(args: argparse.Namespace) -> dict[str, object]:
    from exporter.model import AppState
    from exporter.wiring import build_agent, load_config

    assets = assets_dir()
    if assets is None:
        raise SystemExit("set KUBEBUILDER_ASSETS to the Kubernetes binaries (.ci/run unpacks them to build/k8s-1.24)")
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="gde-push-") as tmp:
        root = Path(tmp)
        plane = ControlPlane(assets, root / "plane").start()
        try:
            t = time.perf_counter()
            repo = make_repo(root, args.apps, args.objects)
            namespaces = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"team-{i:04d}"}}
                          for i in range(args.apps)]
            plane.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(namespaces))
            await asyncio.to_thread(load, plane, args.apps, args.objects)
            results["setup: apps created in the API server s"] = round(time.perf_counter() - t, 1)
            config = {"clusters": [{"name": "real", "kubeconfig": str(plane.agent_kubeconfig)}],
                      "cacheDir": str(root / "cache"), "interval": "1h", "gitPollInterval": "1h",
                      "apps": [{"name": f"app-{i:04d}", "source": {"repoURL": f"file://{repo}",
                                                                   "targetRevision": "main", "path": f"app-{i:04d}"},
                                "destination": {"cluster": "real", "namespace": f"team-{i:04d}"}}
                               for i in range(args.apps)]}
            (root / "config.yaml").write_text(yaml.safe_dump(config))
            agent = build_agent(load_config(str(root / "config.yaml")), concurrency=16)
            t = time.perf_counter()
            await agent.start()
            results["(a) agent cold start to every app evaluated s"] = round(time.perf_counter() - t, 2)
            states = [s.state for _, s in agent.snapshot().values()]
            results["apps evaluated / healthy"] = f"{len(states)} / {sum(s is AppState.HEALTHY for s in states)}"

            latencies = []
            cpu0 = own_cpu()
            for n in range(args.edits):
                i = (n * 37) % args.apps
                name, ns = f"app-{i:04d}", f"team-{i:04d}"
                t = time.perf_counter()
                await asyncio.to_thread(plane.kubectl, "patch", "configmap", "cm-00", "-n", ns, "--type", "merge",
                                        "-p", f'{{"data": {{"key": "edited-{n}"}}}}')
                await wait_until(lambda name=name: agent.snapshot()[name][1].state is AppState.OUT_OF_SYNC)
                latencies.append(time.perf_counter() - t)
                await asyncio.to_thread(plane.kubectl, "patch", "configmap", "cm-00", "-n", ns, "--type", "merge",
                                        "-p", f'{{"data": {{"key": "value-{i}-0"}}}}')
                await wait_until(lambda name=name: agent.snapshot()[name][1].state is AppState.HEALTHY)
            # CPU of this process during the edits, kubectl patch children excluded (RUSAGE_SELF).
            agent_cpu = (own_cpu() - cpu0) / (2 * args.edits)
            latencies.sort()
            results["(b) live edit -> agent status p50 ms"] = round(statistics.median(latencies) * 1000, 1)
            results["(b) live edit -> agent status p99 ms"] = round(latencies[min(len(latencies) - 1,
                                                                                 int(0.99 * len(latencies)))] * 1000, 1)
            results["(b) agent CPU per detected change ms"] = round(agent_cpu * 1000, 2)
            await agent.close()

            # (c) The push pipeline's check: kubectl diff per app, one pass, after one live edit.
            await asyncio.to_thread(plane.kubectl, "patch", "configmap", "cm-00", "-n", "team-0000", "--type",
                                    "merge", "-p", '{"data": {"key": "edited-again"}}')
            wall, diff_cpu, found = await asyncio.to_thread(kubectl_diff_pass, plane, repo, args.apps)
            results["(c) kubectl diff pass over every app: wall s"] = round(wall, 1)
            results["(c) kubectl diff pass: CPU s (kubectl processes)"] = round(diff_cpu, 1)
            results["(c) apps the pass found changed"] = found
            results["wall to notice: kubectl diff pass / agent p50"] = round(wall / statistics.median(latencies), 0)
            results["CPU per detected change: kubectl diff pass / agent"] = round(diff_cpu / agent_cpu, 0)
        finally:
            plane.stop()
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--apps", type=int, default=500)
    p.add_argument("--objects", type=int, default=20)
    p.add_argument("--edits", type=int, default=20)
    results = asyncio.run(run(p.parse_args()))
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
