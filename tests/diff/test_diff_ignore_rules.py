"""Ignore rules hide exactly what they name, and every hidden difference says which rule hid it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from diff_fixtures import one

from exporter.config_types import CompareOptions, IgnoreRule
from exporter.diff import compare, validate_rules
from exporter.model import ObjectKey, Sync

GIT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-1, namespace: shop-prod, labels: {app: web}}
spec:
  replicas: 2
  template:
    metadata: {annotations: {checksum/config: abc}}
    spec:
      containers:
        - {name: web, image: "web:1"}
        - {name: istio-proxy, image: "proxyv2:1.20"}
"""


def live(**changes: Any) -> dict[str, Any]:
    """The live Deployment with the image, sidecar image and checksum changed, plus a label added by
    ``kubectl label``."""
    obj = one("""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-1
  namespace: shop-prod
  labels: {app: web, debug: "true"}
  generation: 9
  managedFields:
    - {manager: kubectl-label, operation: Update, apiVersion: apps/v1, fieldsType: FieldsV1,
       fieldsV1: {f:metadata: {f:labels: {f:debug: {}}}}}
    - manager: istio-operator
      operation: Update
      apiVersion: apps/v1
      fieldsType: FieldsV1
      fieldsV1:
        f:spec: {f:template: {f:spec: {f:containers: {'k:{"name":"istio-proxy"}': {f:image: {}}}}}}
spec:
  replicas: 2
  template:
    metadata: {annotations: {checksum/config: def}}
    spec:
      containers:
        - {name: istio-proxy, image: "proxyv2:1.21"}
        - {name: web, image: "web:2"}
status: {replicas: 2}
""")
    obj.update(changes)
    return obj


ALL_DRIFT = {
    "/spec/template/spec/containers/0/image",
    "/spec/template/spec/containers/1/image",
    "/spec/template/metadata/annotations/checksum~1config",
    "/metadata/labels/debug",
}


def _run(*rules: IgnoreRule, default_ignores: bool = True) -> tuple[set[str], dict[str, str | None]]:
    options = CompareOptions(ignore_differences=list(rules), default_ignores=default_ignores)
    result = compare(one(GIT), live(), options)
    return {f.path for f in result.differences}, {f.path: f.ignored_by for f in result.ignored}


def test_without_rules_every_change_is_drift() -> None:
    drift, ignored = _run()

    assert drift == ALL_DRIFT
    assert ignored == {}


def test_json_pointer_hides_exactly_the_field_it_names() -> None:
    rule = IgnoreRule(kind="Deployment", json_pointers=["/spec/template/metadata/annotations/checksum~1config"],
                      origin="config.yaml:31")

    drift, ignored = _run(rule)

    assert drift == ALL_DRIFT - {"/spec/template/metadata/annotations/checksum~1config"}
    assert ignored == {"/spec/template/metadata/annotations/checksum~1config": "config.yaml:31"}


def test_json_pointer_hides_the_whole_subtree_below_it() -> None:
    drift, ignored = _run(IgnoreRule(json_pointers=["/metadata/labels"], origin="labels"))

    assert drift == ALL_DRIFT - {"/metadata/labels/debug"}
    assert ignored == {"/metadata/labels/debug": "labels"}


def test_jq_expression_hides_the_selected_container_only() -> None:
    rule = IgnoreRule(jq_path_expressions=['.spec.template.spec.containers[] | select(.name == "istio-proxy")'],
                      origin="apps[shop].ignoreDifferences[0]")

    drift, ignored = _run(rule)

    assert drift == ALL_DRIFT - {"/spec/template/spec/containers/1/image"}
    assert ignored == {"/spec/template/spec/containers/1/image": "apps[shop].ignoreDifferences[0]"}


def test_jq_expression_hides_a_container_added_live() -> None:
    git = one(GIT)
    del git["spec"]["template"]["spec"]["containers"][1]
    sidecar_added = live()
    sidecar_added["metadata"]["managedFields"][1]["manager"] = "kubectl-patch"
    sidecar_added["metadata"]["managedFields"][1]["fieldsV1"]["f:spec"]["f:template"]["f:spec"][
        "f:containers"]['k:{"name":"istio-proxy"}'] = {".": {}, "f:name": {}, "f:image": {}}
    rule = IgnoreRule(jq_path_expressions=['.spec.template.spec.containers[] | select(.name == "istio-proxy")'],
                      origin="mesh")

    with_rule = compare(git, sidecar_added, CompareOptions(ignore_differences=[rule]))
    without = compare(git, sidecar_added, CompareOptions())

    assert ("/spec/template/spec/containers/0", "added live by kubectl-patch") in {
        (f.path, f.reason) for f in without.differences}
    assert {f.path: f.ignored_by for f in with_rule.ignored} == {"/spec/template/spec/containers/0": "mesh"}


