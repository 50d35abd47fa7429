"""Key dashboard queries evaluated by Prometheus' own engine (``promtool test rules``) on sample data.

Parsing proves a query is PromQL; these prove it shows what the panel promises: the right apps,
the right labels, the right numbers. Variables are set to "All" (``.*``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import REPO
from .promql import substitute_variables

ALL = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h", "cluster": ".*", "project": ".*",
       "app": ".*", "instance": ".*"}
T = 'job="gitops-drift-exporter",instance="10.0.0.1:8080"'

#: Two apps behind one agent: shop went Degraded, web is Healthy and frozen.
FLEET = [
    {"series": f'gitops_app_info{{{T},app="shop",project="retail",cluster="prod",namespace="shop",repo="r",path="p",target_revision="main",revision="aaa111"}}',
     "values": "1x30"},
    {"series": f'gitops_app_info{{{T},app="web",project="retail",cluster="prod",namespace="web",repo="r",path="p",target_revision="main",revision="bbb222"}}',
     "values": "1x30"},
    {"series": f'gitops_app_status{{{T},app="shop",status="Degraded"}}', "values": "1x30"},
    {"series": f'gitops_app_status{{{T},app="shop",status="Healthy"}}', "values": "0x30"},
    {"series": f'gitops_app_status{{{T},app="web",status="Degraded"}}', "values": "0x30"},
    {"series": f'gitops_app_status{{{T},app="web",status="Healthy"}}', "values": "1x30"},
    # shop has been bad since two minutes in.
    {"series": f'gitops_app_bad_since_timestamp_seconds{{{T},app="shop"}}', "values": "120x30"},
    {"series": f'gitops_app_bad_since_timestamp_seconds{{{T},app="web"}}', "values": "0x30"},
    {"series": f'gitops_app_frozen{{{T},app="shop"}}', "values": "0x30"},
    {"series": f'gitops_app_frozen{{{T},app="web"}}', "values": "1x30"},
    {"series": f'gitops_apps{{{T},status="Degraded",cluster="prod",project="retail"}}', "values": "1x30"},
    {"series": 'gitops_apps{job="gitops-drift-exporter",instance="10.0.0.2:8080",status="Healthy",cluster="prod",project="retail"}',
     "values": "1x30"},
    {"series": f'gitops_apps{{{T},status="Healthy",cluster="prod",project="retail"}}', "values": "1x30"},
]


def _query(dashboard: str, title: str, ref: str = "A") -> str:
    data = json.loads((REPO / "grafana" / dashboard).read_text())
    for panel in data["panels"]:
        if panel["title"] == title:
            for target in panel["targets"]:
                if target["refId"] == ref:
                    return substitute_variables(target["expr"], ALL)
    raise AssertionError(f"{dashboard}: no panel {title!r} with target {ref}")


def _annotation(dashboard: str, name: str) -> str:
    data = json.loads((REPO / "grafana" / dashboard).read_text())
    (expr,) = [a["expr"] for a in data["annotations"]["list"] if a["name"] == name]
    return substitute_variables(expr, ALL)


def _evaluate(promtool: str, tmp_path: Path, series: list[dict[str, str]], checks: list[dict[str, Any]]) -> None:
    (tmp_path / "empty.yaml").write_text("groups: []\n")
    test = {"rule_files": ["empty.yaml"], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": checks}]}
    path = tmp_path / "dashboard_test.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    result = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_bad_apps_table_lists_only_bad_apps_with_status_place_and_since(promtool: str, tmp_path: Path) -> None:
    labels = f'{{{T},app="shop",status="Degraded",cluster="prod",project="retail",revision="aaa111"}}'
    _evaluate(promtool, tmp_path, FLEET, [
        {"expr": _query("fleet-overview.json", "Bad apps", "A"), "eval_time": "10m",
         "exp_samples": [{"labels": labels, "value": 120_000}]},
        {"expr": _query("fleet-overview.json", "Bad apps", "B"), "eval_time": "10m",
         "exp_samples": [{"labels": labels, "value": 600 - 120}]},
    ])


def test_apps_by_state_adds_up_every_shard(promtool: str, tmp_path: Path) -> None:
    _evaluate(promtool, tmp_path, FLEET, [
        {"expr": _query("fleet-overview.json", "Apps by state"), "eval_time": "5m",
         "exp_samples": [{"labels": '{status="Degraded"}', "value": 1}, {"labels": '{status="Healthy"}', "value": 2}]},
    ])


def test_frozen_apps_table_lists_frozen_apps_only(promtool: str, tmp_path: Path) -> None:
    _evaluate(promtool, tmp_path, FLEET, [
        {"expr": _query("fleet-overview.json", "Frozen apps"), "eval_time": "5m",
         "exp_samples": [{"labels": f'{{{T},app="web",cluster="prod",project="retail"}}', "value": 1}]},
    ])


def test_state_timeline_encodes_each_state_as_its_mapped_number(promtool: str, tmp_path: Path) -> None:
    panel = next(p for p in json.loads((REPO / "grafana" / "app-detail.json").read_text())["panels"]
                 if p["title"] == "State")
    mapping = {v["text"]: int(k) for k, v in panel["fieldConfig"]["defaults"]["mappings"][0]["options"].items()}
    _evaluate(promtool, tmp_path, FLEET, [
        {"expr": _query("app-detail.json", "State"), "eval_time": "5m",
         "exp_samples": [{"labels": f'{{{T},app="shop"}}', "value": mapping["Degraded"]},
                         {"labels": f'{{{T},app="web"}}', "value": mapping["Healthy"]}]},
    ])


def test_revision_annotation_marks_the_moment_a_new_revision_appears(promtool: str, tmp_path: Path) -> None:
    series = [
        {"series": f'gitops_app_info{{{T},app="shop",project="retail",cluster="prod",namespace="shop",repo="r",path="p",target_revision="main",revision="aaa111"}}',
         "values": "1x9 _x20"},
        {"series": f'gitops_app_info{{{T},app="shop",project="retail",cluster="prod",namespace="shop",repo="r",path="p",target_revision="main",revision="ccc333"}}',
         "values": "_x9 1x20"},
    ]
    expr = _annotation("app-detail.json", "Revision changes")
    _evaluate(promtool, tmp_path, series, [
        {"expr": expr, "eval_time": "0m", "exp_samples": []},  # Prometheus just started: nothing changed
        {"expr": expr, "eval_time": "5m", "exp_samples": []},
        {"expr": expr, "eval_time": "10m", "exp_samples": [
            {"labels": f'{{{T},app="shop",cluster="prod",revision="ccc333"}}', "value": 1}]},
        {"expr": expr, "eval_time": "20m", "exp_samples": []},
    ])


def test_app_detail_keeps_one_app_name_on_two_clusters_apart(promtool: str, tmp_path: Path) -> None:
    """The same app name on two clusters: each panel shows one series per cluster, and the cluster
    filter shows only that cluster's."""
    def info(instance: str, cluster: str) -> dict[str, str]:
        return {"series": f'gitops_app_info{{job="gitops-drift-exporter",instance="{instance}",app="shop",project="retail",'
                          f'cluster="{cluster}",namespace="shop",repo="r",path="p",target_revision="main",revision="a"}}',
                "values": "1x30"}
    series = [info("10.0.0.1:8080", "prod"), info("10.0.0.2:8080", "staging"),
              {"series": 'gitops_app_resources{job="gitops-drift-exporter",instance="10.0.0.1:8080",app="shop",'
                         'health="Healthy",sync="Synced"}', "values": "4x30"},
              {"series": 'gitops_app_resources{job="gitops-drift-exporter",instance="10.0.0.2:8080",app="shop",'
                         'health="Healthy",sync="Synced"}', "values": "2x30"}]
    data = json.loads((REPO / "grafana" / "app-detail.json").read_text())
    (panel,) = [p for p in data["panels"] if p["title"] == "Resources by health"]
    expr = panel["targets"][0]["expr"]
    _evaluate(promtool, tmp_path, series, [
        {"expr": substitute_variables(expr, ALL), "eval_time": "5m", "exp_samples": [
            {"labels": '{app="shop",cluster="prod",health="Healthy"}', "value": 4},
            {"labels": '{app="shop",cluster="staging",health="Healthy"}', "value": 2}]},
        {"expr": substitute_variables(expr, {**ALL, "cluster": "staging"}), "eval_time": "5m", "exp_samples": [
            {"labels": '{app="shop",cluster="staging",health="Healthy"}', "value": 2}]},
    ])


@pytest.mark.parametrize("title", ["Bad apps", "Frozen apps"])
def test_fleet_tables_respect_the_project_filter(promtool: str, tmp_path: Path, title: str) -> None:
    data = json.loads((REPO / "grafana" / "fleet-overview.json").read_text())
    (panel,) = [p for p in data["panels"] if p["title"] == title]
    expr = substitute_variables(panel["targets"][0]["expr"], {**ALL, "project": "finance"})
    _evaluate(promtool, tmp_path, FLEET, [{"expr": expr, "eval_time": "5m", "exp_samples": []}])
