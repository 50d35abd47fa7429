"""Spellings the API server treats as the same are the same; real changes still show."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from diff_fixtures import one

from exporter.config_types import CompareOptions
from exporter.diff import compare
from exporter.diff.quantity import parse_quantity, quantities_equal
from exporter.model import Sync

POD_TEMPLATE_GIT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    spec:
      imagePullSecrets: [{name: registry}]
      tolerations:
        - {key: dedicated, operator: Equal, value: shop, effect: NoSchedule}
        - {operator: Exists, effect: NoExecute}
      volumes:
        - {name: cache, emptyDir: {sizeLimit: 0.5Gi}}
        - {name: config, configMap: {name: api}}
      containers:
        - name: api
          image: registry.example/api:2
          args: [--listen, ":8080"]
          ports: [{containerPort: 8080}, {containerPort: 8125, protocol: UDP}]
          env: [{name: A, value: "1"}, {name: B, value: "2"}]
          volumeMounts: [{name: cache, mountPath: /cache}, {name: config, mountPath: /etc/api}]
          resources: {requests: {cpu: 0.1, memory: 0.5Gi}}
        - name: proxy
          image: registry.example/proxy:1
"""


def live_pod_template() -> dict[str, Any]:
    """What the server stores for POD_TEMPLATE_GIT: defaults in, quantities canonical, keyed lists in
    another order."""
    return one("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    spec:
      imagePullSecrets: [{name: registry}]
      tolerations:
        - {operator: Exists, effect: NoExecute}
        - {key: dedicated, operator: Equal, value: shop, effect: NoSchedule}
      volumes:
        - {name: config, configMap: {name: api, defaultMode: 420}}
        - {name: cache, emptyDir: {sizeLimit: 512Mi}}
      containers:
        - name: proxy
          image: registry.example/proxy:1
          imagePullPolicy: IfNotPresent
        - name: api
          image: registry.example/api:2
          imagePullPolicy: IfNotPresent
          args: [--listen, ":8080"]
          ports: [{containerPort: 8125, protocol: UDP}, {containerPort: 8080, protocol: TCP}]
          env: [{name: B, value: "2"}, {name: A, value: "1"}]
          volumeMounts: [{name: config, mountPath: /etc/api}, {name: cache, mountPath: /cache}]
          resources: {requests: {cpu: 100m, memory: 512Mi}}
          terminationMessagePath: /dev/termination-log
""")


def _diff_paths(desired: dict[str, Any], live: dict[str, Any]) -> list[str]:
    return [f.path for f in compare(desired, live, CompareOptions()).differences]


@pytest.mark.parametrize(("git", "live"), [
    ("1000m", "1"), (1, "1000m"), (0.1, "100m"), ("1Gi", "1024Mi"), ("0.5Gi", "512Mi"), ("1e3", "1k"),
    ("2", 2),
])
def test_equal_quantities_compare_equal(git: Any, live: Any) -> None:
    assert quantities_equal(git, live)


@pytest.mark.parametrize(("git", "live"), [("128M", "128Mi"), ("1", "1001m"), ("1Gi", "1G"), ("abc", "abc")])
def test_different_or_invalid_quantities_do_not_compare_equal(git: Any, live: Any) -> None:
    assert not quantities_equal(git, live)


def test_quantities_finer_than_a_nanounit_round_up_like_the_server() -> None:
    assert parse_quantity("0.0000000001") == parse_quantity("1n")


def test_server_rewritten_pod_template_is_synced() -> None:
    result = compare(one(POD_TEMPLATE_GIT), live_pod_template(), CompareOptions())

    assert result.sync is Sync.SYNCED, result.differences


def test_decimal_megabytes_are_not_binary_mebibytes() -> None:
    live = live_pod_template()
    live["spec"]["template"]["spec"]["containers"][1]["resources"]["requests"]["memory"] = "512M"

    assert _diff_paths(one(POD_TEMPLATE_GIT), live) == [
        "/spec/template/spec/containers/0/resources/requests/memory"]


def test_env_var_is_found_by_name_and_its_change_is_reported_at_its_git_position() -> None:
    live = live_pod_template()
    live["spec"]["template"]["spec"]["containers"][1]["env"][0]["value"] = "3"  # B, second in Git

    assert _diff_paths(one(POD_TEMPLATE_GIT), live) == ["/spec/template/spec/containers/0/env/1/value"]


def test_port_with_another_protocol_is_another_port() -> None:
    live = live_pod_template()
    live["spec"]["template"]["spec"]["containers"][1]["ports"][0]["protocol"] = "TCP"  # 8125/UDP gone

    assert _diff_paths(one(POD_TEMPLATE_GIT), live) == ["/spec/template/spec/containers/0/ports/1"]


def test_volume_mount_is_matched_by_mount_path() -> None:
    live = live_pod_template()
    live["spec"]["template"]["spec"]["containers"][1]["volumeMounts"][0]["name"] = "cache"

    assert _diff_paths(one(POD_TEMPLATE_GIT), live) == [
        "/spec/template/spec/containers/0/volumeMounts/1/name"]


def test_container_missing_live_is_reported_whole() -> None:
    live = live_pod_template()
    del live["spec"]["template"]["spec"]["containers"][0]  # proxy

    result = compare(one(POD_TEMPLATE_GIT), live, CompareOptions())

    assert [(f.path, f.desired["name"], f.live) for f in result.differences] == [
        ("/spec/template/spec/containers/1", "proxy", None)]


def test_args_are_positional() -> None:
    live = live_pod_template()
    live["spec"]["template"]["spec"]["containers"][1]["args"] = [":8080", "--listen"]

    assert _diff_paths(one(POD_TEMPLATE_GIT), live) == [
        "/spec/template/spec/containers/0/args/0", "/spec/template/spec/containers/0/args/1"]


def test_extra_live_arg_is_drift() -> None:
    live = live_pod_template()
    live["spec"]["template"]["spec"]["containers"][1]["args"].append("--debug")

    result = compare(one(POD_TEMPLATE_GIT), live, CompareOptions())

    assert [(f.path, f.desired, f.live) for f in result.differences] == [
        ("/spec/template/spec/containers/1/args/2", None, "--debug")]


def test_extra_live_toleration_is_drift_because_git_owns_the_whole_list() -> None:
    live = live_pod_template()
    live["spec"]["template"]["spec"]["tolerations"].append({"operator": "Exists"})

    assert _diff_paths(one(POD_TEMPLATE_GIT), live) == ["/spec/template/spec/tolerations/2"]


def test_finalizer_added_by_the_server_is_not_drift() -> None:
    git = one("""
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: shop, finalizers: [example.com/backup]}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
""")
    live = copy.deepcopy(git)
    live["metadata"]["finalizers"] = ["kubernetes.io/pvc-protection", "example.com/backup"]

    assert compare(git, live, CompareOptions()).sync is Sync.SYNCED


@pytest.mark.parametrize("port", [8080, "8080"])
def test_int_or_string_port_spellings_are_equal(port: Any) -> None:
    git = one("""
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {ports: [{port: 80, targetPort: 8080}]}
""")
    git["spec"]["ports"][0]["targetPort"] = port
    live = one("""
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {type: ClusterIP, clusterIP: 10.0.0.7, ports: [{port: 80, protocol: TCP, targetPort: "8080"}]}
""")

    assert compare(git, live, CompareOptions()).sync is Sync.SYNCED


def test_service_port_without_target_port_defaults_to_its_port() -> None:
    git = one("""
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {ports: [{port: 80, targetPort: 80}, {port: 53, protocol: UDP}]}
""")
    live = one("""
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {ports: [{port: 53, protocol: UDP, targetPort: 53}, {port: 80, protocol: TCP}]}
""")

    assert compare(git, live, CompareOptions()).sync is Sync.SYNCED


@pytest.mark.parametrize("empty", [{}, [], "", None])
def test_empty_in_git_equals_absent_live(empty: Any) -> None:
    git = one("""
