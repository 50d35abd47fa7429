"""The freeze log: what changed while an app was frozen, who changed it, and the report."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.clock import FakeClock
from exporter.metrics import REGISTRY
from exporter.model import ObjectKey
from exporter.windows import FreezeLog

DATA = Path(__file__).parent / "data"
WEB = ObjectKey("apps", "Deployment", "shop", "web")
DB = ObjectKey("", "Secret", "shop", "db")
T0 = 1_780_000_000.0  # 2026-05-28T20:26:40Z


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((DATA / name).read_text())


def edited(obj: dict[str, Any], manager: str, time: str, **changes: Any) -> dict[str, Any]:
    """``obj`` after a client edit: a new resourceVersion and a managedFields entry for ``manager``."""
    new = copy.deepcopy(obj)
    new["metadata"]["resourceVersion"] = str(int(new["metadata"]["resourceVersion"]) + 1)
    new["metadata"]["managedFields"].append({"manager": manager, "operation": "Update", "apiVersion": "apps/v1",
                                             "time": time, "fieldsType": "FieldsV1", "fieldsV1": {}})
    for path, value in changes.items():
        node: Any = new
        *parents, leaf = path.split("__")
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        node[leaf] = value
    return new


def violations_total(app: str, type_: str) -> float:
    return REGISTRY.get_sample_value("gitops_freeze_violations_total", {"app": app, "type": type_}) or 0.0


def test_a_merge_during_a_freeze_is_recorded_with_both_revisions() -> None:
    log = FreezeLog(None, FakeClock(T0))
    before = violations_total("shop", "git")
    v = log.record_git("shop", "4f2a9c1e7b3d5a6f8e9d0c1b2a3f4e5d6c7b8a9f", "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d")
    assert (v.app, v.type, v.change, v.at) == ("shop", "git", "merge", T0)
    assert v.what == "revision 4f2a9c1e7b3d -> 9e8d7c6b5a4f"
    assert v.revision_to == "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"
    assert violations_total("shop", "git") == before + 1


def test_a_live_image_edit_names_the_image_and_the_manager_of_the_newest_managed_fields_entry() -> None:
    log = FreezeLog(None, FakeClock(T0))
    before = load("deployment-web.yaml")
    after = edited(before, "kubectl-set", "2026-06-02T03:12:09Z")
    after["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.example.com/shop/web:1.25.0-hotfix"
    v = log.record_live("shop", WEB, "MODIFIED", before, after)
    assert v is not None
    assert (v.type, v.change, v.manager, v.object) == ("live", "image", "kubectl-set", WEB)
    assert v.what == ("apps/Deployment shop/web: image registry.example.com/shop/web:1.24.0 -> "
                      "registry.example.com/shop/web:1.25.0-hotfix")


def test_a_live_spec_edit_names_the_changed_paths() -> None:
    log = FreezeLog(None, FakeClock(T0))
    before = load("deployment-web.yaml")
    after = edited(before, "kubectl-edit", "2026-06-02T03:12:09Z", spec__replicas=10)
    v = log.record_live("shop", WEB, "MODIFIED", before, after)
    assert v is not None
    assert (v.change, v.manager, v.what) == ("spec", "kubectl-edit", "apps/Deployment shop/web: changed /spec/replicas")


def test_the_manager_is_the_one_with_the_latest_time_not_the_last_listed() -> None:
    before = load("deployment-web.yaml")
    after = edited(before, "kubectl-edit", "2026-06-02T03:12:09Z", spec__replicas=5)
    after["metadata"]["managedFields"].insert(0, {"manager": "argocd-controller", "operation": "Apply",
                                                  "time": "2026-06-01T08:00:00Z"})
    v = FreezeLog(None, FakeClock(T0)).record_live("shop", WEB, "MODIFIED", before, after)
    assert v is not None and v.manager == "kubectl-edit"


def test_a_status_only_change_is_not_a_violation() -> None:
    log = FreezeLog(None, FakeClock(T0))
    before = load("deployment-web.yaml")
    after = copy.deepcopy(before)
    after["metadata"]["resourceVersion"] = "184468"
    after["metadata"]["managedFields"][1]["time"] = "2026-06-02T03:00:00Z"
    after["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "5"
    after["status"]["readyReplicas"] = 2
    assert log.record_live("shop", WEB, "MODIFIED", before, after) is None
    assert log.since(0) == []


def test_a_secret_edit_names_the_key_but_never_the_value() -> None:
    log = FreezeLog(None, FakeClock(T0))
    before = load("secret-db.yaml")
    after = edited(before, "kubectl-edit", "2026-06-02T03:12:09Z", data__password="c3VwZXJzZWNyZXQ=")
    v = log.record_live("shop", DB, "MODIFIED", before, after)
    assert v is not None and v.what == "Secret shop/db: changed /data/password"
    assert "c3VwZXJzZWNyZXQ=" not in json.dumps(log.to_json()) + log.report(0, "table")
    assert "aHVudGVyMg==" not in json.dumps(log.to_json())


def test_created_and_deleted_objects_are_violations() -> None:
    log = FreezeLog(None, FakeClock(T0))
    obj = load("deployment-web.yaml")
    created = log.record_live("shop", WEB, "ADDED", None, obj)
    deleted = log.record_live("shop", WEB, "DELETED", obj, None)
    assert created is not None and (created.change, created.manager) == ("created", "helm")
    assert deleted is not None and (deleted.change, deleted.manager) == ("deleted", None)


def test_without_a_known_event_type_the_change_is_inferred_from_before_and_after() -> None:
    log = FreezeLog(None, FakeClock(T0))
    obj = load("deployment-web.yaml")
    created = log.record_live("shop", WEB, "event", None, obj)
    deleted = log.record_live("shop", WEB, "event", obj, None)
    changed = log.record_live("shop", WEB, "event", obj, edited(obj, "kubectl-edit", "2026-06-02T03:12:09Z",
                                                               spec__replicas=1))
    assert [v.change if v else None for v in (created, deleted, changed)] == ["created", "deleted", "spec"]


def record_three(log: FreezeLog, clock: FakeClock) -> None:
    log.record_git("shop", "4f2a9c1e7b3d5a6f8e9d", "9e8d7c6b5a4f3e2d1c0b")
    clock.advance(3600)
    before = load("deployment-web.yaml")
    log.record_live("shop", WEB, "MODIFIED", before, edited(before, "kubectl-edit", "2026-06-02T03:12:09Z",
                                                             spec__replicas=10))
    clock.advance(3600)
    log.record_git("blog", "aaaaaaaaaaaa1111", "bbbbbbbbbbbb2222")


def test_violations_persist_across_restarts_and_since_filters_by_time(tmp_path: Path) -> None:
    path = tmp_path / "freezes.jsonl"
    clock = FakeClock(T0)
    record_three(FreezeLog(str(path), clock), clock)
    assert len(path.read_text().splitlines()) == 3
    reopened = FreezeLog(str(path), clock)
    assert [v.app for v in reopened.since(T0 + 1)] == ["shop", "blog"]
    assert reopened.since(T0)[1].object == WEB
    assert reopened.to_json(T0 + 1)[0]["object_ref"] == "apps/Deployment shop/web"


def test_the_report_as_a_table() -> None:
    clock = FakeClock(T0)
    log = FreezeLog(None, clock)
    record_three(log, clock)
    assert log.report(T0 + 1, "table") == (
        "TIME                  APP   TYPE  CHANGE  MANAGER       WHAT\n"
        "2026-05-28T21:26:40Z  shop  live  spec    kubectl-edit  apps/Deployment shop/web: changed /spec/replicas\n"
        "2026-05-28T22:26:40Z  blog  git   merge   -             revision aaaaaaaaaaaa -> bbbbbbbbbbbb\n")
    assert log.report(T0 + 10 * 3600, "table") == "No changes during freezes since 2026-05-29T06:26:40Z.\n"


def test_the_report_as_json() -> None:
    clock = FakeClock(T0)
    log = FreezeLog(None, clock)
    record_three(log, clock)
    report = json.loads(log.report(T0, "json"))
    assert report["since"] == "2026-05-28T20:26:40Z"
    assert [(v["app"], v["type"], v["change"]) for v in report["violations"]] == [
        ("shop", "git", "merge"), ("shop", "live", "spec"), ("blog", "git", "merge")]
    assert report["violations"][1]["object"] == {"group": "apps", "kind": "Deployment", "namespace": "shop",
                                                 "name": "web"}


def test_the_report_as_markdown() -> None:
    clock = FakeClock(T0)
    log = FreezeLog(None, clock)
    record_three(log, clock)
    lines = log.report(T0, "markdown").splitlines()
    assert lines[0] == "## Freeze violations since 2026-05-28T20:26:40Z"
    assert lines[2] == "| Time | App | Type | Change | Manager | What |"
    assert lines[3] == "|---|---|---|---|---|---|"
    assert lines[4] == "| 2026-05-28T20:26:40Z | shop | git | merge | - | revision 4f2a9c1e7b3d -> 9e8d7c6b5a4f |"
    assert len(lines) == 7


def test_an_unknown_report_format_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown output 'csv': expected table, json or markdown"):
        FreezeLog(None, FakeClock(T0)).report(0, "csv")


async def test_on_a_running_agent_violations_reach_the_file_in_order_once_flushed(tmp_path: Path) -> None:
    path = tmp_path / "freezes.jsonl"
    clock = FakeClock(T0)
    log = FreezeLog(str(path), clock)
    for i in range(50):
        log.record_git(f"app-{i:02d}", "a" * 40, "b" * 40)
    await log.flush()
    assert [json.loads(line)["app"] for line in path.read_text().splitlines()] == [f"app-{i:02d}" for i in range(50)]
    await log.close()
