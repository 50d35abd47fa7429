"""Argo CD Applications and AppProjects turned into apps and windows (pure conversion)."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
import yaml

from exporter.argocd import application_app, project_windows, selector_matches
from exporter.config_types import ArgoCDAppSource

SOURCE = ArgoCDAppSource(cluster="mgmt", namespace="argocd",
                         destinations={"https://prod.example.com:6443": "prod"}, origin="config.yaml:12")
CLUSTERS = ["mgmt", "prod", "staging"]


def application(spec: str, name: str = "web") -> dict[str, Any]:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd", "labels": {"team": "shop"}},
            "spec": yaml.safe_load(textwrap.dedent(spec).strip() if spec.startswith("\n") else spec)}


def test_a_git_application_keeps_its_source_destination_project_and_ignore_rules():
    app = application_app(application("""
        project: shop
        source: {repoURL: "https://git.example.com/deploy.git", targetRevision: main, path: apps/web}
        destination: {server: "https://prod.example.com:6443", namespace: web}
        ignoreDifferences:
          - {group: apps, kind: Deployment, jsonPointers: [/spec/replicas]}
    """), SOURCE, CLUSTERS)
    assert app.invalid is None
    assert (app.name, app.project, app.labels) == ("web", "shop", {"team": "shop"})
    assert (app.source.repo_url, app.source.target_revision, app.source.path) == \
        ("https://git.example.com/deploy.git", "main", "apps/web")
    assert (app.destination.cluster, app.destination.namespace) == ("prod", "web")
    assert [r.json_pointers for r in app.compare.ignore_differences][-1] == ["/spec/replicas"]
    assert app.origin == "Application argocd/web on cluster mgmt"


def test_a_multi_source_application_with_an_oci_chart_and_git_values():
    app = application_app(application("""
        sources:
          - repoURL: registry.example.com/charts
            chart: web
            targetRevision: 1.4.*
            helm:
              valueFiles: [$values/prod/web.yaml]
              parameters:
                - {name: image.tag, value: "2.1"}
                - {name: replicas, value: "3"}
                - {name: build, value: "0042", forceString: true}
          - {repoURL: "https://git.example.com/values.git", targetRevision: main, ref: values}
        destination: {name: staging, namespace: web}
    """), SOURCE, CLUSTERS)
    assert app.invalid is None
    chart, values = app.sources
    assert (chart.repo_url, chart.chart, chart.target_revision) == ("oci://registry.example.com/charts", "web", "1.4.*")
    assert chart.helm.value_files == ["$values/prod/web.yaml"]
    # Helm's --set typing: integers become numbers, "2.1" stays a string, forceString keeps "0042"
    assert chart.helm.values == {"image": {"tag": "2.1"}, "replicas": 3, "build": "0042"}
    assert (values.ref, values.renders) == ("values", False)
    assert app.destination.cluster == "staging"


def test_the_in_cluster_destination_is_the_cluster_argo_cd_runs_on():
    app = application_app(application("""
        source: {repoURL: "https://git.example.com/deploy.git", path: web}
        destination: {name: in-cluster, namespace: web}
    """), SOURCE, CLUSTERS)
    assert app.destination.cluster == "mgmt"


@pytest.mark.parametrize(("spec", "reason"), [
    ("""source: {repoURL: "https://git.example.com/d.git", path: web, plugin: {name: vault}}
destination: {name: prod}""",
     "its source uses a config management plugin, which this agent does not run"),
    ("""source: {repoURL: "https://git.example.com/d.git", path: web}
destination: {server: "https://eu.example.com"}""",
     "destination https://eu.example.com is not a configured cluster; map it in appSources[].destinations"),
    ("""source: {repoURL: "https://git.example.com/d.git", path: web, kustomize: {namePrefix: prod-}}
destination: {name: prod}""",
     "spec.source.kustomize: unknown field 'namePrefix'; expected one of buildOptions"),
])
def test_an_application_the_agent_cannot_render_is_an_app_with_the_reason(spec, reason):
    app = application_app(application(spec), SOURCE, CLUSTERS)
    assert app.invalid is not None and app.invalid.startswith("Application argocd/web on cluster mgmt: ")
    assert reason in app.invalid
    assert (app.name, app.source.repo_url) == ("web", "https://git.example.com/d.git")


def test_an_app_project_s_windows_cover_only_its_apps_and_map_clusters():
    project = {"metadata": {"name": "shop"}, "spec": {"syncWindows": [
        {"kind": "deny", "schedule": "0 22 * * *", "duration": "8h", "applications": ["*"],
         "clusters": ["https://prod.example.com:6443", "in-cluster"], "timeZone": "Europe/Berlin"},
        {"kind": "allow", "schedule": "0 9 * * 1-5", "duration": "not a duration", "applications": ["*"]},
    ]}}
    [window] = project_windows(project, SOURCE)
    assert (window.kind, window.schedule, window.duration, window.time_zone) == \
        ("deny", "0 22 * * *", 8 * 3600, "Europe/Berlin")
    assert (window.projects, window.applications, window.clusters) == (["shop"], ["*"], ["prod", "mgmt"])


@pytest.mark.parametrize(("selector", "labels", "matches"), [
    ("", {}, True),
    ("team=shop", {"team": "shop"}, True),
    ("team==shop,tier!=db", {"team": "shop", "tier": "web"}, True),
    ("team=shop,tier!=db", {"team": "shop", "tier": "db"}, False),
    ("managed", {"managed": "yes"}, True),
    ("!legacy", {"legacy": "1"}, False),
])
def test_label_selectors_choose_applications(selector, labels, matches):
    assert selector_matches(selector, labels) is matches


def test_a_set_based_selector_is_named_as_unsupported():
    with pytest.raises(ValueError, match="set-based terms \\(in, notin\\) are not supported"):
        selector_matches("team in (a,b)", {})


def test_an_application_keeps_what_argo_cd_s_metrics_name_it_by():
    app = application_app(application("""
        source: {repoURL: "https://git.example.com/deploy.git", targetRevision: main, path: apps/web}
        destination: {server: "https://prod.example.com:6443", namespace: web}
        syncPolicy: {automated: {prune: true}}
    """), SOURCE, CLUSTERS)
    assert app.argocd is not None
    assert (app.argocd.namespace, app.argocd.server, app.argocd.autosync) == \
        ("argocd", "https://prod.example.com:6443", True)


def test_an_application_without_automated_sync_is_not_autosync_even_when_invalid():
    app = application_app(application("""
        source: {repoURL: "https://git.example.com/deploy.git", path: apps/web, plugin: {name: cmp}}
        destination: {name: prod, namespace: web}
        syncPolicy: {syncOptions: [CreateNamespace=true]}
    """), SOURCE, CLUSTERS)
    assert app.invalid is not None and app.argocd is not None
    assert (app.argocd.server, app.argocd.autosync) == ("", False)
