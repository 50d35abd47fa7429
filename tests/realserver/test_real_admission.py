"""What the API server's own admission plugins add is not drift, each where that server adds it:
the default tolerations (DefaultTolerationSeconds), the default StorageClass (DefaultStorageClass)
and IngressClass (DefaultIngressClass), LimitRange defaults (LimitRanger) and the service-account
token volume and mounts (ServiceAccount). Every test first proves the server did add it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from scenario import Scenario, drift

MODES = pytest.mark.parametrize("server_side", [False, True], ids=["client-side", "server-side"])

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: job
  labels: {app.kubernetes.io/instance: $APP}
spec:
  tolerations:
    - {key: dedicated, operator: Equal, value: batch, effect: NoSchedule}
  containers:
    - name: main
      image: busybox:1.36
      command: [sleep, "3600"]
      resources: {limits: {cpu: 500m}}
      volumeMounts:
        - {name: work, mountPath: /work}
  volumes:
    - {name: work, emptyDir: {}}
"""


@pytest.fixture
def scenario(control_plane, namespace, work) -> Scenario:
    return Scenario(control_plane, namespace, work)


@MODES
async def test_a_pod_s_default_tolerations_are_not_drift(scenario: Scenario, server_side: bool) -> None:
    scenario.commit(POD)
    scenario.apply(server_side=server_side)
    keys = [t["key"] for t in scenario.get("pod", "job")["spec"]["tolerations"]]
    assert keys == ["dedicated", "node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]
    status = await scenario.evaluate()
    assert drift(status) == []
    ignored = {d.ignored_by for o in status.objects if o.diff for d in o.diff.ignored}
    assert "admission:DefaultTolerationSeconds" in ignored


async def test_a_toleration_added_by_hand_is_still_drift(scenario: Scenario) -> None:
    scenario.commit(POD)
    scenario.apply()
    live = scenario.get("pod", "job")
    tolerations = [*live["spec"]["tolerations"], {"key": "spot", "operator": "Exists", "effect": "NoSchedule"}]
    scenario.kubectl("patch", "pod", "job", "--type=merge", "-p",
                     json.dumps({"spec": {"tolerations": tolerations}}), "--field-manager=kubectl-edit")
    status = await scenario.evaluate()
    assert drift(status) == ["Pod/job /spec/tolerations/3"]


@MODES
async def test_limit_range_defaults_and_the_token_volume_are_not_drift(scenario: Scenario,
                                                                       server_side: bool) -> None:
    scenario.kubectl("apply", "-f", "-", input="""
apiVersion: v1
kind: LimitRange
metadata: {name: defaults}
spec:
  limits:
    - type: Container
      default: {memory: 256Mi}
      defaultRequest: {memory: 128Mi, cpu: 100m}
""")
    scenario.commit(POD)
    scenario.apply(server_side=server_side)
    container = scenario.get("pod", "job")["spec"]["containers"][0]
    # The server's own rule: a request left out takes the container's limit before the default.
    assert container["resources"] == {"limits": {"cpu": "500m", "memory": "256Mi"},
                                      "requests": {"cpu": "500m", "memory": "128Mi"}}
    assert [m["mountPath"] for m in container["volumeMounts"]] == [
        "/work", "/var/run/secrets/kubernetes.io/serviceaccount"]
    assert len(scenario.get("pod", "job")["spec"]["volumes"]) == 2
    status = await scenario.evaluate()
    assert drift(status) == []


@pytest.fixture
def default_classes(scenario: Scenario) -> Iterator[None]:
    """A default StorageClass and IngressClass for the cluster, removed after the test."""
    scenario.plane.kubectl("apply", "-f", "-", input="""
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: example.com/disks
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: example.com/ingress}
""")
    yield
    scenario.plane.kubectl("delete", "storageclass", "standard", "--wait=false")
    scenario.plane.kubectl("delete", "ingressclass", "nginx", "--wait=false")


@MODES
async def test_the_default_storage_and_ingress_classes_are_not_drift(scenario: Scenario, server_side: bool,
                                                                     default_classes: None) -> None:
    scenario.commit("""
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
  labels: {app.kubernetes.io/instance: $APP}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  labels: {app.kubernetes.io/instance: $APP}
spec:
  rules:
    - host: web.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: web, port: {number: 80}}}
""")
    scenario.apply(server_side=server_side)
    assert scenario.get("pvc", "data")["spec"]["storageClassName"] == "standard"
    assert scenario.get("ingress", "web")["spec"]["ingressClassName"] == "nginx"
    status = await scenario.evaluate()
    assert drift(status) == []
