"""Flux HelmReleases turned into apps: chart, values, release name, post-renderers, and Flux's
own word on them (pure conversion; the values' sources are read through a lookup)."""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.config_types import FluxAppSource
from exporter.flux.helmreleases import helmrelease_app, helmrelease_state, release_name
from exporter.model import ObjectKey
from exporter.oci import HELM_CHART_LAYER

SOURCE = FluxAppSource(cluster="prod", origin="config.yaml:7")
RELEASE, REPOSITORY, CHART = yaml.safe_load_all((Path(__file__).parent / "data" / "helmrelease.yaml").read_text())
SOURCES = {ObjectKey.of(o): o for o in (REPOSITORY, CHART)}
PASSWORD = "pa55-word-from-secret"
VALUES = {("ConfigMap", "podinfo-values"): {"data": {"values.yaml": "replicaCount: 1\nui: {message: hi}\n"}},
          ("Secret", "podinfo-secrets"): {"data": {"password": base64.b64encode(PASSWORD.encode()).decode()}}}


def lookup(objects: dict[tuple[str, str], dict[str, Any]] = VALUES):
    def read(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        assert namespace == "shop", "valuesFrom names objects in the HelmRelease's namespace"
        return objects.get((kind, name))
    return read


def release(**spec: Any) -> dict[str, Any]:
    obj = copy.deepcopy(RELEASE)
    obj["spec"].update(spec)
    return obj


def test_a_helmrelease_from_a_helm_repository_is_a_chart_app_in_its_target_namespace() -> None:
    app = helmrelease_app(RELEASE, SOURCES, SOURCE, lookup())
    assert app.invalid is None and app.name == "shop/podinfo"
    source = app.source
    assert (source.repo_url, source.chart, source.target_revision, source.type) == (
        "https://stefanprodan.github.io/podinfo", "podinfo", ">=6.0.0 <7.0.0", "helm")
    assert app.destination.namespace == "web" and source.helm.release_name == "web-podinfo"


def test_values_merge_in_helm_controller_order_and_the_inline_values_win() -> None:
    values = helmrelease_app(RELEASE, SOURCES, SOURCE, lookup()).source.helm.values
    assert values == {"replicaCount": 2, "ui": {"message": "hi", "color": "#34577c"},
                      "auth": {"password": PASSWORD}}


def test_a_value_from_a_secret_is_kept_out_of_the_app_repr_and_marked_secret() -> None:
    app = helmrelease_app(RELEASE, SOURCES, SOURCE, lookup())
    assert PASSWORD not in repr(app)
    assert app.source.flux is not None and app.source.flux.secret_values == [PASSWORD]


def test_post_renderers_common_metadata_and_origin_labels_are_carried() -> None:
    build = helmrelease_app(RELEASE, SOURCES, SOURCE, lookup()).source.flux
    assert build is not None
    assert build.images == [{"name": "ghcr.io/stefanprodan/podinfo", "newTag": "6.5.1"}]
    assert build.common_labels == {"team": "shop"}
    assert build.owner_labels == {"helm.toolkit.fluxcd.io/name": "podinfo", "helm.toolkit.fluxcd.io/namespace": "shop"}


def test_drift_detection_ignore_rules_become_ignore_rules() -> None:
    [rule] = helmrelease_app(RELEASE, SOURCES, SOURCE, lookup()).compare.ignore_differences
    assert (rule.kind, rule.json_pointers) == ("Deployment", ["/spec/replicas"])


def test_the_chart_helm_controller_made_is_the_deployer_source_and_the_value_sources_are_inputs() -> None:
    deployer = helmrelease_app(RELEASE, SOURCES, SOURCE, lookup()).deployer
    assert deployer is not None
    assert (deployer.source_kind, deployer.source_namespace, deployer.source_name) == (
        "HelmChart", "flux-system", "shop-podinfo")
    assert ("Secret", "shop", "podinfo-secrets") in deployer.inputs


def test_a_chart_ref_to_an_oci_repository_splits_the_url_into_registry_and_chart() -> None:
    oci = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
           "metadata": {"name": "podinfo", "namespace": "shop"},
           "spec": {"url": "oci://ghcr.io/stefanprodan/charts/podinfo", "ref": {"semver": ">= 6.0.0"}}}
    spec = {k: v for k, v in RELEASE["spec"].items() if k != "chart"}
    obj = copy.deepcopy(RELEASE)
    obj["spec"] = {**spec, "chartRef": {"kind": "OCIRepository", "name": "podinfo"}}
    app = helmrelease_app(obj, {ObjectKey.of(oci): oci}, SOURCE, lookup())
    assert app.invalid is None
    assert (app.source.repo_url, app.source.chart, app.source.target_revision) == (
        "oci://ghcr.io/stefanprodan/charts", "podinfo", ">= 6.0.0")


def test_a_chart_from_a_git_repository_is_a_helm_source_at_its_path() -> None:
    git = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
           "metadata": {"name": "deploy", "namespace": "flux-system"},
           "spec": {"url": "https://git.example.com/deploy.git", "ref": {"tag": "v3.1.0"}}}
    obj = release(chart={"spec": {"chart": "./charts/shop", "sourceRef": {"kind": "GitRepository", "name": "deploy",
                                                                        "namespace": "flux-system"}}})
    app = helmrelease_app(obj, {ObjectKey.of(git): git}, SOURCE, lookup())
    assert (app.source.repo_url, app.source.target_revision, app.source.path, app.source.chart) == (
        "https://git.example.com/deploy.git", "v3.1.0", "./charts/shop", None)


