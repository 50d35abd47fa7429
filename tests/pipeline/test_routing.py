"""A watch event routed to the apps it concerns: a pure function of the event, the cluster's
indexes and the apps' tracking settings, tested without an event loop or a cluster."""

from __future__ import annotations

from typing import Any

from exporter.config_types import AppConfig, CompareOptions, DeployerRef, Destination, SourceConfig
from exporter.model import KubeObject, ObjectKey
from exporter.pipeline.routing import EventIndex, Tracking, apply_event, declare


def app(name: str, **compare: str) -> AppConfig:
    return AppConfig(name=name, source=SourceConfig(repo_url="file:///unused", path=name),
                     destination=Destination(cluster="prod", namespace=name),
                     compare=CompareOptions(**compare))


def configmap(name: str, namespace: str = "shop", **meta: Any) -> KubeObject:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace, **meta}}


def key(name: str, namespace: str = "shop") -> ObjectKey:
    return ObjectKey("", "ConfigMap", namespace, name)


TRACKING = Tracking.of([app("shop"), app("cart")])


def test_an_object_an_app_declares_marks_that_app() -> None:
    index = EventIndex()
    declare(index, "shop", frozenset(), frozenset({key("settings")}))
    assert apply_event(index, key("settings"), configmap("settings"), TRACKING).apps == ("shop",)


def test_an_object_nobody_declares_or_marks_marks_nothing() -> None:
    marks = apply_event(EventIndex(), key("stray"), configmap("stray"), TRACKING)
    assert not marks and marks.apps == ()


def test_an_object_carrying_an_apps_label_is_tracked_for_that_app() -> None:
    index = EventIndex()
    obj = configmap("leftover", labels={"app.kubernetes.io/instance": "cart"})
    assert apply_event(index, key("leftover"), obj, TRACKING).apps == ("cart",)
    assert index.tracked["cart"] == {key("leftover"): obj}


def test_deleting_a_tracked_object_marks_its_app_once_more_and_drops_it_from_the_index() -> None:
    index = EventIndex()
    apply_event(index, key("leftover"), configmap("leftover", labels={"app.kubernetes.io/instance": "cart"}),
                TRACKING)
    assert apply_event(index, key("leftover"), None, TRACKING).apps == ("cart",)
    assert index.tracked["cart"] == {} and key("leftover") not in index.tracked_owner


def test_a_relabelled_object_marks_both_its_old_and_its_new_app() -> None:
    index = EventIndex()
    declare(index, "shop", frozenset(), frozenset({key("moved")}))
    apply_event(index, key("moved"), configmap("moved", labels={"app.kubernetes.io/instance": "cart"}), TRACKING)
    marks = apply_event(index, key("moved"), configmap("moved"), TRACKING)
    assert marks.apps == ("cart", "shop")


def test_a_mark_naming_an_app_that_does_not_exist_marks_nothing() -> None:
    marks = apply_event(EventIndex(), key("x"), configmap("x", labels={"app.kubernetes.io/instance": "gone"}),
                        TRACKING)
    assert marks.apps == ()


def test_a_name_counts_only_for_the_app_whose_tracking_label_it_was_read_with() -> None:
    tracking = Tracking.of([app("shop"), app("team", tracking_label="team.example.com/app")])
    obj = configmap("x", labels={"app.kubernetes.io/instance": "other", "team.example.com/app": "team"})
    assert apply_event(EventIndex(), key("x"), obj, tracking).apps == ("team",)


def test_a_crd_event_teaches_the_index_its_schema() -> None:
    index = EventIndex()
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "databases.example.com"},
           "spec": {"group": "example.com", "names": {"kind": "Database", "plural": "databases"},
                    "scope": "Namespaced",
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {"type": "object", "properties": {
                            "size": {"x-kubernetes-int-or-string": True}}}}}}}]}}
    apply_event(index, ObjectKey("apiextensions.k8s.io", "CustomResourceDefinition", "", "databases.example.com"),
                crd, TRACKING)
    assert ("example.com", "Database") in index.schemas


