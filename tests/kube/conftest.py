"""Fixtures for the Kubernetes tests: a simulated cluster on loopback and a client reading it."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import pytest

from exporter.config_types import ClusterConfig
from exporter.kube.client import KubeClient
from exporter.simulator import SimulatedCluster


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedCluster]:
    async with SimulatedCluster(bookmark_interval=0.2) as cluster:
        yield cluster
        assert cluster.write_attempts == 0, f"the agent sent writes: {cluster.write_requests}"


@pytest.fixture
async def client(sim: SimulatedCluster, tmp_path: pathlib.Path) -> AsyncIterator[KubeClient]:
    path = sim.write_kubeconfig(str(tmp_path / "kubeconfig"))
    kube = await KubeClient.connect(ClusterConfig(name="sim", kubeconfig=path, context="sim"),
                                    discovery_refresh=0.0)
    yield kube
    await kube.close()
