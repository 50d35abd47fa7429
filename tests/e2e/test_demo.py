"""The demo a newcomer runs: every state visible on the API and on /metrics, then a clean shutdown."""

from __future__ import annotations

import asyncio
import json
import re
import signal
from pathlib import Path

import pytest
import yaml
from demo_process import get, prometheus_scraping, running_demo, settle
from prometheus_client.parser import text_string_to_metric_families
from ship.promql import dashboard_queries, exposed_sample_names, referenced_metrics, rule_queries

EXPECTED = {"web": "Healthy", "payments": "OutOfSync", "worker": "Degraded", "cache": "Missing",
            "api": "Progressing", "reports": "Suspended", "billing": "Unknown"}


@pytest.fixture(scope="module")
def demo():
    with running_demo(apps=len(EXPECTED)) as running:
        yield running


def test_the_demo_shows_one_app_in_each_state(demo):
    base, _ = demo
    apps = {a["name"]: a["status"] for a in json.loads(get(f"{base}/api/v1/apps"))}
    assert apps == EXPECTED


def test_the_demo_has_every_one_of_the_seven_states(demo):
    base, _ = demo
    apps = json.loads(get(f"{base}/api/v1/apps"))
    assert {a["status"] for a in apps} == {"Healthy", "Progressing", "Suspended", "OutOfSync", "Missing",
                                           "Degraded", "Unknown"}
    billing = next(a for a in apps if a["name"] == "billing")
    assert billing["reason"] == "path 'apps/billing' not found in the repository"


def test_the_label_filter_s_example_matches_a_demo_app(demo):
    base, _ = demo
    page = get(f"{base}/")
    example = re.search(r'id="f-label"[^>]*placeholder="([^"]+)"', page).group(1)
    key, _, value = example.partition("=")
    apps = json.loads(get(f"{base}/api/v1/apps?label={example}"))
    assert [a["name"] for a in apps] == ["payments"] and apps[0]["labels"][key] == value


def test_the_demo_explains_the_live_edit(demo):
    base, _ = demo
    diff = get(f"{base}/api/v1/apps/payments/diff")
    assert "payments-config" in diff and "90s" in diff and "30s" in diff


def test_metrics_carry_the_design_catalogue_with_one_state_per_app(demo):
    base, _ = demo
    families = {f.name: f for f in text_string_to_metric_families(get(f"{base}/metrics"))}
    for name in ("gitops_app_info", "gitops_app_status", "gitops_app_health_status", "gitops_app_sync_status",
                 "gitops_app_status_since_timestamp_seconds", "gitops_app_bad_since_timestamp_seconds",
                 "gitops_app_resources", "gitops_app_last_evaluation_timestamp_seconds",
                 "gitops_evaluation_duration_seconds", "gitops_kube_requests"):
        assert name in families, name
    current = {s.labels["app"]: s.labels["status"] for s in families["gitops_app_status"].samples if s.value == 1}
    assert current == EXPECTED
    verbs = {s.labels["verb"] for s in families["gitops_kube_requests"].samples}
    assert verbs <= {"get", "list", "watch"}


def test_every_metric_dashboards_and_alert_rules_use_is_exposed_by_the_running_agent(demo):
    base, _ = demo
    families = text_string_to_metric_families(get(f"{base}/metrics"))
    exposed = exposed_sample_names((f.name, f.type) for f in families)
    root = Path(__file__).resolve().parents[2]
    queries = [(f"{path.name}: {where}", expr)
               for path in sorted((root / "grafana").glob("*.json"))
               for where, expr in dashboard_queries(json.loads(path.read_text()))]
    queries += [(f"{path.name}: {name}", expr) for path in sorted((root / "rules").glob("*.yaml"))
                for name, expr in rule_queries(yaml.safe_load(path.read_text()))]
    assert len(queries) > 30
    unknown = {where: sorted(referenced_metrics(expr) - exposed) for where, expr in queries
               if referenced_metrics(expr) - exposed}
    assert not unknown, unknown


def test_a_real_prometheus_scrapes_the_demo_and_stores_each_app_s_state(demo, tmp_path):
    # Prometheus asks for gzip (and OpenMetrics); the body is one gzip member of separately
    # deflated pieces, which its Go decoder must read like any other.
    base, _ = demo
    with prometheus_scraping(base, tmp_path) as api:
        def states(result):
            return {r["metric"]["app"]: r["metric"]["status"] for r in result}
        current = states(settle(api, "gitops_app_status == 1", lambda r: states(r) == EXPECTED))
        targets = json.loads(get(f"{api}/targets"))["data"]["activeTargets"]
        assert [t["health"] for t in targets] == ["up"], targets
        assert current == EXPECTED


async def test_sigterm_stops_the_demo_cleanly(demo):
    _, proc = demo
    proc.send_signal(signal.SIGTERM)
    code = await asyncio.get_running_loop().run_in_executor(None, proc.wait, 20)
    assert code == 0