def test_managed_fields_manager_hides_what_it_owns_only() -> None:
    drift, ignored = _run(IgnoreRule(managed_fields_managers=["istio-operator"], origin="istio"))

    assert drift == ALL_DRIFT - {"/spec/template/spec/containers/1/image"}
    assert ignored == {"/spec/template/spec/containers/1/image": "istio"}


@pytest.mark.parametrize(("name", "namespace", "applies"), [
    ("web-*", "*", True), ("web-?", "shop-*", True), ("api-*", "*", False), ("*", "shop-staging", False),
])
def test_rules_match_name_and_namespace_globs(name: str, namespace: str, applies: bool) -> None:
    rule = IgnoreRule(name=name, namespace=namespace, json_pointers=["/metadata/labels"], origin="globbed")

    _, ignored = _run(rule)

    assert ("/metadata/labels/debug" in ignored) is applies


def test_rules_match_group_and_kind() -> None:
    core_only = IgnoreRule(group="", kind="Deployment", json_pointers=["/metadata/labels"], origin="core")
    apps = IgnoreRule(group="apps", kind="Deploy*", json_pointers=["/metadata/labels"], origin="apps")

    assert "/metadata/labels/debug" not in _run(core_only)[1]
    assert _run(apps)[1] == {"/metadata/labels/debug": "apps"}


def test_first_matching_rule_is_the_one_named() -> None:
    first = IgnoreRule(json_pointers=["/metadata/labels/debug"], origin="first")
    second = IgnoreRule(managed_fields_managers=["kubectl-label"], origin="second")

    assert _run(first, second)[1] == {"/metadata/labels/debug": "first"}


EXPORTED_GIT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-1, namespace: shop-prod, generation: 3, uid: 1f0c, resourceVersion: "77"}
spec: {replicas: 2}
status: {replicas: 1}
"""


def test_shipped_ignores_hide_status_and_server_metadata_that_git_happens_to_contain() -> None:
    untouched = live()
    del untouched["metadata"]["managedFields"]

    result = compare(one(EXPORTED_GIT), untouched, CompareOptions())

    assert result.sync is Sync.SYNCED
    assert {f.path: f.ignored_by for f in result.ignored} == {
        "/status/replicas": "default:status", "/metadata/generation": "default:generation",
        "/metadata/uid": "default:uid", "/metadata/resourceVersion": "default:resource-version"}


def test_switching_shipped_ignores_off_compares_status_and_server_metadata() -> None:
    result = compare(one(EXPORTED_GIT), live(), CompareOptions(default_ignores=False))

    assert result.sync is Sync.OUT_OF_SYNC
    assert {"/status/replicas", "/metadata/generation"} <= {f.path for f in result.differences}
    assert result.ignored == []


def test_switching_shipped_ignores_off_makes_hpa_scaled_replicas_drift() -> None:
    scaled = live()
    scaled["spec"]["replicas"] = 7
    target = frozenset({ObjectKey.of(scaled)})

    on = compare(one(GIT), scaled, CompareOptions(), hpa_targets=target)
    off = compare(one(GIT), scaled, CompareOptions(default_ignores=False), hpa_targets=target)

    assert "/spec/replicas" in {f.path for f in on.ignored}
    assert "/spec/replicas" in {f.path for f in off.differences}


def test_rules_do_not_change_the_objects_compared() -> None:
    git, obj = one(GIT), live()
    before = (copy.deepcopy(git), copy.deepcopy(obj))
    rule = IgnoreRule(jq_path_expressions=[".spec.template.spec.containers[0]"], json_pointers=["/spec"])

    compare(git, obj, CompareOptions(ignore_differences=[rule]))

    assert (git, obj) == before


def test_valid_rules_validate_cleanly() -> None:
    rules = [IgnoreRule(json_pointers=["/spec/replicas", "/metadata/labels/a~1b"],
                        jq_path_expressions=['.spec.template.spec.containers[] | select(.name == "x")'],
                        managed_fields_managers=["kube-controller-manager"], origin="config.yaml:10")]

    assert validate_rules(rules) == []


def test_invalid_rules_are_reported_with_their_origin() -> None:
    rules = [
        IgnoreRule(json_pointers=["spec/replicas"], origin="config.yaml:10"),
        IgnoreRule(jq_path_expressions=[".spec | select("], origin="config.yaml:14"),
        IgnoreRule(origin="config.yaml:20"),
        IgnoreRule(json_pointers=["/a~2b"]),
        IgnoreRule(jq_path_expressions=[".spec.containers | length"], origin="config.yaml:30"),
    ]

    problems = validate_rules(rules)

    assert len(problems) == 5
    assert problems[0].startswith("config.yaml:10: jsonPointers entry 'spec/replicas'")
    assert problems[1].startswith("config.yaml:14: jqPathExpressions entry '.spec | select('")
    assert problems[2].startswith("config.yaml:20: rule ignores nothing")
    assert problems[3].startswith("ignoreDifferences[3]: jsonPointers entry '/a~2b'")
    assert problems[4].startswith("config.yaml:30: jqPathExpressions entry '.spec.containers | length' "
                                  "selects values, not paths")
