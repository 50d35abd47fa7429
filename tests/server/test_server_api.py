"""The JSON API, probes and freezes, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import re

import pytest
from server_fleet import SHA_A, Served, app_config, app_status

from exporter.model import AppState, DeployerState
from exporter.urls import safe_url

APP_FIELDS = {"name", "project", "cluster", "namespace", "labels", "repo", "path", "targetRevision", "revision",
              "status", "sync", "health", "reason", "since", "sinceTimestamp", "badSince", "evaluatedAt",
              "frozen"}
OBJECT_FIELDS = {"group", "kind", "apiVersion", "namespace", "name", "exists", "sync", "health", "healthMessage",
                 "healthReason",
                 "requiresPruning", "healthExcluded", "differences", "ignored"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


async def get_json(served: Served, path: str, status: int = 200):
    async with served.session.get(served.url + path) as resp:
        assert resp.status == status, await resp.text()
        assert resp.content_type == "application/json"
        return await resp.json()


async def test_apps_lists_every_app_by_name_with_the_documented_fields(served: Served) -> None:
    apps = await get_json(served, "/api/v1/apps")
    assert [a["name"] for a in apps] == sorted(served.source.apps)
    for app in apps:
        assert APP_FIELDS <= set(app), app["name"]


async def test_app_summary_carries_config_status_and_rfc3339_times(served: Served) -> None:
    apps = {a["name"]: a for a in await get_json(served, "/api/v1/apps")}
    degraded = apps["payments-api"]
    assert degraded["status"] == "Degraded"
    assert degraded["health"] == "Degraded"
    assert degraded["sync"] == "Synced"
    assert degraded["project"] == "shop"
    assert degraded["cluster"] == "prod"
    assert degraded["namespace"] == "payments-api"
    assert degraded["labels"] == {"team": "payments"}
    assert degraded["repo"] == "https://github.com/acme/deploy.git"
    assert degraded["path"] == "apps/payments-api"
    assert degraded["targetRevision"] == "main"
    assert degraded["revision"] == SHA_A
    assert degraded["reason"] == "Deployment payments-api: ProgressDeadlineExceeded"
    assert RFC3339.match(degraded["since"]) and RFC3339.match(degraded["badSince"])
    assert RFC3339.match(degraded["evaluatedAt"])
    _, status = served.source.apps["payments-api"]
    assert degraded["sinceTimestamp"] == status.since


async def test_good_apps_have_no_bad_since(served: Served) -> None:
    apps = {a["name"]: a for a in await get_json(served, "/api/v1/apps")}
    assert apps["checkout"]["badSince"] is None
    assert apps["nightly-batch"]["badSince"] is None


async def test_frozen_flag_is_reported(served: Served) -> None:
    apps = {a["name"]: a["frozen"] for a in await get_json(served, "/api/v1/apps")}
    assert apps["search"] is True
    assert apps["checkout"] is False


async def test_filter_by_status(served: Served) -> None:
    apps = await get_json(served, "/api/v1/apps?status=Degraded")
    assert [a["name"] for a in apps] == ["payments-api"]


async def test_filter_by_status_is_case_insensitive_and_repeatable(served: Served) -> None:
    apps = await get_json(served, "/api/v1/apps?status=missing&status=OutOfSync")
    assert [a["name"] for a in apps] == ["billing-worker", "search"]


async def test_filter_by_project_and_cluster_must_both_match(served: Served) -> None:
    apps = await get_json(served, "/api/v1/apps?project=shop&cluster=staging")
    assert [a["name"] for a in apps] == ["billing-worker"]


async def test_filter_by_label_value(served: Served) -> None:
    apps = await get_json(served, "/api/v1/apps?label=team=data")
    assert [a["name"] for a in apps] == ["ingest", "nightly-batch"]


async def test_filter_by_label_presence_and_value_together(served: Served) -> None:
    apps = await get_json(served, "/api/v1/apps?label=tier&label=team=payments")
    assert [a["name"] for a in apps] == ["checkout"]


async def test_unknown_status_filter_is_a_400_naming_the_valid_states(served: Served) -> None:
    body = await get_json(served, "/api/v1/apps?status=Broken", status=400)
    assert "'Broken'" in body["error"] and "Degraded" in body["error"]


async def test_password_in_repo_url_is_not_shown(served: Served, source) -> None:
    source.apps["private"] = (app_config("private", repo="https://bot:ghp_tokenvalue@github.com/acme/private.git"),
                              app_status("private", AppState.HEALTHY))
    app = await get_json(served, "/api/v1/apps/private")
    assert app["repo"] == "https://github.com/acme/private.git"
    async with served.session.get(served.url + "/") as resp:
        assert "ghp_tokenvalue" not in await resp.text()


async def test_app_detail_lists_objects_with_differences_and_ignored_fields(served: Served) -> None:
    app = await get_json(served, "/api/v1/apps/payments-api")
    assert APP_FIELDS <= set(app)
    deploy, svc = app["objects"]
    assert OBJECT_FIELDS <= set(deploy)
    assert (deploy["group"], deploy["kind"], deploy["apiVersion"], deploy["namespace"], deploy["name"]) == (
        "apps", "Deployment", "apps/v1", "payments-api", "payments-api")
    assert deploy["health"] == "Degraded"
    assert deploy["healthMessage"] == "ReplicaSet has timed out progressing."
    assert deploy["sync"] == "OutOfSync"
    assert deploy["differences"] == [{"path": "/spec/template/spec/containers/0/image",
                                      "desired": "payments-api:1.4.0", "live": "payments-api:1.3.9",
                                      "reason": "changed live by kubectl-set", "direction": "live"}]
    assert deploy["ignored"] == [{"path": "/spec/replicas",
                                  "ignoredBy": "managedFieldsManagers: kube-controller-manager"}]
    assert (svc["group"], svc["kind"], svc["health"], svc["differences"]) == ("", "Service", "Healthy", [])
    # where each verdict came from, so users know when to write their own check
    assert (deploy["healthSource"], svc["healthSource"]) == ("specific", "fallback")


async def test_missing_object_is_marked_as_not_existing(served: Served) -> None:
    app = await get_json(served, "/api/v1/apps/billing-worker")
    assert [(o["name"], o["exists"], o["health"]) for o in app["objects"]] == [
        ("billing-worker", False, "Missing")]


async def test_unknown_app_is_a_json_404(served: Served) -> None:
    assert await get_json(served, "/api/v1/apps/nope", status=404) == {"error": "no app named 'nope'"}


async def test_diff_of_unknown_app_is_a_json_404(served: Served) -> None:
    assert await get_json(served, "/api/v1/apps/nope/diff", status=404) == {"error": "no app named 'nope'"}


async def test_diff_is_a_unified_text_diff_of_live_against_git(served: Served) -> None:
    async with served.session.get(served.url + "/api/v1/apps/payments-api/diff") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/plain"
        text = await resp.text()
    assert "--- live: apps/Deployment payments-api/payments-api" in text
    assert "+++ git: apps/Deployment payments-api/payments-api" in text
    assert "-      - image: payments-api:1.3.9" in text
    assert "+      - image: payments-api:1.4.0" in text


async def test_diff_of_a_synced_app_is_empty(served: Served) -> None:
    async with served.session.get(served.url + "/api/v1/apps/checkout/diff") as resp:
        assert resp.status == 200
        assert await resp.text() == ""


async def test_freezes_returns_what_the_source_reports(served: Served) -> None:
    violation = {"app": "search", "type": "live", "window": "year-end", "at": "2026-12-24T10:00:00Z",
                 "object": "apps/Deployment search/search"}
    served.source.freeze_list.append(violation)
    assert await get_json(served, "/api/v1/freezes") == [violation]


async def test_freezes_is_an_empty_list_when_nothing_was_violated(served: Served) -> None:
    assert await get_json(served, "/api/v1/freezes") == []


async def test_healthz_answers_while_the_process_lives(served: Served) -> None:
    served.source.is_ready = False
    async with served.session.get(served.url + "/healthz") as resp:
        assert resp.status == 200


async def test_readyz_is_503_until_the_source_is_ready_then_200(served: Served) -> None:
    served.source.is_ready = False
    async with served.session.get(served.url + "/readyz") as resp:
        assert resp.status == 503
        assert "not ready" in await resp.text()
    served.source.is_ready = True
    async with served.session.get(served.url + "/readyz") as resp:
        assert resp.status == 200


async def test_api_responses_are_not_cached(served: Served) -> None:
    async with served.session.get(served.url + "/api/v1/apps") as resp:
        assert resp.headers["Cache-Control"] == "no-cache"


async def test_comma_separated_labels_must_all_match(served: Served) -> None:
    apps = await get_json(served, "/api/v1/apps?label=team=payments,tier=web")
    assert [a["name"] for a in apps] == ["checkout"]


@pytest.mark.parametrize(("url", "shown"), [
    ("https://bot:ghp_x@github.com:8443/acme/deploy.git", "https://github.com:8443/acme/deploy.git"),
    ("https://ghp_x@github.com/acme/deploy", "https://github.com/acme/deploy"),
    ("ssh://git:hunter2@git.example.com/acme/deploy", "ssh://git.example.com/acme/deploy"),
    ("ssh://git@github.com/acme/deploy", "ssh://git@github.com/acme/deploy"),
    ("git@github.com:acme/deploy.git", "git@github.com:acme/deploy.git"),
])
def test_credentials_are_dropped_from_repo_urls(url: str, shown: str) -> None:
    assert safe_url(url) == shown


async def test_an_app_named_namespace_slash_name_is_served_at_its_escaped_and_plain_paths(served: Served) -> None:
    served.source.apps["flux-system/shop"] = (app_config("flux-system/shop"),
                                              app_status("flux-system/shop", AppState.SUSPENDED))
    for path in ("/api/v1/apps/flux-system%2Fshop", "/api/v1/apps/flux-system/shop"):
        assert (await get_json(served, path))["name"] == "flux-system/shop"
    history = await get_json(served, "/api/v1/apps/flux-system%2Fshop/history")
    assert history["app"] == "flux-system/shop"
    async with served.session.get(served.url + "/api/v1/apps/flux-system/shop/badge.svg") as resp:
        assert resp.status == 200 and "Suspended" in await resp.text()


async def test_an_app_deployed_by_flux_carries_what_flux_says_of_it(served: Served) -> None:
    status = app_status("flux-system/shop", AppState.DEGRADED)
    status.deployer = DeployerState("Flux Kustomization flux-system/shop", "main@sha1:" + "0" * 40,
                                    source_revision="main@sha1:" + "1" * 40, failed="BuildFailed: bad patch")
    served.source.apps["flux-system/shop"] = (app_config("flux-system/shop"), status)
    deployer = (await get_json(served, "/api/v1/apps/flux-system%2Fshop"))["deployer"]
    assert deployer == {"object": "Flux Kustomization flux-system/shop", "appliedRevision": "main@sha1:" + "0" * 40,
                        "sourceRevision": "main@sha1:" + "1" * 40, "behind": True, "suspended": False,
                        "failed": "BuildFailed: bad patch", "reconciling": None}
    others = {a["name"]: a for a in await get_json(served, "/api/v1/apps")}
    assert others["checkout"]["deployer"] is None
