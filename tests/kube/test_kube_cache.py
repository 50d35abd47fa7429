"""The live cache lists, then follows changes, and recovers from dropped and expired watches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from kube_support import configmap, eventually

from exporter.backoff import jittered
from exporter.instruments import WATCH_RESTARTS_TOTAL
from exporter.kube.cache import LiveCache
from exporter.kube.client import KubeClient, ResourceInfo
from exporter.kube.errors import Forbidden, KubeError
from exporter.model import ObjectKey
from exporter.simulator import SimulatedCluster

CONFIGMAPS = ResourceInfo("", "v1", "ConfigMap", "configmaps", True)
DEPLOYMENTS = ResourceInfo("apps", "v1", "Deployment", "deployments", True)


def key(name: str, namespace: str = "default") -> ObjectKey:
    return ObjectKey("", "ConfigMap", namespace, name)


class Recorder:
    """Collects what the cache reports, as the agent's change handler would see it."""

    def __init__(self) -> None:
        self.events: list[tuple[ObjectKey, dict[str, Any] | None]] = []

    def __call__(self, k: ObjectKey, obj: dict[str, Any] | None) -> None:
        self.events.append((k, obj))

    def data(self, k: ObjectKey) -> list[Any]:
        return [None if obj is None else obj.get("data") for ek, obj in self.events if ek == k]


def restarts(reason: str, resource: str = "configmaps") -> float:
    return WATCH_RESTARTS_TOTAL.labels("sim", resource, reason)._value.get()


@pytest.fixture
def seen() -> Recorder:
    return Recorder()


@pytest.fixture
async def cache(client: KubeClient, seen: Recorder) -> AsyncIterator[LiveCache]:
    live = LiveCache(client, seen, backoff_base=0.05, backoff_cap=0.2)
    yield live
    await live.close()


async def test_the_first_list_fills_the_cache_without_events(sim: SimulatedCluster, cache: LiveCache,
                                                             seen: Recorder) -> None:
    sim.apply(configmap("a", a="1"))
    sim.apply(configmap("b", "other"))
    assert cache.synced
    await cache.ensure(CONFIGMAPS)
    assert cache.synced
    assert cache.get(key("a"))["data"] == {"a": "1"}  # type: ignore[index]
    assert sorted(o["metadata"]["name"] for o in cache.objects("", "ConfigMap")) == ["a", "b"]
    assert cache.get(key("absent")) is None
    assert seen.events == []


async def test_apply_patch_and_delete_reach_on_event_and_get(sim: SimulatedCluster, cache: LiveCache,
                                                             seen: Recorder) -> None:
    await cache.ensure(CONFIGMAPS)
    sim.apply(configmap("a", a="1"))
    await eventually(lambda: cache.get(key("a")) is not None, what="the new object")
    sim.patch(key("a"), {"data": {"a": "2"}})
    await eventually(lambda: (cache.get(key("a")) or {}).get("data") == {"a": "2"}, what="the patch")
    sim.delete("", "ConfigMap", "default", "a")
    await eventually(lambda: cache.get(key("a")) is None, what="the deletion")
    assert seen.data(key("a")) == [{"a": "1"}, {"a": "2"}, None]


async def test_after_410_the_cache_relists_and_reports_what_it_missed(sim: SimulatedCluster, cache: LiveCache,
                                                                      seen: Recorder) -> None:
    sim.apply(configmap("stays", a="1"))
    sim.apply(configmap("changes", a="1"))
    sim.apply(configmap("goes", a="1"))
    await cache.ensure(CONFIGMAPS)
    await eventually(lambda: sim.open_watches == 1, what="the watch to open")
    expired = restarts("expired")
    # Cut the stream, change things while no watch is open, and forget that history.
    sim.drop_watches()
    sim.patch(key("changes"), {"data": {"a": "2"}})
    sim.delete("", "ConfigMap", "default", "goes")
    sim.apply(configmap("new", a="1"))
    sim.compact()
    await eventually(lambda: cache.get(key("goes")) is None and cache.get(key("new")) is not None,
                     what="the relist")
    assert restarts("expired") == expired + 1
    assert cache.get(key("changes"))["data"] == {"a": "2"}  # type: ignore[index]
    assert sorted((str(k), obj is None) for k, obj in seen.events) == [
        ("ConfigMap default/changes", False), ("ConfigMap default/goes", True), ("ConfigMap default/new", False)]
    sim.apply(configmap("after", a="1"))
    await eventually(lambda: cache.get(key("after")) is not None, what="events after the relist")


async def test_an_expired_error_event_mid_stream_makes_the_cache_relist(sim: SimulatedCluster,
                                                                        cache: LiveCache) -> None:
    await cache.ensure(CONFIGMAPS)
    await eventually(lambda: sim.open_watches == 1, what="the watch to open")
    expired = restarts("expired")
    sim.drop_watches(expired=True)
    await eventually(lambda: restarts("expired") == expired + 1, what="the expiry to be counted")
    sim.apply(configmap("after-relist"))
    await eventually(lambda: cache.get(key("after-relist")) is not None, what="the cache to follow again")


async def test_a_dropped_watch_is_reestablished(sim: SimulatedCluster, cache: LiveCache) -> None:
    await cache.ensure(CONFIGMAPS)
    await eventually(lambda: sim.open_watches == 1, what="the watch to open")
    closed = restarts("closed")
    sim.drop_watches()
    await eventually(lambda: restarts("closed") == closed + 1, what="the restart to be counted")
    await eventually(lambda: sim.open_watches == 1, what="the watch to reopen")
    sim.apply(configmap("later"))
    await eventually(lambda: cache.get(key("later")) is not None, what="a change after the reconnect")



