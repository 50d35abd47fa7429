"""Helm's own record on the real API server: a release installed and upgraded with Helm's library
(helm-python-sdk, Helm 4), its chart in Git one commit ahead. What the release's manifest holds and
Git's render does not is drift, named after the release; once Helm upgrades, it is synced."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from scenario import Scenario, drift

from exporter.model import AppStatus

helm_python = pytest.importorskip("helm_python", reason="Helm's library (pip install helm-python-sdk)")

CHART = """
apiVersion: v2
name: web
version: 1.0.0
"""
TEMPLATES = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app.kubernetes.io/instance: "{{ .Release.Name }}"}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.25
          env:
            - {name: MODE, value: production}
            {{- if .Values.debug }}
            - {name: DEBUG, value: "true"}
            {{- end }}
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  labels: {app.kubernetes.io/instance: "{{ .Release.Name }}"}
stringData:
  password: hunter2-{{ .Values.generation }}
  {{- if .Values.debug }}
  debug-token: s3cr3t-debug
  {{- end }}
"""


def write_chart(root: Path, debug: bool, generation: int) -> Path:
    (root / "templates").mkdir(parents=True, exist_ok=True)
    (root / "Chart.yaml").write_text(textwrap.dedent(CHART).lstrip())
    (root / "values.yaml").write_text(f"debug: {str(debug).lower()}\ngeneration: {generation}\n")
    (root / "templates" / "app.yaml").write_text(textwrap.dedent(TEMPLATES).lstrip())
    return root


@pytest.fixture
def scenario(control_plane, namespace, work) -> Scenario:
    return Scenario(control_plane, namespace, work)


def commit_chart(scenario: Scenario, debug: bool) -> None:
    write_chart(scenario.repo / "chart", debug, 1)
    scenario.commit("", path="chart/.keep")


def helm(scenario: Scenario) -> helm_python.Config:
    return helm_python.Config(kubeconfig_path=str(scenario.plane.admin_kubeconfig), namespace=scenario.namespace)


async def evaluate(scenario: Scenario) -> AppStatus:
    return await scenario.evaluate(source={"path": "chart", "helm": {}})


async def test_what_an_older_release_holds_and_git_dropped_is_drift_named_after_the_release(
        scenario: Scenario) -> None:
    old = write_chart(scenario.work / "chart-v1", debug=True, generation=1)
    with helm(scenario) as config:
        config.install(str(old), scenario.app, namespace=scenario.namespace)
    commit_chart(scenario, debug=False)
    status = await evaluate(scenario)
    assert drift(status) == ["Deployment/web /spec/template/spec/containers/0/env/1", "Secret/creds /data/debug-token"]
    reasons = {d.reason for o in status.objects if o.diff for d in o.diff.differences}
    assert reasons == {f"not deployed yet: Git at {scenario.head()[:7]} removes env DEBUG "
                       f"(last applied by helm release {scenario.app} revision 1)",
                       f"not deployed yet: Git at {scenario.head()[:7]} removes it "
                       f"(last applied by helm release {scenario.app} revision 1)"}
    shown = repr(status)
    assert "s3cr3t-debug" not in shown and "hunter2" not in shown


async def test_after_helm_upgrades_to_git_s_chart_the_app_is_synced(scenario: Scenario) -> None:
    with helm(scenario) as config:
        config.install(str(write_chart(scenario.work / "chart-v1", debug=True, generation=1)), scenario.app,
                       namespace=scenario.namespace)
        commit_chart(scenario, debug=False)
        config.upgrade(str(scenario.repo / "chart"), scenario.app, namespace=scenario.namespace)
    status = await evaluate(scenario)
    assert drift(status) == []


async def test_a_release_kept_in_configmaps_is_read_too(scenario: Scenario) -> None:
    old = write_chart(scenario.work / "chart-v1", debug=True, generation=1)
    with helm_python.Config(kubeconfig_path=str(scenario.plane.admin_kubeconfig), namespace=scenario.namespace,
                            storage_driver="configmap") as config:
        config.install(str(old), scenario.app, namespace=scenario.namespace)
    commit_chart(scenario, debug=False)
    status = await evaluate(scenario)
    assert "Deployment/web /spec/template/spec/containers/0/env/1" in drift(status)
    assert any("helm release" in d.reason for o in status.objects if o.diff for d in o.diff.differences)


async def test_a_disabled_dependency_from_an_unreachable_registry_is_not_needed(scenario: Scenario) -> None:
    chart = write_chart(scenario.repo / "chart", debug=False, generation=1)
    (chart / "Chart.yaml").write_text(textwrap.dedent(CHART).lstrip() + textwrap.dedent("""
        dependencies:
          - name: sdk-server
            version: 0.4.0
            repository: oci://127.0.0.1:9/charts
            condition: sdk-server.enabled
        """))
    (chart / "values.yaml").write_text("debug: false\ngeneration: 1\nsdk-server: {enabled: false}\n")
    scenario.commit("", path="chart/.keep")
    scenario.apply(TEMPLATES.replace('"{{ .Release.Name }}"', scenario.app).replace(
        "hunter2-{{ .Values.generation }}", "hunter2-1").replace("{{- if .Values.debug }}", "").replace(
        "{{- end }}", "").replace("            - {name: DEBUG, value: \"true\"}\n", "").replace(
        "  debug-token: s3cr3t-debug\n", ""))
    status = await evaluate(scenario)
    assert status.error is None, status.error
    assert drift(status) == []
