"""Three-way truth on the real API server: whoever deployed an object, what they last applied and Git
no longer declares is drift, inside keyed lists too; and the reason says which side moved."""

from __future__ import annotations

import pytest
from scenario import Scenario, drift

from exporter.model import AppState, AppStatus, FieldDiff

MODES = pytest.mark.parametrize("server_side", [False, True], ids=["client-side", "server-side"])

BEFORE = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app.kubernetes.io/instance: $APP}
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
            - {name: DEBUG, value: "true"}
          ports:
            - {name: http, containerPort: 8080}
            - {name: metrics, containerPort: 9090}
          volumeMounts:
            - {name: config, mountPath: /etc/web}
            - {name: scratch, mountPath: /scratch}
      volumes:
        - {name: config, configMap: {name: settings}}
        - {name: scratch, emptyDir: {}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels: {app.kubernetes.io/instance: $APP, tier: web}
data:
  mode: production
  legacy: "yes"
"""

#: The next commit: env DEBUG, port 9090, the scratch volume and its mount, a key and a label gone.
AFTER = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app.kubernetes.io/instance: $APP}
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
          ports:
            - {name: http, containerPort: 8080}
          volumeMounts:
            - {name: config, mountPath: /etc/web}
      volumes:
        - {name: config, configMap: {name: settings}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels: {app.kubernetes.io/instance: $APP}
data:
  mode: production
"""

CONTAINER = "Deployment/web /spec/template/spec/containers/0"
#: Where each is live: the second item of each list.
REMOVED = [f"{CONTAINER}/env/1", f"{CONTAINER}/ports/1", f"{CONTAINER}/volumeMounts/1",
           "ConfigMap/settings /data/legacy", "ConfigMap/settings /metadata/labels/tier",
           "Deployment/web /spec/template/spec/volumes/1"]


@pytest.fixture
def scenario(control_plane, namespace, work) -> Scenario:
    return Scenario(control_plane, namespace, work)


def fields(status: AppStatus) -> list[FieldDiff]:
    return [d for o in status.objects if o.diff for d in o.diff.differences]


@MODES
async def test_items_git_drops_from_keyed_lists_are_drift_until_applied(scenario: Scenario,
                                                                        server_side: bool) -> None:
    scenario.commit(BEFORE)
    scenario.apply(server_side=server_side)
    scenario.commit(AFTER)  # the pipeline has not applied this commit yet
    status = await scenario.evaluate()
    assert status.state is AppState.OUT_OF_SYNC
    assert drift(status) == sorted(REMOVED)
    by_live = {d.live["name"]: d for d in fields(status) if isinstance(d.live, dict) and "name" in d.live}
    deployer = "kubectl" if server_side else "kubectl apply"
    assert by_live["DEBUG"].reason == \
        f"not deployed yet: Git at {scenario.head()[:7]} removes env DEBUG (last applied by {deployer})"
    assert {d.direction for d in fields(status)} == {"git"}


@MODES
async def test_once_the_new_commit_is_applied_the_lists_are_synced(scenario: Scenario, server_side: bool) -> None:
    scenario.commit(BEFORE)
    scenario.apply(server_side=server_side)
    scenario.commit(AFTER)
    scenario.apply(server_side=server_side)
    status = await scenario.evaluate()
    assert drift(status) == []
    assert status.state is AppState.HEALTHY or status.state is AppState.PROGRESSING


@MODES
async def test_a_hand_apply_of_a_local_copy_is_drift(scenario: Scenario, server_side: bool) -> None:
    scenario.commit(AFTER)
    scenario.apply(server_side=server_side)
    local = scenario.manifests.replace("          image: nginx:1.25\n",
                                       "          image: nginx:1.25\n"
                                       "          resources: {limits: {memory: 512Mi}}\n")
    scenario.apply(local, server_side=server_side)  # someone's checkout, not Git
    status = await scenario.evaluate()
    assert drift(status) == [f"{CONTAINER}/resources/limits/memory"]
    assert all(d.reason.startswith("not deployed yet: Git at ") for d in fields(status))


async def test_a_pipeline_s_own_field_manager_is_found_without_configuration(scenario: Scenario) -> None:
    scenario.commit(BEFORE)
    scenario.apply(server_side=True, manager="ci-deploy")
    scenario.commit(AFTER)
    status = await scenario.evaluate()  # no applyManagers in the config
    assert drift(status) == sorted(REMOVED)
    assert all(d.reason.endswith("(last applied by ci-deploy)") for d in fields(status))


async def test_an_operator_s_own_server_side_apply_is_not_taken_for_a_deployer(scenario: Scenario) -> None:
    scenario.commit(AFTER)
    scenario.apply(server_side=True, manager="ci-deploy")
    # An operator applies its own annotation and label with a field manager of its own.
    scenario.plane.server_side_apply(
        f"/api/v1/namespaces/{scenario.namespace}/configmaps/settings",
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", '
        '"annotations": {"operator.example.com/seen": "yes"}}, "data": {"operator-state": "ok"}}',
        "example-operator")
    status = await scenario.evaluate()
    assert drift(status) == []


@MODES
async def test_a_kubectl_edit_says_who_changed_it_live(scenario: Scenario, server_side: bool) -> None:
    scenario.commit(AFTER)
    scenario.apply(server_side=server_side)
    scenario.kubectl("patch", "configmap", "settings", "--type=merge", "-p", '{"data": {"mode": "debug"}}',
                     "--field-manager=kubectl-edit")
    status = await scenario.evaluate()
    (mode,) = fields(status)
    assert (mode.path, mode.direction, mode.reason) == ("/data/mode", "live", "changed live by kubectl-edit")


@MODES
async def test_a_value_git_changed_says_it_is_not_deployed_yet(scenario: Scenario, server_side: bool) -> None:
    scenario.commit(AFTER)
    scenario.apply(server_side=server_side)
    scenario.commit(AFTER.replace("mode: production", "mode: staging"))
    status = await scenario.evaluate()
    (mode,) = fields(status)
    manager = "kubectl" if server_side else "kubectl-client-side-apply"
    assert (mode.path, mode.direction) == ("/data/mode", "git")
    assert mode.reason == (f"not deployed yet: Git at {scenario.head()[:7]} sets another value "
                           f"(live is what {manager} last applied)")