async def test_an_api_server_outage_is_ridden_out_and_the_cache_catches_up(sim: SimulatedCluster,
                                                                           cache: LiveCache) -> None:
    sim.apply(configmap("before"))
    await cache.ensure(CONFIGMAPS)
    await eventually(lambda: sim.open_watches == 1, what="the watch to open")
    errors = restarts("error")
    assert cache.error is None
    await sim.stop()
    await eventually(lambda: restarts("error") >= errors + 2, what="failed reconnects to be counted")
    assert cache.error is not None and str(cache.error).startswith("cluster sim unreachable: ")
    sim.apply(configmap("during-outage"))
    sim.delete("", "ConfigMap", "default", "before")
    await sim.start()
    await eventually(lambda: cache.get(key("during-outage")) is not None and cache.get(key("before")) is None,
                     what="the cache to catch up after the outage")
    assert cache.synced and cache.error is None

async def test_a_label_selector_informer_keeps_only_matching_objects(sim: SimulatedCluster, cache: LiveCache,
                                                                     seen: Recorder) -> None:
    sim.apply(configmap("tracked", labels={"app.kubernetes.io/instance": "shop"}))
    sim.apply(configmap("untracked"))
    await cache.ensure(CONFIGMAPS, label_selector="app.kubernetes.io/instance")
    assert [o["metadata"]["name"] for o in cache.objects("", "ConfigMap")] == ["tracked"]
    sim.patch(key("untracked"), {"metadata": {"labels": {"app.kubernetes.io/instance": "shop"}}})
    await eventually(lambda: cache.get(key("untracked")) is not None, what="the newly labelled object")
    sim.patch(key("tracked"), {"metadata": {"labels": None}})
    await eventually(lambda: cache.get(key("tracked")) is None, what="the object that lost its label")
    assert seen.events[-1] == (key("tracked"), None)


async def test_a_forbidden_first_list_raises_and_keeps_nothing(sim: SimulatedCluster, cache: LiveCache) -> None:
    sim.forbid("deployments.apps", "list")
    with pytest.raises(Forbidden, match="RBAC forbids list on deployments.apps in sim"):
        await cache.ensure(DEPLOYMENTS)
    assert cache.informers == [] and cache.synced
    sim.allow("deployments.apps", "list")
    await cache.ensure(DEPLOYMENTS)
    assert len(cache.informers) == 1


async def test_without_watch_rights_the_cache_keeps_current_by_listing(sim: SimulatedCluster,
                                                                      cache: LiveCache) -> None:
    sim.forbid("configmaps", "watch")
    await cache.ensure(CONFIGMAPS)
    sim.apply(configmap("seen-by-listing"))
    await eventually(lambda: cache.get(key("seen-by-listing")) is not None, what="a relist to pick up the change")
    assert sim.open_watches == 0 and cache.error is None


async def test_a_scope_already_covered_reuses_its_informer(sim: SimulatedCluster, cache: LiveCache) -> None:
    await cache.ensure(CONFIGMAPS)
    await cache.ensure(CONFIGMAPS)
    await cache.ensure(CONFIGMAPS, namespace="shop")
    await cache.ensure(CONFIGMAPS, label_selector="app")
    assert len(cache.informers) == 1
    await cache.ensure(DEPLOYMENTS, namespace="shop")
    await cache.ensure(DEPLOYMENTS, namespace="other")
    assert len(cache.informers) == 3


async def test_a_broader_scope_replaces_the_narrower_informers(sim: SimulatedCluster, cache: LiveCache) -> None:
    sim.apply(configmap("labelled", labels={"app": "shop"}))
    sim.apply(configmap("plain", "other"))
    await cache.ensure(CONFIGMAPS, label_selector="app")
    await cache.ensure(CONFIGMAPS, namespace="default")
    await cache.ensure(CONFIGMAPS)
    assert [str(i.scope) for i in cache.informers] == ["configmaps"]
    assert sorted(o["metadata"]["name"] for o in cache.objects("", "ConfigMap")) == ["labelled", "plain"]
    await eventually(lambda: sim.open_watches == 1, what="the narrower watches to close")


async def test_a_malformed_selector_is_refused_before_any_request(cache: LiveCache) -> None:
    with pytest.raises(KubeError, match="invalid label selector 'tier in web'"):
        await cache.ensure(CONFIGMAPS, label_selector="tier in web")
    assert cache.informers == []


async def test_close_ends_every_watch(sim: SimulatedCluster, cache: LiveCache) -> None:
    await cache.ensure(CONFIGMAPS)
    await cache.ensure(DEPLOYMENTS)
    await eventually(lambda: sim.open_watches == 2, what="both watches to open")
    await cache.close()
    await eventually(lambda: sim.open_watches == 0, what="the watches to close")


async def test_a_failing_change_handler_does_not_stop_the_informer(sim: SimulatedCluster, client: KubeClient) -> None:
    calls: list[ObjectKey] = []

    def broken(k: ObjectKey, obj: dict[str, Any] | None) -> None:
        calls.append(k)
        raise RuntimeError("handler bug")

    live = LiveCache(client, broken)
    try:
        await live.ensure(CONFIGMAPS)
        sim.apply(configmap("one"))
        sim.apply(configmap("two"))
        await eventually(lambda: live.get(key("two")) is not None, what="events after a handler failure")
        assert calls == [key("one"), key("two")]
    finally:
        await live.close()


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    delays = [[jittered(n, 0.5, 30.0) for _ in range(50)] for n in (1, 2, 3, 10)]
    assert all(0.25 <= d <= 0.5 for d in delays[0])
    assert all(0.5 <= d <= 1.0 for d in delays[1])
    assert all(1.0 <= d <= 2.0 for d in delays[2])
    assert all(15.0 <= d <= 30.0 for d in delays[3])
    assert len(set(delays[3])) > 1
