"""What happens in real clusters after Git was applied: hand edits with each kubectl verb are drift;
controllers, operators and admission writing their own fields are not."""

from __future__ import annotations

import json

import pytest
from scenario import Scenario, drift

from exporter.model import AppState

MODES = pytest.mark.parametrize("server_side", [False, True], ids=["client-side", "server-side"])

APP = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app.kubernetes.io/instance: $APP}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, app.kubernetes.io/instance: $APP}
    spec:
      containers:
        - name: web
          image: nginx:1.25
          env: [{name: MODE, value: production}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels: {app.kubernetes.io/instance: $APP}
data:
  mode: production
  banner: ""
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  labels: {app.kubernetes.io/instance: $APP}
stringData: {password: hunter2}
"""


@pytest.fixture
def scenario(control_plane, namespace, work) -> Scenario:
    s = Scenario(control_plane, namespace, work)
    s.commit(APP)
    return s


@MODES
async def test_kubectl_edit_adding_a_label_is_drift(scenario: Scenario, server_side: bool) -> None:
    scenario.apply(server_side=server_side)
    scenario.kubectl("patch", "configmap", "settings", "--type=merge", "--field-manager=kubectl-edit",
                     "-p", '{"metadata":{"labels":{"owner":"someone"}}}')
    assert drift(await scenario.evaluate()) == ["ConfigMap/settings /metadata/labels/owner"]


@MODES
async def test_kubectl_label_is_drift(scenario: Scenario, server_side: bool) -> None:
    scenario.apply(server_side=server_side)
    scenario.kubectl("label", "configmap", "settings", "hotfix=yes")
    assert drift(await scenario.evaluate()) == ["ConfigMap/settings /metadata/labels/hotfix"]


@MODES
async def test_kubectl_annotate_is_drift(scenario: Scenario, server_side: bool) -> None:
    scenario.apply(server_side=server_side)
    scenario.kubectl("annotate", "deployment", "web", "note=changed by hand")
    assert drift(await scenario.evaluate()) == ["Deployment/web /metadata/annotations/note"]


@MODES
async def test_kubectl_scale_is_drift(scenario: Scenario, server_side: bool) -> None:
    scenario.apply(server_side=server_side)
    scenario.kubectl("scale", "deployment", "web", "--replicas=5")
    assert drift(await scenario.evaluate()) == ["Deployment/web /spec/replicas"]


@MODES
async def test_kubectl_set_env_is_drift(scenario: Scenario, server_side: bool) -> None:
    scenario.apply(server_side=server_side)
    scenario.kubectl("set", "env", "deployment/web", "MODE=debug")
    assert drift(await scenario.evaluate()) == ["Deployment/web /spec/template/spec/containers/0/env/0/value"]


@MODES
async def test_kubectl_patch_of_data_is_drift(scenario: Scenario, server_side: bool) -> None:
    scenario.apply(server_side=server_side)
    scenario.kubectl("patch", "configmap", "settings", "--type=merge", "-p", '{"data":{"mode":"debug"}}')
    assert drift(await scenario.evaluate()) == ["ConfigMap/settings /data/mode"]


@MODES
async def test_a_hand_edit_of_a_value_git_sets_to_the_empty_string_is_drift(scenario: Scenario,
                                                                            server_side: bool) -> None:
    scenario.apply(server_side=server_side)
    scenario.kubectl("patch", "configmap", "settings", "--type=merge", "-p", '{"data":{"banner":"hello"}}')
    assert drift(await scenario.evaluate()) == ["ConfigMap/settings /data/banner"]


@MODES
async def test_a_changed_secret_value_is_drift_and_never_shown(scenario: Scenario, server_side: bool) -> None:
    scenario.apply(server_side=server_side)
    scenario.kubectl("patch", "secret", "creds", "--type=merge", "-p", '{"stringData":{"password":"s3cr3t-n3w"}}')
    status = await scenario.evaluate()
    assert drift(status) == ["Secret/creds /data/password"]
    shown = json.dumps([str(o.diff) for o in status.objects])
    assert "s3cr3t-n3w" not in shown and "hunter2" not in shown


@MODES
async def test_an_object_deleted_live_is_missing(scenario: Scenario, server_side: bool) -> None:
    scenario.apply(server_side=server_side)
    scenario.kubectl("delete", "configmap", "settings")
    status = await scenario.evaluate()
    assert drift(status) == ["ConfigMap/settings missing"]
    assert status.state is AppState.MISSING


@MODES
async def test_an_hpa_scaling_through_the_scale_subresource_is_not_drift(scenario: Scenario,
                                                                         server_side: bool) -> None:
    scenario.commit(APP + """---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 6
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}}]
""")
    scenario.apply(server_side=server_side)
    scenario.kubectl("patch", "deployment", "web", "--subresource=scale", "--type=merge",
                     "--field-manager=horizontal-pod-autoscaler", "-p", '{"spec":{"replicas":4}}')
    assert scenario.get("deployment", "web")["spec"]["replicas"] == 4
    assert drift(await scenario.evaluate()) == []


@MODES
async def test_an_operator_writing_its_own_fields_by_server_side_apply_is_not_drift(scenario: Scenario,
                                                                                   server_side: bool) -> None:
    scenario.apply(server_side=server_side)
    scenario.plane.server_side_apply(f"/api/v1/namespaces/{scenario.namespace}/configmaps/settings", """
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  annotations: {operator.example.com/synced-at: "2026-11-27T10:00:00Z"}
data:
  generated: by-the-operator
""", "example-operator")
    assert drift(await scenario.evaluate()) == []


@MODES
async def test_a_controller_writing_status_is_not_drift(scenario: Scenario, server_side: bool) -> None:
    scenario.apply(server_side=server_side)
    # kube-controller-manager makes ReplicaSets and writes the Deployment's status meanwhile.
    scenario.plane.kubectl("wait", "--for=condition=Progressing", "deployment/web", "-n", scenario.namespace,
                           "--timeout=60s")
    status = await scenario.evaluate()
    assert drift(status) == []
