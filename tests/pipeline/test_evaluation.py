"""An app's objects judged from a view of the live cache, with no cluster at all."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from exporter.config_types import AppConfig, CompareOptions, Destination, SourceConfig
from exporter.diff import SchemaHints
from exporter.health import HealthEngine
from exporter.model import Health, KubeObject, ObjectKey, Sync
from exporter.pipeline.evaluation import DesiredObject, evaluate_objects

APP = AppConfig(name="shop", source=SourceConfig(repo_url="file:///unused", path="shop"),
                destination=Destination(cluster="prod", namespace="shop"))


class DictView:
    """Live objects held in dicts, as a cache would hold them."""

    def __init__(self, objects: list[KubeObject] = (), tracked: list[KubeObject] = ()) -> None:
        self.objects = {ObjectKey.of(o): o for o in objects}
        self._tracked = {ObjectKey.of(o): o for o in tracked}
        self.asked: list[tuple[ObjectKey, str]] = []

    def get(self, key: ObjectKey, version: str) -> KubeObject | None:
        self.asked.append((key, version))
        return self.objects.get(key)

    def schema(self, key: ObjectKey, version: str) -> SchemaHints | None:
        return None

    def tracked(self, app: str) -> Mapping[ObjectKey, KubeObject]:
        return self._tracked if app == "shop" else {}


def configmap(name: str, data: dict[str, str], **meta: Any) -> KubeObject:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "shop", **meta}, "data": data}


def desired(*objects: KubeObject) -> list[DesiredObject]:
    return [DesiredObject(ObjectKey.of(o), o, "v1") for o in objects]


def test_an_object_as_git_says_is_synced_and_has_no_health_of_its_own() -> None:
    cm = configmap("settings", {"mode": "fast"})
    result = evaluate_objects(APP, desired(cm), DictView([copy.deepcopy(cm)]), HealthEngine([]))
    [obj] = result.objects
    assert (obj.exists, obj.sync) == (True, Sync.SYNCED)
    assert obj.health is None  # as in Argo CD, a ConfigMap has no health check
    assert list(result.seen) == [ObjectKey("", "ConfigMap", "shop", "settings")]


def test_a_changed_value_is_out_of_sync_at_its_path() -> None:
    live = configmap("settings", {"mode": "slow"})
    result = evaluate_objects(APP, desired(configmap("settings", {"mode": "fast"})), DictView([live]),
                              HealthEngine([]))
    [obj] = result.objects
    assert obj.sync is Sync.OUT_OF_SYNC
    assert obj.diff is not None and [d.path for d in obj.diff.differences] == ["/data/mode"]


def test_an_absent_object_is_missing() -> None:
    result = evaluate_objects(APP, desired(configmap("settings", {"a": "1"})), DictView(), HealthEngine([]))
    [obj] = result.objects
    assert not obj.exists and obj.health is not None and obj.health.status is Health.MISSING
    assert result.seen == {}


def test_the_live_object_is_read_in_the_version_git_declares() -> None:
    hpa = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": "web", "namespace": "shop"}, "spec": {"maxReplicas": 3}}
    view = DictView()
    evaluate_objects(APP, [DesiredObject(ObjectKey.of(hpa), hpa, "v1")], view, HealthEngine([]))
    assert view.asked == [(ObjectKey("autoscaling", "HorizontalPodAutoscaler", "shop", "web"), "v1")]


def test_a_tracked_object_git_no_longer_declares_requires_pruning() -> None:
    kept = configmap("kept", {"a": "1"})
    old = configmap("old", {"a": "1"}, labels={"app.kubernetes.io/instance": "shop"})
    result = evaluate_objects(APP, desired(kept), DictView([kept, old], tracked=[old]), HealthEngine([]))
    assert [(o.key.name, o.requires_pruning) for o in result.objects] == [("kept", False), ("old", True)]


def test_a_tracked_child_with_an_owner_is_not_extraneous() -> None:
    child = configmap("child", {"a": "1"}, labels={"app.kubernetes.io/instance": "shop"},
                      ownerReferences=[{"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": "u"}])
    result = evaluate_objects(APP, [], DictView([child], tracked=[child]), HealthEngine([]))
    assert result.objects == []


def test_a_hook_does_not_count_towards_health() -> None:
    hook = configmap("job", {"a": "1"}, annotations={"helm.sh/hook": "post-install"})
    result = evaluate_objects(APP, desired(hook), DictView(), HealthEngine([]))
    assert result.objects[0].health_excluded


SOPS_SECRET: KubeObject = {
    "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"},
    "stringData": {"password": "ENC[AES256_GCM,data:Zm9v,iv:YmFy,tag:YmF6,type:str]"},
    "sops": {"mac": "ENC[AES256_GCM,data:bWFj,type:str]", "lastmodified": "2026-12-01T10:00:00Z",
             "age": [{"recipient": "age1example", "enc": "-----BEGIN AGE ENCRYPTED FILE-----"}]},
}


def test_a_sops_encrypted_secret_is_found_present_but_not_compared() -> None:
    live = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"},
            "data": {"password": "aHVudGVyMg=="}, "type": "Opaque"}
    cm = configmap("settings", {"mode": "fast"})
    result = evaluate_objects(APP, desired(SOPS_SECRET, cm), DictView([live, copy.deepcopy(cm)]), HealthEngine([]))
    secret, settings = result.objects
    assert (secret.exists, secret.sync, secret.diff, secret.not_compared) == (
        True, Sync.UNKNOWN, None, "SOPS-encrypted in Git")
    assert (settings.sync, settings.not_compared) == (Sync.SYNCED, "")


def test_a_sops_encrypted_secret_absent_from_the_cluster_is_missing() -> None:
    [secret] = evaluate_objects(APP, desired(SOPS_SECRET), DictView([]), HealthEngine([])).objects
    assert (secret.exists, secret.sync) == (False, Sync.OUT_OF_SYNC)


def test_an_object_flux_creates_only_when_absent_is_not_compared_once_present() -> None:
    cm = configmap("seed", {"mode": "fast"}, annotations={"kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent"})
    live = configmap("seed", {"mode": "changed-by-its-controller"})
    [obj] = evaluate_objects(APP, desired(cm), DictView([live]), HealthEngine([])).objects
    assert (obj.sync, obj.diff) == (Sync.SYNCED, None) and "IfNotPresent" in obj.not_compared


def test_an_object_the_deployers_inventory_lists_requires_pruning_without_its_mark() -> None:
    listed = configmap("retired", {"mode": "old"})
    child = configmap("made", {}, ownerReferences=[{"kind": "Deployment", "name": "web", "uid": "1"}])
    result = evaluate_objects(APP, desired(), DictView([listed, child]), HealthEngine([]),
                              inventory={ObjectKey.of(listed): listed, ObjectKey.of(child): child})
    assert [(o.key.name, o.requires_pruning) for o in result.objects] == [("retired", True)]


def test_an_object_flux_is_told_not_to_prune_says_so() -> None:
    kept = configmap("keep-me", {}, annotations={"kustomize.toolkit.fluxcd.io/prune": "disabled"})
    labelled = configmap("keep-too", {}, labels={"kustomize.toolkit.fluxcd.io/prune": "disabled"})
    result = evaluate_objects(APP, desired(), DictView([kept, labelled]), HealthEngine([]),
                              inventory={ObjectKey.of(kept): kept, ObjectKey.of(labelled): labelled})
    assert [(o.key.name, o.requires_pruning, o.kept) for o in result.objects] == [
        ("keep-me", True, "annotation kustomize.toolkit.fluxcd.io/prune: disabled"),
        ("keep-too", True, "label kustomize.toolkit.fluxcd.io/prune: disabled")]


def test_an_inventory_entry_git_still_declares_is_judged_once() -> None:
    cm = configmap("settings", {"mode": "fast"})
    result = evaluate_objects(APP, desired(cm), DictView([copy.deepcopy(cm)]), HealthEngine([]),
                              inventory={ObjectKey.of(cm): cm})
    assert [(o.key.name, o.requires_pruning) for o in result.objects] == [("settings", False)]


def test_a_renamed_app_prunes_by_its_mark() -> None:
    renamed = AppConfig(name="shop-prod", mark="flux-system/shop", source=APP.source, destination=APP.destination,
                        compare=CompareOptions(tracking_label="kustomize.toolkit.fluxcd.io/name", tracking_annotation="",
                                               tracking_namespace_label="kustomize.toolkit.fluxcd.io/namespace"))
    old = configmap("retired", {}, labels={"kustomize.toolkit.fluxcd.io/name": "shop",
                                           "kustomize.toolkit.fluxcd.io/namespace": "flux-system"})

    class Renamed(DictView):
        def tracked(self, app: str) -> Mapping[ObjectKey, KubeObject]:
            return self._tracked if app == "shop-prod" else {}

    [obj] = evaluate_objects(renamed, desired(), Renamed(tracked=[old]), HealthEngine([])).objects
    assert obj.requires_pruning