apiVersion: v1
kind: ConfigMap
metadata: {name: api, namespace: shop}
data: {a: "1"}
""")
    git["metadata"]["annotations"] = empty
    live = one("""
apiVersion: v1
kind: ConfigMap
metadata: {name: api, namespace: shop}
data: {a: "1"}
""")

    assert compare(git, live, CompareOptions()).sync is Sync.SYNCED


def test_false_that_means_something_is_not_the_same_as_absent() -> None:
    git = one("""
apiVersion: v1
kind: ServiceAccount
metadata: {name: api, namespace: shop}
automountServiceAccountToken: false
""")
    live = one("""
apiVersion: v1
kind: ServiceAccount
metadata: {name: api, namespace: shop}
""")

    assert _diff_paths(git, live) == ["/automountServiceAccountToken"]


def test_secret_string_data_equals_base64_data() -> None:
    git = one("""
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: shop}
stringData: {token: abc}
data: {cert: Y2VydA==}
""")
    live = one("""
apiVersion: v1
kind: Secret
metadata:
  name: s
  namespace: shop
  annotations: {kubectl.kubernetes.io/last-applied-configuration: '{"stringData":{"token":"abc"}}'}
type: Opaque
data: {token: YWJj, cert: Y2VydA==}
""")

    assert compare(git, live, CompareOptions()).sync is Sync.SYNCED


def test_secret_key_missing_live_is_drift() -> None:
    git = one("""
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: shop}
stringData: {token: abc, other: xyz}
""")
    live = one("""
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: shop}
data: {token: YWJj}
""")

    result = compare(git, live, CompareOptions())

    assert [(f.path, f.desired, f.live) for f in result.differences] == [("/data/other", "<redacted>", None)]


def test_last_applied_annotation_in_git_is_never_compared() -> None:
    git = one("""
