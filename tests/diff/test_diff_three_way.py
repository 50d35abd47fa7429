"""The three-way comparison as a pure function: a deployer's record (last-applied annotation,
managedFields of a server-side apply, Helm's release manifest) against Git's render and the live
object. The managedFields here are as the real servers wrote them in tests/realserver."""

from __future__ import annotations

import copy
import json
from typing import Any

from exporter.config_types import CompareOptions
from exporter.diff import Record, compare
from exporter.kube.compact import Compactor
from exporter.model import Sync

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def deployment(env: list[dict[str, str]], **container: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.25", "env": env, **container}]}}}}


ENV_BEFORE = [{"name": "MODE", "value": "production"}, {"name": "DEBUG", "value": "true"}]
ENV_AFTER = [{"name": "MODE", "value": "production"}]


def applied_client_side(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` as kubectl apply (client side) leaves it live, annotation included."""
    live = copy.deepcopy(manifest)
    live["metadata"]["annotations"] = {LAST_APPLIED: json.dumps(manifest)}
    live["metadata"]["managedFields"] = [{"manager": "kubectl-client-side-apply", "operation": "Update",
                                          "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                                              'k:{"name":"web"}': {"f:env": {
                                                  f'k:{{"name":"{e["name"]}"}}': {"f:value": {}}
                                                  for e in manifest["spec"]["template"]["spec"]["containers"][0]["env"]
                                              }, "f:image": {}}}}}}}}]
    return live


def applied_server_side(manifest: dict[str, Any], manager: str) -> dict[str, Any]:
    live = copy.deepcopy(manifest)
    env = manifest["spec"]["template"]["spec"]["containers"][0]["env"]
    live["metadata"]["managedFields"] = [{"manager": manager, "operation": "Apply", "fieldsV1": {
        "f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"web"}': {
            ".": {}, "f:name": {}, "f:image": {},
            "f:env": {f'k:{{"name":"{e["name"]}"}}': {".": {}, "f:name": {}, "f:value": {}} for e in env}}}}}}}}]
    return live


def differences(desired: dict[str, Any], live: dict[str, Any], **kwargs: Any) -> list[tuple[str, str]]:
    result = compare(desired, live, CompareOptions(), **kwargs)
    return [(d.path, d.reason) for d in result.differences]


def test_an_env_entry_the_last_apply_set_and_git_dropped_is_drift() -> None:
    live = applied_client_side(deployment(ENV_BEFORE))
    assert differences(deployment(ENV_AFTER), live, revision="3f2a1c0aa") == [(
        "/spec/template/spec/containers/0/env/1",
        "not deployed yet: Git at 3f2a1c0 removes env DEBUG (last applied by kubectl apply)")]


def test_the_cache_s_skeleton_of_the_annotation_still_tells_the_entry() -> None:
    live = Compactor().compact(applied_client_side(deployment(ENV_BEFORE)))
    assert "true" not in live["metadata"]["annotations"][LAST_APPLIED]  # values gone, names kept
    assert [p for p, _ in differences(deployment(ENV_AFTER), live)] == ["/spec/template/spec/containers/0/env/1"]


def test_an_env_entry_nobody_applied_is_not_drift() -> None:
    live = applied_client_side(deployment(ENV_AFTER))
    live["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "INJECTED", "value": "by-webhook"})
    assert compare(deployment(ENV_AFTER), live, CompareOptions()).sync is Sync.SYNCED


def test_any_server_side_apply_manager_that_owns_git_s_fields_is_a_deployer() -> None:
    live = applied_server_side(deployment(ENV_BEFORE), "ci-deploy")
    assert differences(deployment(ENV_AFTER), live) == [(
        "/spec/template/spec/containers/0/env/1", "not deployed yet: Git removes env DEBUG (last applied by ci-deploy)")]


def test_an_operator_applying_only_its_own_fields_is_no_deployer() -> None:
    live = applied_client_side(deployment(ENV_AFTER))
    live["metadata"]["managedFields"].append({"manager": "sidecar-operator", "operation": "Apply", "fieldsV1": {
        "f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"proxy"}': {".": {}, "f:image": {}}}}}}}})
    live["spec"]["template"]["spec"]["containers"].append({"name": "proxy", "image": "envoy:1.30"})
    assert compare(deployment(ENV_AFTER), live, CompareOptions()).sync is Sync.SYNCED


def test_a_field_in_the_record_that_git_never_had_is_a_hand_apply() -> None:
    local = deployment(ENV_AFTER, resources={"limits": {"memory": "512Mi"}})
    live = applied_client_side(local)
    assert differences(deployment(ENV_AFTER), live, revision="abcdef12") == [(
        "/spec/template/spec/containers/0/resources/limits/memory",
        "not deployed yet: Git at abcdef1 removes it (last applied by kubectl apply)")]


def test_helm_s_release_manifest_is_a_record_too() -> None:
    live = deployment(ENV_BEFORE)
    live["metadata"]["managedFields"] = [{"manager": "helm", "operation": "Update", "fieldsV1": {}}]
    record = Record(deployment(ENV_BEFORE), "helm release web revision 3", frozenset({"helm"}))
    assert differences(deployment(ENV_AFTER), live, record=record) == [(
        "/spec/template/spec/containers/0/env/1",
        "not deployed yet: Git removes env DEBUG (last applied by helm release web revision 3)")]


def test_a_value_git_moved_on_from_says_it_is_not_deployed_yet() -> None:
    live = applied_client_side(deployment(ENV_AFTER))
    result = compare(deployment([{"name": "MODE", "value": "staging"}]), live, CompareOptions(), revision="0123456789")
    (mode,) = result.differences
    assert (mode.path, mode.direction, mode.reason) == (
        "/spec/template/spec/containers/0/env/0/value", "git",
        "not deployed yet: Git at 0123456 sets another value (live is what kubectl-client-side-apply last applied)")


def test_a_value_changed_after_the_apply_names_who_changed_it() -> None:
    live = applied_client_side(deployment(ENV_AFTER))
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:debug"
    live["metadata"]["managedFields"].append({"manager": "kubectl-edit", "operation": "Update", "fieldsV1": {
        "f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"web"}': {"f:image": {}}}}}}}})
    fields = live["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    del fields['k:{"name":"web"}']["f:image"]  # the edit took the field over
    (image,) = compare(deployment(ENV_AFTER), live, CompareOptions()).differences
    assert (image.direction, image.reason) == ("live", "changed live by kubectl-edit")


def pod(tolerations: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "job", "namespace": "shop"},
            "spec": {"containers": [{"name": "main", "image": "busybox"}], "tolerations": tolerations}}


DEDICATED = {"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}
ADMISSION = [{"key": f"node.kubernetes.io/{taint}", "operator": "Exists", "effect": "NoExecute",
              "tolerationSeconds": 300} for taint in ("not-ready", "unreachable")]


def test_the_default_tolerations_admission_adds_to_a_pod_are_not_drift() -> None:
    result = compare(pod([DEDICATED]), pod([DEDICATED, *ADMISSION]), CompareOptions())
    assert result.sync is Sync.SYNCED
    assert {d.ignored_by for d in result.ignored} == {"admission:DefaultTolerationSeconds"}


def test_other_extra_tolerations_on_a_pod_are_drift() -> None:
    spot = {"key": "spot", "operator": "Exists", "effect": "NoSchedule"}
    result = compare(pod([DEDICATED]), pod([DEDICATED, *ADMISSION, spot]), CompareOptions())
    assert [d.path for d in result.differences] == ["/spec/tolerations/3"]


def test_a_configured_apply_manager_counts_even_where_it_owns_nothing_git_still_sets() -> None:
    # The bot applied only DEBUG; Git's MODE is someone else's, so no evidence names the bot.
    live = applied_server_side(deployment(ENV_BEFORE), "deploy-bot")
    fields = live["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    entry = fields['k:{"name":"web"}']
    for name in ("f:name", "f:image", "."):
        del entry[name]
    del entry["f:env"]['k:{"name":"MODE"}']
    assert compare(deployment(ENV_AFTER), live, CompareOptions()).sync is Sync.SYNCED
    options = CompareOptions(apply_managers=["deploy-bot"])
    assert [d.path for d in compare(deployment(ENV_AFTER), live, options).differences] == [
        "/spec/template/spec/containers/0/env/1"]
