"""Objects over their life: fields dropped from Git between two applies, children that controllers
make, custom resources whose CRD the server defaults or does not fully store, webhooks whose CA an
operator fills in, Pods that admission changes and a kubelet reports on."""

from __future__ import annotations

import asyncio
import json

import pytest
from scenario import Scenario, drift

from exporter.model import AppState, Health

MODES = pytest.mark.parametrize("server_side", [False, True], ids=["client-side", "server-side"])

BEFORE = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels: {app.kubernetes.io/instance: $APP, tier: web}
data:
  mode: production
  legacy: "yes"
"""
AFTER = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels: {app.kubernetes.io/instance: $APP}
data:
  mode: production
"""


@pytest.fixture
def scenario(control_plane, namespace, work) -> Scenario:
    return Scenario(control_plane, namespace, work)


@MODES
async def test_a_field_removed_from_git_but_still_live_is_drift(scenario: Scenario, server_side: bool) -> None:
    scenario.commit(BEFORE)
    scenario.apply(server_side=server_side)
    scenario.commit(AFTER)  # the pipeline has not applied this commit yet
    status = await scenario.evaluate()
    assert drift(status) == ["ConfigMap/settings /data/legacy", "ConfigMap/settings /metadata/labels/tier"]
    reasons = {d.path: d.reason for o in status.objects if o.diff for d in o.diff.differences}
    deployer = "kubectl" if server_side else "kubectl apply"
    assert reasons["/data/legacy"] == \
        f"not deployed yet: Git at {scenario.head()[:7]} removes it (last applied by {deployer})"


@MODES
async def test_once_the_pipeline_applies_the_removal_it_is_synced(scenario: Scenario, server_side: bool) -> None:
    scenario.commit(BEFORE)
    scenario.apply(server_side=server_side)
    scenario.commit(AFTER)
    scenario.apply(server_side=server_side)
    assert drift(await scenario.evaluate()) == []


STATEFULSET = """
apiVersion: v1
kind: Service
metadata: {name: db, labels: {app.kubernetes.io/instance: $APP}}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, labels: {app.kubernetes.io/instance: $APP}}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db, app.kubernetes.io/instance: $APP}}
    spec:
      containers: [{name: db, image: "postgres:16", volumeMounts: [{name: data, mountPath: /data}]}]
  volumeClaimTemplates:
    - metadata: {name: data, labels: {app.kubernetes.io/instance: $APP}}
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 1Gi}}
"""


@MODES
async def test_children_made_by_controllers_are_not_extraneous(scenario: Scenario, server_side: bool) -> None:
    scenario.commit(STATEFULSET)
    scenario.apply(server_side=server_side)
    for _ in range(300):
        if scenario.kubectl("get", "pvc", "--ignore-not-found", "-o", "name", "data-db-0").strip():
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the StatefulSet controller made no PVC")
    status = await scenario.evaluate()
    assert drift(status) == []


CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.$NS.example.com}
spec:
  group: $NS.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
    - name: v1beta1
      served: true
      storage: false
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer, default: 1}
                memory: {x-kubernetes-int-or-string: true, pattern: '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$'}
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              x-kubernetes-validations: [{rule: "self.size >= 0", message: size must not be negative}]
              properties:
                size: {type: integer, default: 1}
                memory: {x-kubernetes-int-or-string: true, pattern: '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$'}
                mode: {type: string, default: fast}
      selectableFields: [{jsonPath: .spec.mode}]
"""
WIDGET = """
apiVersion: $NS.example.com/$VERSION
kind: Widget
metadata: {name: small}
spec:
  memory: 0.5Gi
