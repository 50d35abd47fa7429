"""``gitops-drift-exporter demo``: the real agent against a simulated cluster and a real Git repo.

Everything a newcomer sees is produced by the same code paths as in production: a Git repository
is created with the ``git`` CLI in a temporary directory, a simulated Kubernetes API server answers
over real HTTP on loopback, and the agent reads both through its ordinary stages. Only the cluster's
contents are staged, to show one app in each interesting state.
"""

from __future__ import annotations

import asyncio
import copy
import os
import subprocess
import tempfile
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from exporter.model import ObjectKey

NS = "demo"

#: What Git says, per app directory. Each app shows one state once the cluster below is staged.
APPS: dict[str, str] = {
    # Healthy: live matches Git and the rollout is complete.
    "web": """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: web-config}
        data: {GREETING: hello}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, labels: {app: web}}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
                - name: web
                  image: nginx:1.27
                  ports: [{containerPort: 80}]
                  resources: {limits: {cpu: "1", memory: 256Mi}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          selector: {app: web}
          ports: [{port: 80, targetPort: 80}]
    """,
    # OutOfSync: someone ran `kubectl edit` on the ConfigMap.
    "payments": """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: payments-config}
        data: {CURRENCY: EUR, TIMEOUT: "30s"}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: payments, labels: {app: payments}}
        spec:
          replicas: 1
          selector: {matchLabels: {app: payments}}
          template:
            metadata: {labels: {app: payments}}
            spec:
              containers: [{name: payments, image: "ghcr.io/example/payments:2.4.1"}]
    """,
    # Degraded: the worker pod crash-loops.
    "worker": """
        apiVersion: v1
        kind: Pod
        metadata: {name: worker, labels: {app: worker}}
        spec:
          restartPolicy: Always
          containers: [{name: worker, image: "ghcr.io/example/worker:0.9.0"}]
    """,
    # Missing: Git declares a Service nobody applied yet.
    "cache": """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: cache-config}
        data: {maxmemory: 256mb}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: cache}
        spec:
          selector: {app: cache}
          ports: [{port: 6379}]
    """,
    # Progressing: a rollout is under way.
    "api": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: api, labels: {app: api}}
        spec:
          replicas: 3
          selector: {matchLabels: {app: api}}
          template:
            metadata: {labels: {app: api}}
            spec:
              containers: [{name: api, image: "ghcr.io/example/api:3.1.0"}]
    """,
    # Suspended: a nightly job that is switched off on purpose.
    "reports": """
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: nightly-report}
        spec:
          schedule: "0 2 * * *"
          suspend: true
          jobTemplate:
            spec:
              template:
                spec:
                  restartPolicy: OnFailure
                  containers: [{name: report, image: "ghcr.io/example/report:1.0.0"}]
    """,
}

_DEPLOYMENT_DONE = {"observedGeneration": 1, "conditions": [
    {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
    {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}


def _status_for(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The status a controller would have written, per demo object."""
    kind, name = obj["kind"], obj["metadata"]["name"]
    if kind == "Deployment":
        want = obj["spec"]["replicas"]
        if name == "api":  # one of three pods updated: rollout in progress
            return {"observedGeneration": 1, "replicas": want, "updatedReplicas": 1, "readyReplicas": 1,
                    "availableReplicas": 1, "conditions": [
                        {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
                         "message": 'ReplicaSet "api-7c9f" is progressing.'}]}
        return {**_DEPLOYMENT_DONE, "replicas": want, "updatedReplicas": want, "readyReplicas": want,
                "availableReplicas": want}
    if kind == "Pod":
        return {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{
                    "name": "worker", "ready": False, "restartCount": 17, "image": "ghcr.io/example/worker:0.9.0",
                    "imageID": "", "started": False,
                    "state": {"waiting": {"reason": "CrashLoopBackOff",
                                          "message": "back-off 5m0s restarting failed container=worker "
                                                     "pod=worker_demo(5d2a)"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}
    if kind == "Service":
        return {"loadBalancer": {}}
    if kind == "CronJob":
        return {}
    return None


def _documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(textwrap.dedent(text)) if d]


def make_repo(root: Path) -> Path:
    """A real Git repository with one directory per app."""
    repo = root / "gitops-repo"
    for app, text in APPS.items():
        (repo / "apps" / app).mkdir(parents=True, exist_ok=True)
        (repo / "apps" / app / "manifests.yaml").write_text(textwrap.dedent(text).lstrip())
    env = {**os.environ, "GIT_AUTHOR_NAME": "Demo", "GIT_AUTHOR_EMAIL": "demo@example.invalid",
           "GIT_COMMITTER_NAME": "Demo", "GIT_COMMITTER_EMAIL": "demo@example.invalid"}
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                ["git", "commit", "-q", "-m", "Demo apps"]):
        subprocess.run(cmd, cwd=repo, check=True, env=env, capture_output=True)
    return repo


def live_objects() -> Iterable[tuple[dict[str, Any], str]]:
    """(object, field manager) pairs to stage in the simulated cluster."""
    for app, text in APPS.items():
        for doc in _documents(text):
            if app == "cache" and doc["kind"] == "Service":
                continue  # never applied: the app is Missing
            live = copy.deepcopy(doc)
            live["metadata"]["namespace"] = NS
            live["metadata"].setdefault("labels", {})["app.kubernetes.io/instance"] = app
            status = _status_for(live)
            if status is not None:
                live["status"] = status
            yield live, "kubectl-client-side-apply"


def write_config(root: Path, repo: Path, kubeconfig: str, *, argocd_metrics: bool = False) -> Path:
    config: dict[str, Any] = {
        "clusters": [{"name": "demo", "kubeconfig": kubeconfig, "context": "sim"}],
        "interval": "30s",
        "gitPollInterval": "30s",
        # Unknown: an app whose Git path is not in the repository (a typo, or a directory not merged yet).
        "apps": [{
            "name": "billing",
            "project": "demo",
            "labels": {"team": "billing"},
            "source": {"repoURL": f"file://{repo}", "targetRevision": "main", "path": "apps/billing"},
            "destination": {"cluster": "demo", "namespace": NS},
        }],
        "appGenerators": [{
            "git": {"repoURL": f"file://{repo}", "revision": "main", "directories": [{"path": "apps/*"}]},
            "template": {
                "name": "{{path.basename}}",
                "project": "demo",
                "labels": {"team": "{{path.basename}}"},  # the status page's label filter suggests team=payments
                "source": {"repoURL": f"file://{repo}", "targetRevision": "main", "path": "{{path}}",
                           "type": "directory"},
                "destination": {"cluster": "demo", "namespace": NS},
            },
        }],
    }
    if argocd_metrics:
        config["metrics"] = {"argocdAppInfo": True}
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


async def stage(sim: Any) -> None:
    """Put the demo's live objects into the simulated cluster ``sim``."""
    for obj, manager in live_objects():
        sim.apply(obj, manager=manager)
    # A hand edit: the change a `kubectl edit` leaves behind, attributed to that manager.
    sim.patch(ObjectKey("", "ConfigMap", NS, "payments-config"), {"data": {"TIMEOUT": "90s"}}, manager="kubectl-edit")


async def run_demo(host: str, port: int, *, duration: float | None = None, argocd_metrics: bool = False) -> int:
    from exporter.wiring import UsageError, run_agent
    try:
        from exporter.simulator import SimulatedCluster
    except ModuleNotFoundError as exc:
        raise UsageError(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="gitops-demo-") as tmp:
        root = Path(tmp)
        repo = await asyncio.get_running_loop().run_in_executor(None, make_repo, root)
        async with SimulatedCluster() as sim:
            await stage(sim)
            kubeconfig = sim.write_kubeconfig(str(root / "kubeconfig"), context="sim")
            config = write_config(root, repo, kubeconfig, argocd_metrics=argocd_metrics)
            shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
            banner = textwrap.dedent(f"""
                gitops-drift-exporter demo is running.
                  status page   http://{shown}:{port}/
                  metrics       http://{shown}:{port}/metrics
                  API           http://{shown}:{port}/api/v1/apps
                  one app       http://{shown}:{port}/api/v1/apps/payments/diff
                Git repository  {repo}
                Config          {config}
                Simulated API   {sim.url}
                Expect: web Healthy, payments OutOfSync (live edit), worker Degraded (crash loop),
                        cache Missing, api Progressing, reports Suspended, billing Unknown (its Git
                        path is missing). Ctrl-C stops.
            """)
            return await run_agent(str(config), host, port, cache_dir=str(root / "cache"), banner=banner,
                                   duration=duration)
