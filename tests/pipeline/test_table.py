"""The app table: what the server reads is one immutable picture, and an app forgotten is gone
from both its runtime state and what dashboards see."""

from __future__ import annotations

import pytest

from exporter.config_types import AppConfig, Destination, SourceConfig
from exporter.model import AppState, AppStatus, Health, ObjectKey, Sync
from exporter.pipeline.desired import AppRuntime
from exporter.pipeline.table import AppTable


def app(name: str, cluster: str = "prod") -> AppConfig:
    return AppConfig(name, SourceConfig("https://git.example.com/r.git", path=name), Destination(cluster, "ns"))


def status(name: str, frozen: bool = False) -> AppStatus:
    return AppStatus(name, AppState.HEALTHY, Sync.SYNCED, Health.HEALTHY, "", frozen=frozen)


def test_a_snapshot_does_not_change_when_the_table_does() -> None:
    table = AppTable()
    table.put(AppRuntime(app("a")))
    table.publish([(app("a"), status("a"))])
    before = table.snapshot()
    table.publish([(app("b"), status("b"))])
    assert set(before) == {"a"} and set(table.snapshot()) == {"a", "b"}
    with pytest.raises(TypeError):
        before["c"] = (app("c"), status("c"))  # type: ignore[index]


def test_a_snapshot_is_reused_until_something_is_published() -> None:
    table = AppTable()
    table.publish([(app("a"), status("a"))])
    assert table.snapshot() is table.snapshot()


def test_a_forgotten_app_leaves_the_runtimes_and_the_published_statuses() -> None:
    table = AppTable()
    table.put(AppRuntime(app("a")))
    table.publish([(app("a"), status("a"))])
    table.forget("a")
    assert "a" not in table and table.published("a") is None and dict(table.snapshot()) == {}


def test_the_apps_reading_a_kind_are_those_on_that_cluster_declaring_it() -> None:
    table = AppTable()
    deployments = frozenset({ObjectKey("apps", "Deployment", "ns", "web")})
    table.put(AppRuntime(app("web"), desired_keys=deployments))
    table.put(AppRuntime(app("web-eu", cluster="eu"), desired_keys=deployments))
    table.put(AppRuntime(app("config"), desired_keys=frozenset({ObjectKey("", "ConfigMap", "ns", "c")})))
    assert table.reading("prod", "apps", "Deployment") == ["web"]


def test_apps_whose_window_opened_or_closed_since_their_evaluation_are_named() -> None:
    table = AppTable()
    table.put(AppRuntime(app("frozen"), status=status("frozen", frozen=True)))
    table.put(AppRuntime(app("open"), status=status("open")))
    table.put(AppRuntime(app("new")))  # not evaluated yet: nothing to correct
    assert table.freeze_changed(lambda _rt: False) == ["frozen"]
    assert table.freeze_changed(lambda _rt: True) == ["open"]