def test_an_argo_cd_application_change_relists_the_apps_only_when_apps_come_from_argo_cd() -> None:
    application = ObjectKey("argoproj.io", "Application", "argocd", "shop")
    obj = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
           "metadata": {"name": "shop", "namespace": "argocd"}}
    assert not apply_event(EventIndex(), application, obj, TRACKING).apps_changed
    from_argo = Tracking.of([app("shop")], from_sources=True)
    assert apply_event(EventIndex(), application, obj, from_argo).apps_changed


def test_an_app_that_stops_declaring_an_object_is_no_longer_marked_by_it() -> None:
    index = EventIndex()
    declare(index, "shop", frozenset(), frozenset({key("a"), key("b")}))
    declare(index, "cart", frozenset(), frozenset({key("a")}))
    declare(index, "shop", frozenset({key("a"), key("b")}), frozenset({key("b")}))
    assert apply_event(index, key("a"), configmap("a"), TRACKING).apps == ("cart",)
    declare(index, "cart", frozenset({key("a")}), frozenset())
    assert key("a") not in index.declared_by


def flux_app(name: str, inputs: tuple[tuple[str, str, str], ...] = ()) -> AppConfig:
    made = app(name, tracking_label="kustomize.toolkit.fluxcd.io/name",
               tracking_namespace_label="kustomize.toolkit.fluxcd.io/namespace", tracking_annotation="")
    made.deployer = DeployerRef("kustomize.toolkit.fluxcd.io", "Kustomization", "flux-system", name,
                                "source.toolkit.fluxcd.io", "GitRepository", "flux-system", "deploy", inputs)
    return made


def test_a_kustomization_or_git_repository_change_relists_apps_read_from_flux() -> None:
    tracking = Tracking.of([flux_app("shop")], from_sources=True)
    for group, kind in (("kustomize.toolkit.fluxcd.io", "Kustomization"), ("source.toolkit.fluxcd.io", "GitRepository")):
        obj = {"apiVersion": f"{group}/v1", "kind": kind, "metadata": {"name": "shop", "namespace": "flux-system"}}
        assert apply_event(EventIndex(), ObjectKey(group, kind, "flux-system", "shop"), obj, tracking).apps_changed


def test_a_change_of_a_configmap_flux_takes_variables_from_relists_the_apps_and_others_do_not() -> None:
    tracking = Tracking.of([flux_app("shop", (("ConfigMap", "flux-system", "cluster-vars"),))], from_sources=True)
    assert apply_event(EventIndex(), key("cluster-vars", "flux-system"), configmap("cluster-vars", "flux-system"),
                       tracking).apps_changed
    assert not apply_event(EventIndex(), key("other", "flux-system"), configmap("other", "flux-system"),
                           tracking).apps_changed


def test_an_object_with_flux_labels_marks_the_flux_app_by_namespace_and_name() -> None:
    tracking = Tracking.of([flux_app("flux-system/shop"), app("shop")], from_sources=True)
    labels = {"kustomize.toolkit.fluxcd.io/name": "shop", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
    marks = apply_event(EventIndex(), key("web"), configmap("web", labels=labels), tracking)
    assert marks.apps == ("flux-system/shop",)


def test_an_object_marked_for_a_renamed_flux_app_marks_the_app_by_its_name() -> None:
    renamed = flux_app("podinfo-prod")
    renamed.mark = "flux-system/shop"
    tracking = Tracking.of([renamed], from_sources=True)
    labels = {"kustomize.toolkit.fluxcd.io/name": "shop", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
    index = EventIndex()
    assert apply_event(index, key("web"), configmap("web", labels=labels), tracking).apps == ("podinfo-prod",)
    assert list(index.tracked["podinfo-prod"]) == [key("web")]
