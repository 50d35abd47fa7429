"""Live edits made with kubectl on a real API server, each judged against the Git manifest.

The captured Deployment went through ``kubectl set image``, ``label``, ``annotate``, ``patch``
(adding a container), ``edit`` (an env value), ``scale``, a ``/scale`` PATCH as the HPA, and a
server-side apply of one annotation by an operator. Every state keeps the earlier edits, so each
test looks for the field its edit touched.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from exporter.config_types import CompareOptions
from exporter.diff import compare, unified_diff
from exporter.model import REDACTED, FieldDiff, ObjectDiff, ObjectKey, Sync


def _load(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.fixture
def deployment_git(captures: Path) -> dict[str, Any]:
    return _load(captures / "objects" / "deployment" / "git.json")[0]


@pytest.fixture
def secret_git(captures: Path) -> dict[str, Any]:
    return next(o for o in _load(captures / "objects" / "config" / "git.json")
                if o["kind"] == "Secret" and o["metadata"]["name"] == "creds")


def _edit(captures: Path, kind: str, name: str) -> dict[str, Any]:
    return _load(captures / "edits" / kind / name)


def _at(fields: list[FieldDiff], path: str) -> FieldDiff:
    found = [f for f in fields if f.path == path]
    assert found, f"no difference at {path}; have {[f.path for f in fields]}"
    return found[0]


def test_set_image_is_drift_on_the_image_field(captures: Path, deployment_git: dict[str, Any]) -> None:
    result = compare(deployment_git, _edit(captures, "deployment", "01-set-image.json"), CompareOptions())

    assert result.sync is Sync.OUT_OF_SYNC
    image = _at(result.differences, "/spec/template/spec/containers/0/image")
    assert (image.desired, image.live) == ("registry.example/shop:3.1.0", "registry.example/shop:3.1.1-hotfix")
    assert len(result.differences) == 1


def test_label_added_with_kubectl_label_is_drift(captures: Path, deployment_git: dict[str, Any]) -> None:
    result = compare(deployment_git, _edit(captures, "deployment", "02-label.json"), CompareOptions())

    label = _at(result.differences, "/metadata/labels/oncall")
    assert (label.desired, label.live, label.reason) == (None, "team-a", "added live by kubectl-label")


def test_annotation_added_with_kubectl_annotate_is_drift(captures: Path,
                                                         deployment_git: dict[str, Any]) -> None:
    result = compare(deployment_git, _edit(captures, "deployment", "03-annotate.json"), CompareOptions())

    note = _at(result.differences, "/metadata/annotations/note")
    assert (note.live, note.reason) == ("checked", "added live by kubectl-annotate")


def test_container_added_with_kubectl_patch_is_a_live_addition(captures: Path,
                                                               deployment_git: dict[str, Any]) -> None:
    live = _edit(captures, "deployment", "04-patch-add-container.json")

    result = compare(deployment_git, live, CompareOptions())

    added = [f for f in result.differences if f.reason == "added live by kubectl-patch"]
    assert len(added) == 1
    assert added[0].path == "/spec/template/spec/containers/0"  # where it sits in the live object
    assert added[0].desired is None and added[0].live["name"] == "debug"
    assert "name: debug" in unified_diff(ObjectKey.of(live), result)


def test_env_value_changed_with_kubectl_edit_is_drift(captures: Path, deployment_git: dict[str, Any]) -> None:
    result = compare(deployment_git, _edit(captures, "deployment", "05-edit-env.json"), CompareOptions())

    env = _at(result.differences, "/spec/template/spec/containers/0/env/0/value")
    assert (env.desired, env.live) == ("json", "text")


def test_kubectl_scale_of_replicas_git_sets_is_drift(captures: Path, deployment_git: dict[str, Any]) -> None:
    # Git says replicas: 3, so whoever scaled by hand changed a field Git owns.
    result = compare(deployment_git, _edit(captures, "deployment", "06-scale-by-kubectl.json"),
                     CompareOptions())

    replicas = _at(result.differences, "/spec/replicas")
    assert (replicas.desired, replicas.live) == (3, 5)


def test_kubectl_scale_is_drift_by_default_even_when_git_leaves_replicas_out(
        captures: Path, deployment_git: dict[str, Any]) -> None:
    # kubectl 1.24 records ``kubectl scale`` as manager "kubectl" (subresource scale); it is on the
    # default list of human managers, so a hand scale is found even where Git sets no replicas.
    without_replicas = json.loads(json.dumps(deployment_git))
    del without_replicas["spec"]["replicas"]

    result = compare(without_replicas, _edit(captures, "deployment", "06-scale-by-kubectl.json"),
                     CompareOptions())

    assert "/spec/replicas" in [f.path for f in result.differences]


def test_kubectl_scale_is_not_drift_when_kubectl_is_taken_off_the_human_managers(
        captures: Path, deployment_git: dict[str, Any]) -> None:
    without_replicas = json.loads(json.dumps(deployment_git))
    del without_replicas["spec"]["replicas"]
    humans = [m for m in CompareOptions().human_managers if m != "kubectl"]
    # Git has never set replicas: neither has the last apply (else leaving them out is a removal).
    scaled = _edit(captures, "deployment", "06-scale-by-kubectl.json")
    annotations = scaled["metadata"]["annotations"]
    applied = json.loads(annotations["kubectl.kubernetes.io/last-applied-configuration"])
    del applied["spec"]["replicas"]
    annotations["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(applied)

    result = compare(without_replicas, scaled, CompareOptions(human_managers=humans))

    assert "/spec/replicas" not in [f.path for f in result.differences]


def test_kubectl_scale_is_drift_when_git_leaves_replicas_out_and_kubectl_counts_as_human(
        captures: Path, deployment_git: dict[str, Any]) -> None:
    without_replicas = json.loads(json.dumps(deployment_git))
    del without_replicas["spec"]["replicas"]
    options = CompareOptions(human_managers=[*CompareOptions().human_managers, "kubectl"])

    result = compare(without_replicas, _edit(captures, "deployment", "06-scale-by-kubectl.json"), options)

    replicas = _at(result.differences, "/spec/replicas")
    assert (replicas.live, replicas.reason) == (5, "added live by kubectl")


def test_scale_subresource_patched_by_the_hpa_is_not_drift_when_an_hpa_targets_it(
        captures: Path, deployment_git: dict[str, Any]) -> None:
    live = _edit(captures, "deployment", "07-scale-subresource-as-hpa.json")

    result = compare(deployment_git, live, CompareOptions(), hpa_targets=frozenset({ObjectKey.of(live)}))

    assert "/spec/replicas" not in [f.path for f in result.differences]
    replicas = _at(result.ignored, "/spec/replicas")
    assert (replicas.desired, replicas.live, replicas.ignored_by) == (3, 7, "default:hpa-replicas")


def test_replicas_differing_without_an_hpa_in_the_app_is_drift(captures: Path,
                                                               deployment_git: dict[str, Any]) -> None:
    result = compare(deployment_git, _edit(captures, "deployment", "07-scale-subresource-as-hpa.json"),
                     CompareOptions())

    assert _at(result.differences, "/spec/replicas").live == 7


def test_annotation_applied_by_an_operator_is_not_drift(captures: Path, deployment_git: dict[str, Any]) -> None:
    live = _edit(captures, "deployment", "08-operator-ssa-annotation.json")
    assert "operator.example.com/last-seen" in live["metadata"]["annotations"]

    result = compare(deployment_git, live, CompareOptions(), hpa_targets=frozenset({ObjectKey.of(live)}))

    mentioned = [f.path for f in result.differences + result.ignored]
    assert not any("operator.example.com" in path for path in mentioned)
    # The earlier hand edits are still there and still drift.
    assert {"/metadata/labels/oncall", "/metadata/annotations/note"} <= {f.path for f in result.differences}


def test_label_added_by_a_replicator_on_a_secret_is_not_drift(captures: Path,
                                                              secret_git: dict[str, Any]) -> None:
    live = _edit(captures, "secret", "01-replicator-label.json")
    assert live["metadata"]["labels"] == {"replicated-from": "vault"}

    result = compare(secret_git, live, CompareOptions())

    assert result.sync is Sync.SYNCED
    assert result.differences == []


def _everything_shown(result: ObjectDiff, key: ObjectKey) -> str:
    return repr(result) + unified_diff(key, result)


def test_secret_value_changed_with_kubectl_patch_is_drift_and_redacted(captures: Path,
                                                                        secret_git: dict[str, Any]) -> None:
    live = _edit(captures, "secret", "02-value-changed-by-kubectl-patch.json")
    new_value = base64.b64decode(live["data"]["pass"]).decode()

    result = compare(secret_git, live, CompareOptions())

    assert result.sync is Sync.OUT_OF_SYNC
    changed = _at(result.differences, "/data/pass")
    assert (changed.desired, changed.live) == (REDACTED, REDACTED)
    assert "changed" in changed.reason
    shown = _everything_shown(result, ObjectKey.of(live))
    for secret in (new_value, live["data"]["pass"], "fixture-only",
                   base64.b64encode(b"fixture-only").decode(), "c2hvcA==", "shop"):
        assert secret not in shown
    assert "/data/pass" in unified_diff(ObjectKey.of(live), result)
