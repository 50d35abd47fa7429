"""The cluster probe: a server that stops answering, or a list no longer allowed, makes the
informers stale within the bound although their watches say nothing; recovery goes through a
fresh list. Through the fault-injecting proxy in front of the simulated cluster, with the bound
on a fake clock (the probe's own deadline is a real, short one)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fault_proxy import FaultProxy
from kube_support import configmap, eventually
from test_kube_staleness import CONFIGMAPS, StaleLog, let_run

from exporter.clock import FakeClock
from exporter.kube.cache import LiveCache
from exporter.kube.client import KubeClient
from exporter.kube.errors import Forbidden, Unreachable
from exporter.kube.probing import MAX_LISTS_PER_ROUND, ClusterProbe, plan
from exporter.model import ObjectKey
from exporter.simulator import SimulatedCluster

STALE_AFTER = 1.5  # a probe period of 1 s, a deadline of 0.8 s


@pytest.fixture
async def watched(proxied: KubeClient) -> AsyncIterator[tuple[LiveCache, ClusterProbe, StaleLog]]:
    clock = FakeClock()
    told = StaleLog(clock)
    cache = LiveCache(proxied, on_stale=told, clock=clock, watch_timeout=30.0, silence=30.0,
                      stale_after=STALE_AFTER)
    await cache.ensure(CONFIGMAPS)
    yield cache, ClusterProbe(proxied, cache, clock, STALE_AFTER), told
    await cache.close()


def test_the_period_is_a_third_of_the_bound_and_every_scope_is_listed_within_it_as_the_budget_allows() -> None:
    assert plan(30.0, 1) == plan(30.0, 1).__class__(period=10.0, timeout=8.0, lists=1)
    assert (plan(1.5, 0).period, plan(600, 0).period) == (1.0, 30.0)
    assert plan(10.0, 40).lists == MAX_LISTS_PER_ROUND
    assert plan(10.0, 16).requests_per_minute() == pytest.approx(54.0)
    assert plan(30.0, 16).requests_per_minute() == pytest.approx(18.0)


async def test_a_server_that_stops_answering_is_stale_from_its_last_answer_and_a_list_brings_it_back(
        sim: SimulatedCluster, proxy: FaultProxy, watched: tuple[LiveCache, ClusterProbe, StaleLog]) -> None:
    cache, probe, told = watched
    informer = cache.informers[0]
    await probe.round()
    answered_at = probe.last_ok
    proxy.hold()  # new requests hang; the open watch stays open and quiet
    await probe.round()  # the readiness read runs out of its real 0.8 s deadline
    assert isinstance(informer.suspected, Unreachable) and "/readyz did not answer within 0.8s" in str(
        informer.suspected)
    assert told.calls == [] and informer.error_since == answered_at
    assert await let_run(probe.clock, STALE_AFTER + 0.2, until=lambda: bool(told.calls))
    assert told.calls[0][1] is True and answered_at + STALE_AFTER <= told.calls[0][0] < answered_at + STALE_AFTER + 0.2

    sim.apply(configmap("made-while-quiet"))
    proxy.release()
    await probe.round()
    await eventually(lambda: len(told.calls) == 2, what="the recovery")
    assert told.calls[1][1] is False and informer.error is None and informer.suspected is None
    assert cache.get(ObjectKey("", "ConfigMap", "default", "made-while-quiet")) is not None


async def test_a_list_no_longer_allowed_is_stale_from_the_last_allowed_list_and_returns_when_allowed(
        proxy: FaultProxy, watched: tuple[LiveCache, ClusterProbe, StaleLog]) -> None:
    cache, probe, told = watched
    informer = cache.informers[0]
    await probe.round()
    allowed_at = probe.allowed_at[informer.scope]
    proxy.mode, proxy.status = "status", 403  # every new request refused; the open watch streams on
    probe.clock.advance(0.5)
    await probe.round()
    assert isinstance(informer.suspected, Forbidden) and informer.error_since == allowed_at
    assert await let_run(probe.clock, STALE_AFTER + 0.2, until=lambda: bool(told.calls))
    assert told.calls[0][1] is True
    proxy.mode = "pass"
    await probe.round()
    await eventually(lambda: len(told.calls) == 2, what="the recovery")
    assert told.calls[1][1] is False and informer.suspected is None


async def test_a_cluster_that_hides_readyz_is_not_taken_for_a_dead_one(
        proxy: FaultProxy, watched: tuple[LiveCache, ClusterProbe, StaleLog]) -> None:
    cache, probe, told = watched
    proxy.mode, proxy.status = "status", 404
    for _ in range(3):
        await probe.round()
        probe.clock.advance(1.0)
    await asyncio.sleep(0.05)
    assert probe.down is None and cache.informers[0].suspected is None and told.calls == []
