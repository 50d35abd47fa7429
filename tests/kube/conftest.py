"""Fixtures for the Kubernetes tests: a simulated cluster on loopback and a client reading it,
directly or through a fault-injecting proxy."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import pytest
from fault_proxy import FaultProxy, rewrite_kubeconfig

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


@pytest.fixture
async def proxy(sim: SimulatedCluster) -> AsyncIterator[FaultProxy]:
    p = await FaultProxy(sim.url).start()
    yield p
    await p.close()


@pytest.fixture
async def proxied(proxy: FaultProxy, sim: SimulatedCluster, tmp_path: pathlib.Path) -> AsyncIterator[KubeClient]:
    path = rewrite_kubeconfig(sim.write_kubeconfig(str(tmp_path / "kubeconfig")), proxy.url)
    kube = await KubeClient.connect(ClusterConfig(name="sim", kubeconfig=path, context="sim"))
    yield kube
    await kube.close()
