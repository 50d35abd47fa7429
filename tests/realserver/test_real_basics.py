"""Objects applied as users apply them compare Synced on the real server; hand edits are drift."""

from __future__ import annotations

import pytest
from scenario import Scenario, drift

from exporter.model import AppState

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.25
          ports: [{containerPort: 80}]
          resources:
            requests: {cpu: 100m, memory: 64Mi}
          readinessProbe:
            httpGet: {path: /, port: 80}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: production
  empty: ""
"""


@pytest.fixture
def scenario(control_plane, namespace, work) -> Scenario:
    return Scenario(control_plane, namespace, work)


@pytest.mark.parametrize("server_side", [False, True], ids=["client-side", "server-side"])
async def test_applied_objects_compare_synced(scenario: Scenario, server_side: bool) -> None:
    scenario.commit(DEPLOYMENT)
    scenario.apply(server_side=server_side)
    status = await scenario.evaluate()
    assert drift(status) == []
    assert status.state in (AppState.HEALTHY, AppState.PROGRESSING)


@pytest.mark.parametrize("server_side", [False, True], ids=["client-side", "server-side"])
async def test_kubectl_set_image_is_drift(scenario: Scenario, server_side: bool) -> None:
    scenario.commit(DEPLOYMENT)
    scenario.apply(server_side=server_side)
    scenario.kubectl("set", "image", "deployment/web", "web=nginx:1.27")
    assert drift(await scenario.evaluate()) == ["Deployment/web /spec/template/spec/containers/0/image"]
