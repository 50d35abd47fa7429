"""Real third-party charts (``../shared/real-charts``) on the real API server: applied the way users
apply them, and checked by the agent both as a Helm app and as a directory of their rendered YAML.

Each chart is released as its own name in a namespace of its own name, as its ``rendered.yaml``
was made. Objects a 1.24 server refuses by one apply mode (CRDs too big for the last-applied
annotation, CRDs with fields 1.24 does not know under server-side apply) are created with
``kubectl create --validate=false``, which is what users do on 1.24.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml
from control_plane import ControlPlane

from exporter.model import AppStatus
from exporter.wiring import build_agent, load_config

SHARED = Path(__file__).resolve().parents[3] / "shared" / "real-charts"
GIT_ENV = {"GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com", "GIT_COMMITTER_NAME": "Dev",
           "GIT_COMMITTER_EMAIL": "dev@example.com", "PATH": "/usr/bin:/bin"}


def chart_names() -> list[str]:
    if not SHARED.is_dir():
        return []
    return sorted(p.name for p in SHARED.iterdir() if (p / "rendered.yaml").is_file())


def _documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]


def _dump(docs: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False)


def apply_chart(plane: ControlPlane, name: str, server_side: bool) -> list[str]:
    """Apply ``name``'s rendered manifests; return what had to be created instead of applied."""
    plane.kubectl("create", "namespace", name, check=False)
    plane.kubectl("create", "serviceaccount", "default", "-n", name, check=False)
    docs = _documents((SHARED / name / "rendered.yaml").read_text())
    crds = [d for d in docs if d.get("kind") == "CustomResourceDefinition"]
    rest = [d for d in docs if d.get("kind") != "CustomResourceDefinition"]
    mode = ["--server-side", "--force-conflicts"] if server_side else []
    created: list[str] = []
    for batch in (crds, rest):
        if not batch:
            continue
        plane.kubectl("apply", *mode, "--validate=false", "-f", "-", input=_dump(batch), check=False)
        if batch is crds:
            plane.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all", check=False)
        found = plane.kubectl("get", "--ignore-not-found", "-o", "name", "-f", "-", input=_dump(batch), check=False)
        everything = len(found.split()) == len(batch)
        missing = [] if everything else [d for d in batch if not _exists(plane, d)]
        if missing:
            plane.kubectl("create", "--validate=false", "-f", "-", input=_dump(missing), check=False)
            created += [f"{d['kind']}/{d['metadata']['name']}" for d in missing]
    return created


def _exists(plane: ControlPlane, doc: dict[str, Any]) -> bool:
    out = plane.kubectl("get", "--ignore-not-found", "-o", "name", "-f", "-", input=_dump([doc]), check=False)
    return bool(out.strip())


def make_repo(work: Path) -> Path:
    """One Git repository holding every chart (as a chart and as its rendered YAML)."""
    repo = work / "charts-repo"
    repo.mkdir()
    for name in chart_names():
        shutil.copytree(SHARED / name / "chart", repo / name / "chart", symlinks=True)
        shutil.copy(SHARED / name / "values.yaml", repo / name / "values.yaml")
        (repo / name / "rendered").mkdir()
        shutil.copy(SHARED / name / "rendered.yaml", repo / name / "rendered" / "rendered.yaml")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "charts"]):
        subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True)
    return repo


def write_charts_config(plane: ControlPlane, repo: Path, work: Path) -> Path:
    """A config with every chart as a Helm app (``<chart>-helm``) and as a directory app of its
    rendered YAML (``<chart>-rendered``), reading the cluster with the agent's identity."""
    apps = []
    for name in chart_names():
        destination = {"cluster": "real", "namespace": name}
        apps.append({"name": f"{name}-helm", "destination": destination,
                     "source": {"repoURL": f"file://{repo}", "targetRevision": "main", "path": f"{name}/chart",
                                "helm": {"releaseName": name, "valueFiles": ["../values.yaml"]}}})
        apps.append({"name": f"{name}-rendered", "destination": destination,
                     "source": {"repoURL": f"file://{repo}", "targetRevision": "main",
                                "path": f"{name}/rendered"}})
    config = work / "config.yaml"
    config.write_text(yaml.safe_dump({
        "clusters": [{"name": "real", "kubeconfig": str(plane.agent_kubeconfig)}],
        "cacheDir": str(work / "cache"), "renderTimeout": "120s", "apps": apps}))
    return config


async def evaluate_charts(plane: ControlPlane, repo: Path) -> dict[tuple[str, str], AppStatus]:
    """Every chart as a Helm app and as a directory app, evaluated once by the agent."""
    work = Path(tempfile.mkdtemp(prefix="charts-agent-"))
    agent = build_agent(load_config(str(write_charts_config(plane, repo, work))))
    try:
        await agent.start(watch=False)
        snapshot = agent.snapshot()
        return {(name.rsplit("-", 1)[0], name.rsplit("-", 1)[1]): status for name, (_, status) in snapshot.items()}
    finally:
        await agent.close()
        shutil.rmtree(work, ignore_errors=True)
