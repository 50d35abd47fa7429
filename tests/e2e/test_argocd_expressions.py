"""Argo CD's own alert expressions and dashboard queries, unchanged, on a real Prometheus scraping
``demo --argocd-metrics``: each answers what the agent's API says about the demo's apps."""

from __future__ import annotations

import json

import pytest
from demo_process import get, prometheus_scraping, running_demo, settle

APPS = 7


@pytest.fixture(scope="module")
def argocd_demo(tmp_path_factory):
    with running_demo("--argocd-metrics", apps=APPS) as (base, _), \
            prometheus_scraping(base, tmp_path_factory.mktemp("prometheus")) as api:
        settle(api, "argocd_app_info", lambda r: len(r) == APPS)
        yield json.loads(get(f"{base}/api/v1/apps")), api


def names(result):
    return {r["metric"]["name"] for r in result}


def test_argo_cd_s_out_of_sync_alert_fires_for_the_apps_the_agent_calls_out_of_sync(argocd_demo):
    apps, api = argocd_demo
    expected = {a["name"] for a in apps if a["sync"] == "OutOfSync"}
    assert "payments" in expected
    # the Argo CD mixin's ArgoAppOutOfSync
    assert names(settle(api, 'argocd_app_info{sync_status="OutOfSync"} == 1',
                        lambda r: names(r) == expected)) == expected


def test_argo_cd_s_unhealthy_alert_fires_for_the_apps_the_agent_calls_unhealthy(argocd_demo):
    apps, api = argocd_demo
    expected = {a["name"] for a in apps if a["health"] not in ("Healthy", "Progressing")}
    assert {"worker", "reports"} <= expected
    # the argo-cd-mixin's ArgoCdAppUnhealthy
    expression = ('sum(argocd_app_info{job=~".*", health_status!~"Healthy|Progressing"}) '
                  'by (job, dest_server, project, name, health_status) > 0')
    result = settle(api, expression, lambda r: names(r) == expected)
    assert names(result) == expected
    assert {r["metric"]["health_status"] for r in result} == {a["health"] for a in apps if a["name"] in expected}


def test_the_missing_exporter_alert_stays_quiet(argocd_demo):
    _, api = argocd_demo
    assert settle(api, "absent(argocd_app_info)", lambda r: r == []) == []


def test_argo_cd_s_dashboard_counts_apps_by_health_and_by_sync(argocd_demo):
    apps, api = argocd_demo
    for label, field in (("health_status", "health"), ("sync_status", "sync")):
        # Argo CD's example dashboard, its variables set to match everything
        expression = (f'sum(argocd_app_info{{namespace=~".*",dest_server=~".*",{label}=~".*"}}) '
                      f'by ({label})')
        expected: dict[str, float] = {}
        for a in apps:
            expected[a[field]] = expected.get(a[field], 0) + 1
        result = settle(api, expression, lambda r, e=expected, k=label:
                        {x["metric"][k]: float(x["value"][1]) for x in r} == e)
        assert {x["metric"][label]: float(x["value"][1]) for x in result} == expected


def test_every_sample_names_the_application_s_destination(argocd_demo):
    _, api = argocd_demo
    result = settle(api, "argocd_app_info", lambda r: len(r) == APPS)
    assert {r["metric"]["dest_namespace"] for r in result} == {"demo"}
    assert all(r["metric"]["dest_server"].startswith("http://127.0.0.1:") for r in result)
    assert {(r["metric"]["namespace"], r["metric"]["project"], r["metric"]["operation"] if "operation" in
             r["metric"] else "") for r in result} == {("argocd", "demo", "")}
