"""Fields and objects that controllers own: token Secrets the token controller fills, ReplicaSets
and Pods a Deployment makes, addresses the server allocates, and values written in another spelling
(int-or-string, percentages) that the server keeps as written or converts."""

from __future__ import annotations

import asyncio

import pytest
from scenario import Scenario, drift

MODES = pytest.mark.parametrize("server_side", [False, True], ids=["client-side", "server-side"])


@pytest.fixture
def scenario(control_plane, namespace, work) -> Scenario:
    return Scenario(control_plane, namespace, work)


async def eventually(check, what: str, within: float = 30.0) -> None:
    for _ in range(int(within / 0.1)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} never happened")


@MODES
async def test_a_token_secret_filled_by_the_token_controller_is_not_drift(scenario: Scenario,
                                                                         server_side: bool) -> None:
    scenario.commit("""
apiVersion: v1
kind: ServiceAccount
metadata: {name: robot}
---
apiVersion: v1
kind: Secret
metadata:
  name: robot-token
  annotations: {kubernetes.io/service-account.name: robot}
type: kubernetes.io/service-account-token
""")
    scenario.apply(server_side=server_side)
    await eventually(lambda: "token" in (scenario.get("secret", "robot-token").get("data") or {}),
                     "the token controller filling the Secret")
    assert drift(await scenario.evaluate()) == []


@MODES
async def test_replicasets_and_pods_a_deployment_makes_are_not_extraneous(scenario: Scenario,
                                                                         server_side: bool) -> None:
    scenario.commit("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app.kubernetes.io/instance: $APP}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, app.kubernetes.io/instance: $APP}}
    spec:
      containers: [{name: web, image: "nginx:1.25"}]
""")
    scenario.apply(server_side=server_side)
    await eventually(lambda: len(scenario.kubectl("get", "pods", "-o", "name").split()) == 2,
                     "the ReplicaSet controller making two Pods")
    status = await scenario.evaluate()
    assert drift(status) == []
    assert [o.key.kind for o in status.objects] == ["Deployment"]


@MODES
async def test_addresses_the_server_allocates_where_git_leaves_them_empty_are_not_drift(
        scenario: Scenario, server_side: bool) -> None:
    scenario.commit("""
apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  type: NodePort
  clusterIP: ""
  selector: {app: api}
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: null}]
""")
    scenario.apply(server_side=server_side)
    live = scenario.get("service", "api")
    assert live["spec"]["clusterIP"] and live["spec"]["ports"][0]["nodePort"]
    assert drift(await scenario.evaluate()) == []


@MODES
async def test_int_or_string_and_percentages_compare_as_the_server_keeps_them(scenario: Scenario,
                                                                             server_side: bool) -> None:
    scenario.commit("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: roll}
spec:
  selector: {matchLabels: {app: roll}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: "50%", maxUnavailable: 1}
  template:
    metadata: {labels: {app: roll}}
    spec:
      containers:
        - name: roll
          image: nginx:1.25
          ports: [{name: http, containerPort: 8080}]
          livenessProbe: {httpGet: {path: /, port: http}}
          readinessProbe: {tcpSocket: {port: 8080}}
---
apiVersion: v1
kind: Service
metadata: {name: roll}
spec:
  selector: {app: roll}
  ports: [{port: 80, targetPort: http}]
""")
    scenario.apply(server_side=server_side)
    assert drift(await scenario.evaluate()) == []
    scenario.kubectl("patch", "deployment", "roll", "--type=merge",
                     "-p", '{"spec":{"strategy":{"rollingUpdate":{"maxSurge":"75%"}}}}')
    assert drift(await scenario.evaluate()) == ["Deployment/roll /spec/strategy/rollingUpdate/maxSurge"]
