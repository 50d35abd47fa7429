"""Blind means Unknown: an informer that cannot follow its objects says so at once, and retries
the way the API server asks, through a fault-injecting proxy in front of the simulated cluster.

The staleness bound and the retry backoff wait on the informer's clock, so these tests move a
fake clock through seconds of outage instead of living through them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fault_proxy import FaultProxy
from kube_support import configmap, eventually

from exporter.clock import FakeClock
from exporter.kube.cache import HEALTHY_AFTER, Informer, LiveCache
from exporter.kube.client import KubeClient, ResourceInfo
from exporter.kube.errors import WatchSilent
from exporter.model import ObjectKey
from exporter.simulator import SimulatedCluster

CONFIGMAPS = ResourceInfo("", "v1", "ConfigMap", "configmaps", True)


class StaleLog:
    """What ``on_stale`` was told, with when on the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[tuple[float, bool]] = []

    def __call__(self, _informer: Informer, stale: bool) -> None:
        self.calls.append((self.clock.now(), stale))


async def make_cache(client: KubeClient, told: StaleLog, **options: float) -> LiveCache:
    settings = {"watch_timeout": 30.0, "silence": 1.0, "stale_after": 1.0, "backoff_base": 0.5,
                "backoff_cap": 10.0, **options}
    cache = LiveCache(client, on_stale=told, clock=told.clock, **settings)
    await cache.ensure(CONFIGMAPS)
    return cache


async def let_run(clock: FakeClock, seconds: float, step: float = 0.1,
                  until: Callable[[], bool] | None = None) -> bool:
    """Move ``clock`` on by ``seconds`` in ``step``s, giving the informer's I/O a moment of real time
    at each; stop early once ``until()`` holds. Whether it held."""
    moved = 0.0
    while moved < seconds - 1e-9:
        if until is not None and until():
            return True
        clock.advance(step)
        moved += step
        await asyncio.sleep(0.005)
    return until is not None and until()


async def test_a_server_that_goes_down_makes_the_informer_stale_at_the_bound_and_recovery_relists(
        sim: SimulatedCluster, proxy: FaultProxy, proxied: KubeClient) -> None:
    clock = FakeClock()
    told = StaleLog(clock)
    cache = await make_cache(proxied, told, stale_after=1.5, backoff_cap=1.0)
    informer = cache.informers[0]
    try:
        await proxy.go_down()
        await eventually(lambda: informer.error is not None, what="the failure to be seen")
        down_at = clock.now()
        await let_run(clock, 1.4)
        assert told.calls == []  # within the bound: not yet Unknown
        assert await let_run(clock, 1.0, until=lambda: bool(told.calls)), "staleness never reported"
        assert told.calls[0][1] is True and 1.5 <= told.calls[0][0] - down_at < 1.7
        assert informer.stale
        sim.apply(configmap("made-while-down"))
        await proxy.come_back()
        back_at = clock.now()
        assert await let_run(clock, 5.0, until=lambda: len(told.calls) == 2), "recovery never reported"
        assert told.calls[1][1] is False and told.calls[1][0] - back_at <= 1.1  # within one capped backoff
        assert cache.get(ObjectKey("", "ConfigMap", "default", "made-while-down")) is not None
    finally:
        await cache.close()


async def test_a_watch_that_stays_open_but_silent_is_stale(sim: SimulatedCluster, proxy: FaultProxy,
                                                          proxied: KubeClient) -> None:
    clock = FakeClock()
    told = StaleLog(clock)
    cache = await make_cache(proxied, told, watch_timeout=1.0, silence=0.25, stale_after=2.0)
    informer = cache.informers[0]
    try:
        await eventually(lambda: proxy.watches(), what="the first watch")
        proxy.mode = "silent"
        # Silence is a read timeout (the server's watch timeout, one real second, and a quarter more),
        # not a decision: the bound then counts on the informer's clock from the stream's last byte.
        await eventually(lambda: informer.error is not None, within=5, what="the silence to be noticed")
        assert isinstance(informer.error, WatchSilent)
        assert await let_run(clock, 1.5, until=lambda: bool(told.calls)), "silence never reported"
        assert told.calls[0][1] is True  # not the 330 s a stalled stream used to be waited on
        proxy.mode = "pass"
        proxy.cut()
        assert await let_run(clock, 12.0, step=0.5, until=lambda: len(told.calls) == 2), "recovery never reported"
    finally:
        await cache.close()


async def test_a_watch_answered_with_410_backs_off_instead_of_looping(sim: SimulatedCluster, proxy: FaultProxy,
                                                                      proxied: KubeClient) -> None:
    clock = FakeClock()
    cache = await make_cache(proxied, StaleLog(clock))
    try:
        await eventually(lambda: proxy.watches(), what="the first watch")
        proxy.mode = "expired"
        before = len(proxy.requests)
        proxy.cut()
        await let_run(clock, 3.0, step=0.2)
        attempts = len(proxy.requests) - before
        assert 2 <= attempts <= 16  # backing off, still trying; a tight loop made over a thousand a second
    finally:
        await cache.close()


async def test_retry_after_is_honoured(sim: SimulatedCluster, proxy: FaultProxy, proxied: KubeClient) -> None:
    clock = FakeClock()
    cache = await make_cache(proxied, StaleLog(clock), stale_after=30.0)
    try:
        await eventually(lambda: proxy.watches(), what="the first watch")
        proxy.mode, proxy.status, proxy.retry_after = "status", 429, 1
        seen, times = len(proxy.requests), []
        proxy.cut()
        for _ in range(35):  # three and a half seconds on the informer's clock
            clock.advance(0.1)
            await asyncio.sleep(0.005)
            if len(proxy.requests) > seen:
                seen = len(proxy.requests)
                times.append(clock.now())
        assert len(times) >= 2
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert min(gaps) >= 0.9, gaps  # the backoff alone would retry after 0.25 to 0.5 s
    finally:
        await cache.close()


async def test_after_a_healthy_stretch_a_dropped_watch_is_retried_at_once(
        sim: SimulatedCluster, proxy: FaultProxy, proxied: KubeClient) -> None:
    clock = FakeClock()
    cache = await make_cache(proxied, StaleLog(clock), stale_after=30.0, backoff_cap=30.0)
    informer = cache.informers[0]
    try:
        await eventually(lambda: proxy.watches(), what="the first watch")
        proxy.mode, proxy.status = "status", 500
        proxy.cut()
        await let_run(clock, 6.0, step=0.25)  # several failed attempts: the backoff has grown to seconds
        proxy.mode = "pass"
        assert await let_run(clock, 40.0, step=0.5, until=lambda: informer.error is None), "outage never ended"
        await eventually(lambda: bool(proxy.watches(since=0)) and proxy.open_streams() > 0, what="a watch again")
        clock.advance(HEALTHY_AFTER)  # the watch has been up for a healthy stretch
        proxy.cut()
        sim.apply(configmap("after-the-cut"))
        followed = await let_run(clock, 0.6, until=lambda: cache.get(
            ObjectKey("", "ConfigMap", "default", "after-the-cut")) is not None)
        assert followed  # the first retry's half-second backoff, not the outage's grown one
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