def test_the_release_name_is_shortened_past_53_characters_as_helm_controller_does() -> None:
    assert release_name("podinfo", "") == "podinfo"
    assert release_name("a-nice-object-name", "a-very-lengthy-target-namespace-with") == \
        "a-very-lengthy-target-namespace-with-a-n-" + release_name("a-nice-object-name",
                                                                 "a-very-lengthy-target-namespace-with")[41:]
    assert len(release_name("x" * 30, "y" * 30)) == 53


@pytest.mark.parametrize(("spec", "says"), [
    ({"valuesFrom": [{"kind": "ConfigMap", "name": "missing"}]}, "ConfigMap shop/missing does not exist"),
    ({"valuesFrom": [{"kind": "ConfigMap", "name": "podinfo-values", "valuesKey": "prod.yaml"}]},
     "has no key prod.yaml"),
    ({"kubeConfig": {"secretRef": {"name": "remote"}}}, "remote cluster"),
    ({"chart": {"spec": {"chart": "x", "sourceRef": {"kind": "Bucket", "name": "b"}}}}, "comes from a Bucket"),
    ({"chart": {"spec": {"chart": "podinfo", "valuesFiles": ["values-prod.yaml"],
                         "sourceRef": {"kind": "HelmRepository", "name": "podinfo", "namespace": "flux-system"}}}},
     "valuesFiles"),
])
def test_a_helmrelease_the_agent_cannot_render_is_unknown_saying_why(spec: dict[str, Any], says: str) -> None:
    app = helmrelease_app(release(**spec), SOURCES, SOURCE, lookup())
    assert app.name == "shop/podinfo" and app.invalid is not None and says in app.invalid


def with_status(**status: Any) -> dict[str, Any]:
    obj = copy.deepcopy(RELEASE)
    obj["status"] = status
    return obj


READY = {"type": "Ready", "status": "True", "reason": "UpgradeSucceeded"}


def test_a_helmrelease_at_its_chart_version_is_not_behind() -> None:
    state = helmrelease_state(with_status(history=[{"chartVersion": "6.5.4"}], conditions=[READY]), CHART)
    assert (state.behind, state.failed, state.what) == (False, None, "Flux HelmRelease shop/podinfo")


def test_a_helmrelease_behind_its_chart_names_both_versions() -> None:
    state = helmrelease_state(with_status(history=[{"chartVersion": "6.5.0"}], conditions=[READY]), CHART)
    assert state.behind and (state.applied_revision, state.source_revision) == ("6.5.0", "6.5.4")


def test_the_digest_flux_appends_to_an_oci_chart_version_does_not_count_as_behind() -> None:
    oci = {"status": {"artifact": {"revision": "6.5.4@sha256:" + "a" * 64}}}
    state = helmrelease_state(with_status(history=[{"chartVersion": "6.5.4+aaaaaaaaaaaa"}], conditions=[READY]), oci)
    assert not state.behind


def test_a_failed_upgrade_is_a_failure_with_flux_reason() -> None:
    state = helmrelease_state(with_status(conditions=[{"type": "Ready", "status": "False", "reason": "UpgradeFailed",
                                                       "message": "context deadline exceeded"}]), CHART)
    assert state.failed == "UpgradeFailed: context deadline exceeded"


def test_a_chart_ref_to_an_oci_repository_pinned_by_digest_takes_its_helm_chart_layer() -> None:
    digest = "sha256:" + "c" * 64
    oci = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
           "metadata": {"name": "podinfo", "namespace": "shop"},
           "spec": {"url": "oci://ghcr.io/stefanprodan/charts/podinfo", "ref": {"tag": "6.5.0", "digest": digest}}}
    spec = {k: v for k, v in RELEASE["spec"].items() if k != "chart"}
    obj = copy.deepcopy(RELEASE)
    obj["spec"] = {**spec, "chartRef": {"kind": "OCIRepository", "name": "podinfo"}}
    app = helmrelease_app(obj, {ObjectKey.of(oci): oci}, SOURCE, lookup())
    assert app.invalid is None and app.source.artifact is not None
    assert (app.source.repo_url, app.source.chart, app.source.target_revision, app.source.type) == (
        "oci://ghcr.io/stefanprodan/charts/podinfo", None, digest, "helm")
    assert app.source.artifact.media_type == HELM_CHART_LAYER


def test_a_release_of_the_oci_digest_its_source_has_ready_is_not_behind() -> None:
    digest = "sha256:" + "d" * 64
    oci = {"status": {"artifact": {"revision": digest}}}
    state = helmrelease_state(with_status(history=[{"chartVersion": "6.5.0", "ociDigest": digest}],
                                          conditions=[READY]), oci)
    assert not state.behind


def test_a_release_of_another_oci_digest_is_behind_naming_both_digests() -> None:
    old, new = "sha256:" + "e" * 64, "sha256:" + "f" * 64
    oci = {"status": {"artifact": {"revision": f"6.5.0@{new}"}}}
    state = helmrelease_state(with_status(history=[{"chartVersion": "6.5.0", "ociDigest": old}],
                                          conditions=[READY]), oci)
    assert state.behind and (state.applied_revision, state.source_revision) == (f"6.5.0@{old}", f"6.5.0@{new}")
