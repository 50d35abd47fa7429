"""Grafana dashboards: importable JSON whose every query parses and selects real metrics."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import REPO
from .promql import dashboard_queries, referenced_metrics, substitute_variables

DASHBOARDS = sorted((REPO / "grafana").glob("*.json"))
EXPECTED = {"fleet-overview.json", "app-detail.json", "agent-internals.json"}

def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


@pytest.fixture(scope="module", params=[p.name for p in DASHBOARDS])
def dashboard(request: pytest.FixtureRequest) -> dict[str, Any]:
    return _load(REPO / "grafana" / request.param)


def test_the_three_dashboards_exist() -> None:
    assert {p.name for p in DASHBOARDS} == EXPECTED


def test_dashboard_uids_are_unique_and_stable() -> None:
    uids = [_load(p)["uid"] for p in DASHBOARDS]
    assert len(uids) == len(set(uids))
    for uid in uids:
        assert re.fullmatch(r"[a-z0-9-]{1,40}", uid), uid


def test_dashboard_uses_a_current_schema(dashboard: dict[str, Any]) -> None:
    assert dashboard["schemaVersion"] >= 39
    assert dashboard["title"].startswith("GitOps / ")


def test_dashboard_has_a_prometheus_datasource_variable(dashboard: dict[str, Any]) -> None:
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"


@pytest.mark.parametrize("name", ["cluster", "project", "app"])
def test_dashboard_filters_by_cluster_project_and_app_from_app_info(dashboard: dict[str, Any], name: str) -> None:
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    variable = variables[name]
    assert variable["type"] == "query"
    assert variable["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    assert re.fullmatch(rf"label_values\(gitops_app_info(\{{.*\}})?, {name}\)", variable["query"]["query"])


def test_every_panel_has_the_datasource_variable_and_targets(dashboard: dict[str, Any]) -> None:
    for panel in _panels(dashboard):
        assert panel.get("datasource") == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel.get("targets"), f"panel {panel['title']!r} has no targets"
        for target in panel["targets"]:
            assert target.get("datasource") == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
            assert target.get("expr", "").strip(), f"panel {panel['title']!r} has an empty query"


def test_panels_do_not_overlap(dashboard: dict[str, Any]) -> None:
    taken: set[tuple[int, int]] = set()
    for panel in _panels(dashboard):
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        cells = {(pos["x"] + dx, pos["y"] + dy) for dx in range(pos["w"]) for dy in range(pos["h"])}
        assert not cells & taken, f"panel {panel['title']!r} overlaps another"
        taken |= cells


def test_panel_ids_are_unique(dashboard: dict[str, Any]) -> None:
    ids = [panel["id"] for panel in _panels(dashboard)]
    assert len(ids) == len(set(ids))


def test_every_query_parses_as_promql(dashboard: dict[str, Any], promtool: str, tmp_path: Path) -> None:
    """promtool parses each query as a recording rule: the same parser Prometheus uses."""
    where = []
    rules = []
    for index, (origin, expr) in enumerate(dashboard_queries(dashboard)):
        where.append(origin)
        rules.append({"record": f"dashboard:query_{index}:check", "expr": substitute_variables(expr)})
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": dashboard["uid"], "rules": rules}]}))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, (
        f"{dashboard['uid']}: promtool rejects a query\n{result.stdout}{result.stderr}\n"
        + "\n".join(f"query_{i}: {w}" for i, w in enumerate(where))
    )


def test_every_query_selects_metrics_the_agent_exposes(
    dashboard: dict[str, Any], agent_sample_names: set[str]
) -> None:
    unknown = {
        origin: missing
        for origin, expr in dashboard_queries(dashboard)
        if (missing := referenced_metrics(expr) - agent_sample_names)
    }
    assert not unknown, f"{dashboard['uid']}: queries select metrics the agent does not expose: {unknown}"


def test_promtool_check_catches_a_broken_query(promtool: str, tmp_path: Path) -> None:
    """Guards the parse check: a query with unbalanced parentheses must be rejected."""
    path = tmp_path / "broken.yaml"
    rules = [{"record": "dashboard:broken:check", "expr": substitute_variables("sum(rate(gitops_git_fetch_total[$__rate_interval])")}]
    path.write_text(yaml.safe_dump({"groups": [{"name": "broken", "rules": rules}]}))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0


def test_app_detail_marks_revision_changes_as_annotations() -> None:
    annotations = _load(REPO / "grafana" / "app-detail.json")["annotations"]["list"]
    revision = [a for a in annotations if "revision" in a.get("expr", "")]
    assert revision, "no annotation query over gitops_app_info's revision label"
    assert "{{revision}}" in revision[0]["textFormat"]


def test_fleet_overview_lists_bad_apps_with_since_when_and_status() -> None:
    fleet = _load(REPO / "grafana" / "fleet-overview.json")
    tables = [p for p in _panels(fleet) if p["type"] == "table" and p["title"] == "Bad apps"]
    assert tables
    exprs = " ".join(t["expr"] for t in tables[0]["targets"])
    assert "gitops_app_bad_since_timestamp_seconds" in exprs
    assert "group_left (status)" in exprs