"""


@MODES
@pytest.mark.parametrize("version", ["v1", "v1beta1"])
async def test_a_custom_resource_and_its_crd_compare_synced(scenario: Scenario, server_side: bool,
                                                           version: str) -> None:
    crd = CRD.replace("$NS", scenario.namespace)
    widget = WIDGET.replace("$NS", scenario.namespace).replace("$VERSION", version)
    scenario.commit(crd + "---\n" + widget)
    # A 1.24 server cannot take selectableFields by server-side apply at all ("field not declared in
    # schema"); client-side apply with --validate=false stores the CRD without it, as users do.
    scenario.plane.kubectl("apply", "--validate=false", "-f", "-", input=scenario.manifests.split("---")[0])
    scenario.plane.kubectl("wait", "--for=condition=Established", f"crd/widgets.{scenario.namespace}.example.com",
                           "--timeout=30s")
    scenario.apply(scenario.manifests.split("---")[1], server_side=server_side)
    status = await scenario.evaluate()
    assert drift(status) == []
    crd_status = next(o for o in status.objects if o.key.kind == "CustomResourceDefinition")
    not_stored = sorted(d.path for d in crd_status.diff.ignored if d.ignored_by == "not stored by this server") \
        if crd_status.diff else []
    if scenario.plane.assets.name == "k8s-1.24":  # fields later versions added: 1.24 drops them
        assert "/spec/versions/1/selectableFields" in not_stored
        assert "/spec/versions/1/schema/openAPIV3Schema/properties/spec/x-kubernetes-validations" in not_stored
    else:  # 1.36 stores both: they are compared like any other field
        assert not_stored == []


WEBHOOK = """
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: $NS-policy}
webhooks:
  - name: policy.$NS.example.com
    admissionReviewVersions: [v1]
    sideEffects: None
    clientConfig:
      caBundle: ""
      service: {name: policy, namespace: $NS, path: /validate}
    rules:
      - apiGroups: [""]
        apiVersions: [v1]
        operations: [CREATE]
        resources: [configmaps]
    namespaceSelector: {matchLabels: {policy-test: "on"}}
"""


@MODES
async def test_a_webhook_ca_filled_in_by_its_operator_is_not_drift(scenario: Scenario, server_side: bool) -> None:
    scenario.commit(WEBHOOK.replace("$NS", scenario.namespace))
    scenario.apply(server_side=server_side)
    name = f"{scenario.namespace}-policy"
    scenario.plane.server_side_apply(
        f"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/{name}",
        f"""apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {{name: {name}}}
webhooks:
  - name: policy.{scenario.namespace}.example.com
    clientConfig: {{caBundle: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="}}
""", "cert-manager-cainjector")
    assert drift(await scenario.evaluate()) == []


POD = """
apiVersion: v1
kind: Pod
metadata: {name: worker}
spec:
  containers: [{name: worker, image: "busybox:1.36", args: [sleep, "3600"]}]
"""


async def test_admission_adds_tolerations_and_a_kubelet_reports_a_crash_loop(scenario: Scenario) -> None:
    scenario.commit(POD)
    scenario.apply()
    live = scenario.get("pod", "worker")
    assert len(live["spec"]["tolerations"]) == 2  # DefaultTolerationSeconds, as every Pod gets
    assert drift(await scenario.evaluate()) == []
    status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
              "containerStatuses": [{"name": "worker", "ready": False, "restartCount": 7, "image": "busybox:1.36",
                                     "imageID": "", "started": False,
                                     "state": {"waiting": {"reason": "CrashLoopBackOff",
                                                           "message": "back-off 5m0s restarting failed container"}},
                                     "lastState": {}}]}
    scenario.plane.request("PATCH", f"/api/v1/namespaces/{scenario.namespace}/pods/worker/status",
                           json.dumps({"status": status}), "application/merge-patch+json")
    result = await scenario.evaluate()
    assert result.state is AppState.DEGRADED
    pod = next(o for o in result.objects if o.key.kind == "Pod")
    assert pod.health is not None and pod.health.status is Health.DEGRADED


CHART_WITH_NULL = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: $NS-empty, labels: {app.kubernetes.io/instance: $APP}}
rules:
"""


@MODES
async def test_a_null_field_from_a_chart_is_not_an_addition(scenario: Scenario, server_side: bool) -> None:
    scenario.commit(CHART_WITH_NULL.replace("$NS", scenario.namespace))
    scenario.apply(server_side=server_side)
    assert drift(await scenario.evaluate()) == []