apiVersion: v1
kind: ConfigMap
metadata:
  name: api
  namespace: shop
  annotations: {kubectl.kubernetes.io/last-applied-configuration: '{"old": true}'}
""")
    live = one("""
apiVersion: v1
kind: ConfigMap
metadata:
  name: api
  namespace: shop
  annotations: {kubectl.kubernetes.io/last-applied-configuration: '{"new": true}'}
""")

    result = compare(git, live, CompareOptions())

    assert result.sync is Sync.SYNCED
    assert [f.ignored_by for f in result.ignored] == ["default:last-applied"]


def test_zero_values_git_spells_out_equal_what_the_server_drops() -> None:
    git = one(POD_TEMPLATE_GIT)
    pod = git["spec"]["template"]["spec"]
    pod["hostNetwork"] = False
    pod["containers"][0]["volumeMounts"][0]["readOnly"] = False
    pod["containers"][0]["ports"][0]["hostPort"] = 0

    assert compare(git, live_pod_template(), CompareOptions()).sync is Sync.SYNCED


@pytest.mark.parametrize(("image", "policy", "synced"), [
    ("registry.example/api:latest", "Always", True),
    ("registry.example/api", "Always", True),
    ("registry.example/api:2", "IfNotPresent", True),
    ("registry.example/api@sha256:0f3a", "IfNotPresent", True),
    ("registry.example:5000/api", "Always", True),
    ("registry.example/api:latest", "IfNotPresent", False),
])
def test_image_pull_policy_default_depends_on_the_tag(image: str, policy: str, synced: bool) -> None:
    git = one(POD_TEMPLATE_GIT)
    live = live_pod_template()
    git["spec"]["template"]["spec"]["containers"][1].update(image=image, imagePullPolicy=policy)
    live["spec"]["template"]["spec"]["containers"][0].update(image=image)
    del live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"]  # a server without defaults

    assert (compare(git, live, CompareOptions()).sync is Sync.SYNCED) is synced


FREE_FORM_GIT = """
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: shop, labels: {app: w}}
spec:
  settings: {retries: 1, verbose: false, ratio: 1.0, mode: fast, tags: [a, b]}
"""


@pytest.mark.parametrize(("field", "live_value"), [
    ("retries", True), ("verbose", 0), ("ratio", True),
])
def test_a_number_turned_into_a_boolean_in_a_free_form_field_is_drift(field: str, live_value: Any) -> None:
    # ``==`` takes 1 == True and 0 == False; equal-looking subtrees must not hide such an edit.
    desired = one(FREE_FORM_GIT)
    live = copy.deepcopy(desired)
    live["spec"]["settings"][field] = live_value
    assert _diff_paths(desired, live) == [f"/spec/settings/{field}"]


def test_equal_free_form_subtrees_are_in_sync_and_a_changed_string_in_them_is_not() -> None:
    desired = one(FREE_FORM_GIT)
    live = copy.deepcopy(desired)
    assert _diff_paths(desired, live) == []
    live["spec"]["settings"]["tags"][1] = "c"
    live["metadata"]["labels"]["app"] = "x"
    assert _diff_paths(desired, live) == ["/metadata/labels/app", "/spec/settings/tags/1"]
