"""The per-app metric families: what dashboards and alert rules read."""

from __future__ import annotations

from dataclasses import replace

import pytest
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from exporter.config_types import AppConfig, Destination, SourceConfig
from exporter.metrics import APP_FAMILIES, TOTAL_FAMILIES, AppStatusCollector
from exporter.model import AppState, AppStatus, Health, HealthResult, ObjectKey, ObjectStatus, Sync


def fleet() -> dict[str, tuple[AppConfig, AppStatus]]:
    apps = {}
    for i, state in enumerate([AppState.HEALTHY, AppState.DEGRADED, AppState.OUT_OF_SYNC]):
        config = AppConfig(f"app-{i}", SourceConfig('https://git.example.com/a "quoted"\\repo', path="apps/x"),
                           Destination("prod", "ns"), project="payments")
        objects = [ObjectStatus(ObjectKey("apps", "Deployment", "ns", "d"), "apps/v1", True, Sync.SYNCED,
                                HealthResult(Health.DEGRADED if state is AppState.DEGRADED else Health.HEALTHY)),
                   ObjectStatus(ObjectKey("", "ConfigMap", "ns", "c"), "v1", True,
                                Sync.OUT_OF_SYNC if state is AppState.OUT_OF_SYNC else Sync.SYNCED, None)]
        apps[config.name] = (config, AppStatus(config.name, state, Sync.SYNCED, Health.HEALTHY, "", revision="f00d",
                                               since=1763850000.5, bad_since=None if i == 0 else 1763850000.5,
                                               evaluated_at=1763850001.25, objects=objects))
    return apps


def samples(text: str) -> dict[str, set[tuple[tuple[tuple[str, str], ...], float]]]:
    return {f.name: {(tuple(sorted(s.labels.items())), float(s.value)) for s in f.samples}
            for f in text_string_to_metric_families(text)}


def test_pre_rendered_text_says_exactly_what_the_registry_encoding_says():
    apps = fleet()
    collector = AppStatusCollector(lambda: apps, lambda: True)
    registry = CollectorRegistry()
    registry.register(collector)
    assert samples(collector.text()) == samples(generate_latest(registry).decode())


def test_one_state_per_app_is_set():
    apps = fleet()
    parsed = samples(AppStatusCollector(lambda: apps, lambda: True).text())
    current = {dict(labels)["app"]: dict(labels)["status"] for labels, v in parsed["gitops_app_status"] if v == 1}
    assert current == {"app-0": "Healthy", "app-1": "Degraded", "app-2": "OutOfSync"}


def test_label_values_with_quotes_and_backslashes_survive():
    apps = fleet()
    parsed = samples(AppStatusCollector(lambda: apps, lambda: True).text())
    repos = {dict(labels)["repo"] for labels, _ in parsed["gitops_app_info"]}
    assert repos == {'https://git.example.com/a "quoted"\\repo'}


def test_a_changed_status_is_re_rendered_and_others_are_reused():
    apps = fleet()
    collector = AppStatusCollector(lambda: apps, lambda: True)
    collector.text()
    config, status = apps["app-0"]
    apps["app-0"] = (config, AppStatus("app-0", AppState.MISSING, Sync.OUT_OF_SYNC, Health.MISSING, "gone",
                                       since=1763850100, bad_since=1763850100, evaluated_at=1763850100))
    parsed = samples(collector.text())
    assert ((("app", "app-0"), ("status", "Missing")), 1.0) in parsed["gitops_app_status"]
    assert ((("app", "app-0"),), 1763850100.0) in parsed["gitops_app_bad_since_timestamp_seconds"]


def test_a_push_that_only_moves_revisions_shows_them_and_nothing_else_changes():
    apps = fleet()
    collector = AppStatusCollector(lambda: apps, lambda: True)
    before = samples(collector.text())
    for name, (config, status) in list(apps.items()):
        apps[name] = (config, replace(status, revision="beef"))
    after = collector.text()
    assert samples(after) == samples(AppStatusCollector(lambda: apps, lambda: True).text())
    assert {dict(labels)["revision"] for labels, _ in samples(after)["gitops_app_info"]} == {"beef"}
    assert {k: v for k, v in samples(after).items() if k != "gitops_app_info"} == \
        {k: v for k, v in before.items() if k != "gitops_app_info"}


