"""Blind means Unknown: an informer that cannot follow its objects says so at once, and retries
the way the API server asks, through a fault-injecting proxy in front of the simulated cluster."""

from __future__ import annotations

import asyncio
import pathlib
import time
from collections.abc import AsyncIterator

import pytest
from fault_proxy import FaultProxy, rewrite_kubeconfig
from kube_support import configmap, eventually

from exporter.clock import FakeClock
from exporter.config_types import ClusterConfig
from exporter.kube.cache import Informer, LiveCache
from exporter.kube.client import KubeClient, ResourceInfo
from exporter.kube.errors import WatchSilent
from exporter.model import ObjectKey
from exporter.simulator import SimulatedCluster

CONFIGMAPS = ResourceInfo("", "v1", "ConfigMap", "configmaps", True)


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


class StaleLog:
    def __init__(self) -> None:
        self.calls: list[tuple[float, bool]] = []

    def __call__(self, _informer: Informer, stale: bool) -> None:
        self.calls.append((time.monotonic(), stale))


async def make_cache(client: KubeClient, told: StaleLog, **options: float) -> LiveCache:
    settings = {"watch_timeout": 30.0, "silence": 1.0, "stale_after": 1.0, "backoff_base": 0.5,
                "backoff_cap": 10.0, **options}
    cache = LiveCache(client, on_stale=told, **settings)
    await cache.ensure(CONFIGMAPS)
    return cache


async def test_a_server_that_goes_down_makes_the_informer_stale_at_the_bound_and_recovery_relists(
        sim: SimulatedCluster, proxy: FaultProxy, proxied: KubeClient) -> None:
    told = StaleLog()
    cache = await make_cache(proxied, told, stale_after=1.5, backoff_cap=1.0)
    try:
        down_at = time.monotonic()
        await proxy.go_down()
        await eventually(lambda: told.calls, within=5, what="staleness to be reported")
        assert told.calls[0][1] is True
        assert 1.4 <= told.calls[0][0] - down_at < 3.5
        assert cache.informers[0].stale
        sim.apply(configmap("made-while-down"))
        await proxy.come_back()
        back_at = time.monotonic()
        await eventually(lambda: len(told.calls) == 2, within=5, what="recovery to be reported")
        assert told.calls[1][1] is False and told.calls[1][0] - back_at < 2.5
        assert cache.get(ObjectKey("", "ConfigMap", "default", "made-while-down")) is not None
    finally:
        await cache.close()


async def test_a_watch_that_stays_open_but_silent_is_stale(sim: SimulatedCluster, proxy: FaultProxy,
                                                          proxied: KubeClient) -> None:
    told = StaleLog()
    cache = await make_cache(proxied, told, watch_timeout=1.0, silence=1.0, stale_after=2.0)
    try:
        await eventually(lambda: proxy.watches(), what="the first watch")
        silent_at = time.monotonic()
        proxy.mode = "silent"
        await eventually(lambda: told.calls, within=8, what="silence to be reported")
        assert told.calls[0][1] is True
        assert told.calls[0][0] - silent_at < 5.5  # not the 330 s a stalled stream used to be waited on
        assert isinstance(cache.informers[0].error, WatchSilent)
        proxy.mode = "pass"
        proxy.cut()
        await eventually(lambda: len(told.calls) == 2, within=8, what="recovery")
    finally:
        await cache.close()


async def test_a_watch_answered_with_410_backs_off_instead_of_looping(sim: SimulatedCluster, proxy: FaultProxy,
                                                                      proxied: KubeClient) -> None:
    cache = await make_cache(proxied, StaleLog())
    try:
        await eventually(lambda: proxy.watches(), what="the first watch")
        proxy.mode = "expired"
        proxy.cut()
        start = time.monotonic()
        await asyncio.sleep(3)
        assert len(proxy.watches(since=start)) <= 8  # a tight loop made over a thousand a second
    finally:
        await cache.close()


async def test_retry_after_is_honoured(sim: SimulatedCluster, proxy: FaultProxy, proxied: KubeClient) -> None:
    cache = await make_cache(proxied, StaleLog(), stale_after=30.0)
    try:
        await eventually(lambda: proxy.watches(), what="the first watch")
        proxy.mode, proxy.status, proxy.retry_after = "status", 429, 2
        start = time.monotonic()
        proxy.cut()
        await asyncio.sleep(5)
        times = [t for t, _, _ in proxy.requests if t >= start]
        assert len(times) >= 2
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert min(gaps) >= 1.9, gaps
    finally:
        await cache.close()


async def test_after_a_healthy_stretch_a_dropped_watch_is_retried_at_once(
        sim: SimulatedCluster, proxy: FaultProxy, proxied: KubeClient) -> None:
    cache = await make_cache(proxied, StaleLog(), stale_after=30.0, backoff_cap=30.0)
    try:
        await eventually(lambda: proxy.watches(), what="the first watch")
        proxy.mode, proxy.status = "status", 500
        proxy.cut()
        await asyncio.sleep(4)  # several failed attempts: the backoff has grown to seconds
        proxy.mode = "pass"
        await eventually(lambda: cache.informers[0].error is None, within=20, what="the outage to end")
        await asyncio.sleep(1.5)  # the watch delivers bookmarks: healthy
        proxy.cut()
        sim.apply(configmap("after-the-cut"))
        cut_at = time.monotonic()
        await eventually(lambda: cache.get(ObjectKey("", "ConfigMap", "default", "after-the-cut")) is not None,
                         within=10, what="the cache to follow again")
        assert time.monotonic() - cut_at < 1.5
    finally:
        await cache.close()


async def test_staleness_is_judged_on_the_injected_clock(sim: SimulatedCluster, proxy: FaultProxy,
                                                         proxied: KubeClient) -> None:
    clock = FakeClock()
    cache = LiveCache(proxied, stale_after=30.0, watch_timeout=30.0, silence=30.0, backoff_base=0.05,
                      backoff_cap=0.1, clock=clock)
    await cache.ensure(CONFIGMAPS)
    try:
        await proxy.go_down()
        informer = cache.informers[0]
        await eventually(lambda: informer.error is not None, within=5, what="the failure to be seen")
        assert informer.error_since == clock.now() and not informer.stale
        clock.advance(29.0)
        assert not informer.stale  # a blip within the bound is not Unknown
        clock.advance(1.0)
        assert informer.stale  # thirty seconds on the agent's clock, not thirty seconds of waiting
    finally:
        await cache.close()
