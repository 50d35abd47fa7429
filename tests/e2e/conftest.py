"""End-to-end fixtures: a real Git repository, a simulated API server over real HTTP, a config file."""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.kube.sim import SimulatedCluster

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}


class GitRepo:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")

    @property
    def url(self) -> str:
        return f"file://{self.path}"

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.path, env=GIT_ENV, check=True,
                              capture_output=True, text=True).stdout.strip()

    def commit(self, files: dict[str, str | None], message: str = "change") -> str:
        for name, text in files.items():
            target = self.path / name
            if text is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(text).lstrip())
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "gitops")


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedCluster]:
    async with SimulatedCluster() as cluster:
        yield cluster
    assert cluster.write_attempts == 0, f"the agent tried to write: {cluster.write_requests}"


@pytest.fixture
def write_config(tmp_path: Path, sim: SimulatedCluster) -> Callable[..., str]:
    """Write a config for apps ``{name: path or source mapping}`` against the simulated cluster."""
    kubeconfig = sim.write_kubeconfig(str(tmp_path / "kubeconfig"))

    def write(apps: dict[str, Any], repo_url: str, **extra: Any) -> str:
        doc: dict[str, Any] = {
            "clusters": [{"name": "sim", "kubeconfig": kubeconfig, "context": "sim"}],
            "cacheDir": str(tmp_path / "cache"),
            "apps": [],
            **extra,
        }
        for name, spec in apps.items():
            source = {"repoURL": repo_url, "targetRevision": "main", "path": spec} if isinstance(spec, str) \
                else {"repoURL": repo_url, "targetRevision": "main", **spec}
            doc["apps"].append({"name": name, "source": source,
                                "destination": {"cluster": "sim", "namespace": "prod"}})
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return str(path)

    return write


def live(text: str, *, namespace: str = "prod", status: dict[str, Any] | None = None,
         app: str | None = None) -> dict[str, Any]:
    """A live object as a controller would leave it: Git's manifest plus namespace, status, mark."""
    obj = yaml.safe_load(textwrap.dedent(text))
    obj["metadata"].setdefault("namespace", namespace)
    if app:
        obj["metadata"].setdefault("labels", {})["app.kubernetes.io/instance"] = app
    if status is not None:
        obj["status"] = status
    return obj
