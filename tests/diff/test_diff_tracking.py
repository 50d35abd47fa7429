"""Which live objects belong to an app, which need pruning, and which objects an HPA scales."""

from __future__ import annotations

from typing import Any

import pytest
from diff_fixtures import one

from exporter.config_types import CompareOptions
from exporter.diff import hpa_targets, requires_pruning, tracked_app
from exporter.model import ObjectKey


def configmap(**metadata: Any) -> dict[str, Any]:
    obj = one("""
apiVersion: v1
kind: ConfigMap
metadata: {name: flags, namespace: shop}
data: {a: "1"}
""")
    obj["metadata"].update(metadata)
    return obj


NOTHING_DESIRED: frozenset[ObjectKey] = frozenset()


def test_label_marks_the_app(options: CompareOptions) -> None:
    assert tracked_app(configmap(labels={"app.kubernetes.io/instance": "shop"}), options) == "shop"


def test_tracking_label_name_is_configurable() -> None:
    options = CompareOptions(tracking_label="example.com/app")
    obj = configmap(labels={"example.com/app": "shop", "app.kubernetes.io/instance": "helm-release"})

    assert tracked_app(obj, options) == "shop"


def test_annotation_marks_the_app(options: CompareOptions) -> None:
    obj = configmap(annotations={"argocd.argoproj.io/tracking-id": "shop:/ConfigMap:shop/flags"})

    assert tracked_app(obj, options) == "shop"


def test_annotation_wins_over_a_label_naming_another_release(options: CompareOptions) -> None:
    obj = configmap(labels={"app.kubernetes.io/instance": "helm-release"},
                    annotations={"argocd.argoproj.io/tracking-id": "shop:/ConfigMap:shop/flags"})

    assert tracked_app(obj, options) == "shop"


def test_annotation_of_a_grouped_cluster_scoped_object(options: CompareOptions) -> None:
    role = one("""
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
  annotations: {argocd.argoproj.io/tracking-id: "platform:rbac.authorization.k8s.io/ClusterRole:/reader"}
""")

    assert tracked_app(role, options) == "platform"


@pytest.mark.parametrize("tracking_id", [
    "shop:/ConfigMap:shop/other-name",  # copied under another name
    "shop:/ConfigMap:payments/flags",  # copied into another namespace
    "shop:/Secret:shop/flags",  # another kind
    "shop:apps/ConfigMap:shop/flags",  # another group
    "not a tracking id",
])
def test_copy_whose_tracking_id_names_another_object_is_not_the_apps(options: CompareOptions,
                                                                     tracking_id: str) -> None:
    obj = configmap(labels={"app.kubernetes.io/instance": "shop"},
                    annotations={"argocd.argoproj.io/tracking-id": tracking_id})

    assert tracked_app(obj, options) is None
    assert requires_pruning(obj, "shop", NOTHING_DESIRED, options) is False


def test_untracked_object_belongs_to_no_app(options: CompareOptions) -> None:
    assert tracked_app(configmap(), options) is None


def test_tracked_object_git_no_longer_declares_requires_pruning(options: CompareOptions) -> None:
    assert requires_pruning(configmap(labels={"app.kubernetes.io/instance": "shop"}), "shop",
                            NOTHING_DESIRED, options) is True


def test_tracked_object_git_still_declares_needs_no_pruning(options: CompareOptions) -> None:
    desired = {ObjectKey("", "ConfigMap", "shop", "flags")}

    assert requires_pruning(configmap(labels={"app.kubernetes.io/instance": "shop"}), "shop",
                            desired, options) is False


def test_owned_child_is_never_extraneous(options: CompareOptions) -> None:
    child = configmap(labels={"app.kubernetes.io/instance": "shop"},
                      ownerReferences=[{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                        "uid": "6a3e", "controller": True}])

    assert requires_pruning(child, "shop", NOTHING_DESIRED, options) is False


@pytest.mark.parametrize("value", ["IgnoreExtraneous", "ServerSideDiff=true, IgnoreExtraneous"])
def test_ignore_extraneous_annotation_keeps_an_object(options: CompareOptions, value: str) -> None:
    obj = configmap(labels={"app.kubernetes.io/instance": "shop"},
                    annotations={"argocd.argoproj.io/compare-options": value})

    assert requires_pruning(obj, "shop", NOTHING_DESIRED, options) is False


def test_hook_is_never_extraneous(options: CompareOptions) -> None:
    obj = configmap(labels={"app.kubernetes.io/instance": "shop"}, annotations={"helm.sh/hook": "pre-install"})

    assert requires_pruning(obj, "shop", NOTHING_DESIRED, options) is False


@pytest.mark.parametrize(("api_version", "kind"), [
    ("v1", "Event"), ("events.k8s.io/v1", "Event"), ("v1", "Endpoints"),
    ("discovery.k8s.io/v1", "EndpointSlice"), ("coordination.k8s.io/v1", "Lease"),
])
def test_objects_the_cluster_makes_are_never_extraneous(options: CompareOptions, api_version: str,
                                                        kind: str) -> None:
    obj = {"apiVersion": api_version, "kind": kind,
           "metadata": {"name": "web", "namespace": "shop", "labels": {"app.kubernetes.io/instance": "shop"}}}

    assert requires_pruning(obj, "shop", NOTHING_DESIRED, options) is False


def test_hpa_and_keda_scale_targets_are_found() -> None:
    objects = [
        one("""
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, maxReplicas: 4}
"""),
        one("""
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: worker}
spec: {scaleTargetRef: {name: worker}}
"""),
        one("""
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: rollout, namespace: shop}
spec: {scaleTargetRef: {apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: api}}
"""),
        configmap(),
    ]

    assert hpa_targets(objects, default_namespace="shop") == {
        ObjectKey("apps", "Deployment", "shop", "web"), ObjectKey("apps", "Deployment", "shop", "worker"),
        ObjectKey("argoproj.io", "Rollout", "shop", "api")}


FLUX = CompareOptions(tracking_label="kustomize.toolkit.fluxcd.io/name", tracking_annotation="",
                      tracking_namespace_label="kustomize.toolkit.fluxcd.io/namespace")


def test_flux_labels_mark_the_app_named_namespace_slash_name() -> None:
    live = configmap(labels={"kustomize.toolkit.fluxcd.io/name": "shop",
                             "kustomize.toolkit.fluxcd.io/namespace": "flux-system"})
    assert tracked_app(live, FLUX) == "flux-system/shop"


def test_one_flux_label_alone_marks_no_app() -> None:
    assert tracked_app(configmap(labels={"kustomize.toolkit.fluxcd.io/name": "shop"}), FLUX) is None


def test_an_argo_cd_mark_is_not_read_for_flux_apps() -> None:
    live = configmap(labels={"app.kubernetes.io/instance": "shop"},
                     annotations={"argocd.argoproj.io/tracking-id": "shop:/ConfigMap:ns/cm"})
    assert tracked_app(live, FLUX) is None


def test_an_object_flux_applied_and_git_dropped_requires_pruning() -> None:
    live = configmap(labels={"kustomize.toolkit.fluxcd.io/name": "shop",
                             "kustomize.toolkit.fluxcd.io/namespace": "flux-system"})
    assert requires_pruning(live, "flux-system/shop", frozenset(), FLUX)