def test_a_moved_revision_with_a_new_state_is_encoded_whole():
    apps = fleet()
    collector = AppStatusCollector(lambda: apps, lambda: True)
    collector.text()
    config, status = apps["app-0"]
    apps["app-0"] = (config, replace(status, revision="beef", state=AppState.DEGRADED))
    parsed = samples(collector.text())
    assert ((("app", "app-0"), ("status", "Degraded")), 1.0) in parsed["gitops_app_status"]


def test_app_counts_by_state_cluster_and_project():
    apps = fleet()
    parsed = samples(AppStatusCollector(lambda: apps, lambda: False).text())
    assert ((("cluster", "prod"), ("project", "payments"), ("status", "Degraded")), 1.0) in parsed["gitops_apps"]
    assert parsed["gitops_agent_ready"] == {((), 0.0)}


def big_fleet(n: int) -> dict[str, tuple[AppConfig, AppStatus]]:
    """``n`` apps, named app-0000 on, cycling through the states of ``fleet()``."""
    base = list(fleet().values())
    names = [f"app-{i:04d}" for i in range(n)]
    return {name: (replace(base[i % len(base)][0], name=name), replace(base[i % len(base)][1], name=name))
            for i, name in enumerate(names)}


def test_a_change_re_encodes_only_the_block_of_apps_it_is_in():
    from exporter.metrics import BLOCK

    apps = big_fleet(3 * BLOCK)
    collector = AppStatusCollector(lambda: apps, lambda: True)
    before = collector.chunks()
    config, status = apps[f"app-{BLOCK + 7:04d}"]
    apps[config.name] = (config, replace(status, state=AppState.MISSING))
    after = collector.chunks()
    # Per family: a header, then one piece per block; pieces of untouched blocks are the same objects.
    per_family = 1 + 3
    for family in range(10):
        first = family * per_family
        assert after[first + 1] is before[first + 1] and after[first + 3] is before[first + 3]
    status_block = 1 * per_family + 2  # gitops_app_status, the second block
    line = f'gitops_app_status{{app="app-{BLOCK + 7:04d}",status="Missing"}} 1'.encode()
    assert line in after[status_block] and line not in before[status_block]
    assert samples(collector.text()) == samples(AppStatusCollector(lambda: apps, lambda: True).text())


def test_apps_added_and_removed_show_as_a_fresh_collector_shows_them():
    apps = big_fleet(600)
    collector = AppStatusCollector(lambda: apps, lambda: True)
    collector.text()
    del apps["app-0100"]
    extra_config, extra_status = big_fleet(601)["app-0600"]
    apps["app-0600"] = (extra_config, extra_status)
    parsed = samples(collector.text())
    assert parsed == samples(AppStatusCollector(lambda: apps, lambda: True).text())
    names = {dict(labels)["app"] for labels, _ in parsed["gitops_app_info"]}
    assert "app-0100" not in names and "app-0600" in names and len(names) == 600
    assert sum(v for _, v in parsed["gitops_apps"]) == 600


def test_the_collector_describes_its_families_so_a_registry_refuses_a_name_clash():
    registry = CollectorRegistry()
    Gauge("gitops_apps", "another exporter's gauge of the same name", registry=registry)
    with pytest.raises(ValueError, match="gitops_apps"):
        registry.register(AppStatusCollector(dict, lambda: True))


def test_every_exposed_series_carries_exactly_its_family_s_labels():
    apps = fleet()
    config, status = apps["app-1"]
    apps["app-1"] = (config, replace(status, state_changes=(("Healthy", "Degraded", 2),)))
    parsed = {f.name: f for f in text_string_to_metric_families(AppStatusCollector(lambda: apps, lambda: True).text())}
    for family in APP_FAMILIES + TOTAL_FAMILIES:
        exposed = parsed[family.name.removesuffix("_total")]
        assert exposed.type == family.type and exposed.documentation == family.help
        assert {tuple(sorted(s.labels)) for s in exposed.samples} == {tuple(sorted(family.labels))}, family.name
