"""End-to-end fixtures: a real Git repository, a simulated API server over real HTTP, a config file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e_support import GitRepo

from exporter.simulator import SimulatedCluster


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
