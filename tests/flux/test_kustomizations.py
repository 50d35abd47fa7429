"""Flux Kustomizations turned into apps, and Flux's own word on them (pure conversion)."""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.config_types import AppConfig, ArtifactOptions, FluxAppSource
from exporter.flux import kustomization_app, kustomization_state, revision_of
from exporter.model import ObjectKey

SOURCE = FluxAppSource(cluster="prod", origin="config.yaml:7")
KUSTOMIZATION, GIT = yaml.safe_load_all((Path(__file__).parent / "data" / "kustomization.yaml").read_text())
REPOSITORIES = {ObjectKey.of(GIT): GIT}


def kustomization(**spec: Any) -> dict[str, Any]:
    obj = copy.deepcopy(KUSTOMIZATION)
    obj["spec"].update(spec)
    return obj


def git(ref: dict[str, str]) -> dict[str, Any]:
    obj = copy.deepcopy(GIT)
    obj["spec"]["ref"] = ref
    return obj


def test_a_kustomization_becomes_an_app_named_after_its_namespace_and_name() -> None:
    app = kustomization_app(KUSTOMIZATION, REPOSITORIES, SOURCE)
    assert app.invalid is None
    assert app.name == "flux-system/podinfo" and app.labels == {"team": "shop"}
    assert (app.source.repo_url, app.source.target_revision, app.source.path, app.source.type) == (
        "https://github.com/stefanprodan/podinfo", "master", "./kustomize", "kustomize")
    assert app.destination.cluster == "prod" and app.destination.namespace == "shop"


def test_the_overlay_fields_are_carried_into_the_build() -> None:
    build = kustomization_app(kustomization(buildMetadata=["originAnnotations"]), REPOSITORIES, SOURCE).source.flux
    assert build is not None
    assert (build.target_namespace, build.name_prefix, build.common_labels) == ("shop", "prod-", {"env": "prod"})
    assert build.images == [{"name": "ghcr.io/stefanprodan/podinfo", "newTag": "6.5.0"}]
    assert build.patches[0]["target"] == {"kind": "Deployment", "name": "podinfo"}
    assert build.build_metadata == ["originAnnotations"]


def test_objects_are_tracked_by_flux_labels_and_kustomize_controller_is_the_deployer() -> None:
    compare = kustomization_app(KUSTOMIZATION, REPOSITORIES, SOURCE).compare
    assert (compare.tracking_label, compare.tracking_namespace_label) == (
        "kustomize.toolkit.fluxcd.io/name", "kustomize.toolkit.fluxcd.io/namespace")
    assert compare.apply_managers == ["kustomize-controller"]


def test_spec_ignore_becomes_an_ignore_rule_for_its_target() -> None:
    [rule] = kustomization_app(KUSTOMIZATION, REPOSITORIES, SOURCE).compare.ignore_differences
    assert (rule.kind, rule.name, rule.group, rule.json_pointers) == ("Deployment", "podinfo", "*", ["/spec/replicas"])


def test_an_ignore_target_given_as_a_regular_expression_is_refused_with_the_field() -> None:
    app = kustomization_app(kustomization(ignore=[{"paths": ["/data"], "target": {"name": "web-.*"}}]),
                            REPOSITORIES, SOURCE)
    assert "spec.ignore[0].target.name 'web-.*' is a regular expression" in (app.invalid or "")


@pytest.mark.parametrize(("ref", "revision"), [
    ({"branch": "main"}, "main"),
    ({"branch": "main", "tag": "v1.2.0"}, "v1.2.0"),
    ({"tag": "v1.2.0", "name": "refs/heads/release"}, "release"),
    ({"name": "refs/tags/v2.0.0"}, "v2.0.0"),
    ({"branch": "main", "commit": "0123456789abcdef0123456789abcdef01234567"},
     "0123456789abcdef0123456789abcdef01234567"),
    ({}, "master"),
])
def test_the_git_reference_follows_source_controller_precedence(ref: dict[str, str], revision: str) -> None:
    assert revision_of(git(ref)) == revision


def test_a_semver_reference_is_the_range_the_git_stage_resolves_to_the_newest_tag() -> None:
    repositories = {ObjectKey.of(GIT): git({"branch": "main", "semver": ">=1.0.0 <2.0.0"})}
    app = kustomization_app(KUSTOMIZATION, repositories, SOURCE)
    assert app.invalid is None and app.source.target_revision == ">=1.0.0 <2.0.0"


def test_a_pull_request_reference_is_refused() -> None:
    with pytest.raises(ValueError, match="not a branch or a tag"):
        revision_of(git({"name": "refs/pull/420/head"}))


@pytest.mark.parametrize(("spec", "says"), [
    ({"postBuild": {"substituteFrom": [{"kind": "ConfigMap", "name": "vars"}]}},
     "substituteFrom[0]: ConfigMap flux-system/vars does not exist"),
    ({"postBuild": {"substitute": {"cluster-env": "prod"}}}, "'cluster-env' var name is invalid"),
    ({"postBuild": {"substituteFrom": [{"kind": "Bucket", "name": "vars"}]}}, "must be ConfigMap or Secret"),
    ({"kubeConfig": {"secretRef": {"name": "remote"}}}, "remote cluster"),
    ({"sourceRef": {"kind": "Bucket", "name": "podinfo"}}, "its source is a Bucket; this agent reads GitRepository and OCIRepository"),
    ({"sourceRef": {"kind": "GitRepository", "name": "gone"}}, "GitRepository flux-system/gone does not exist"),
    ({"components": ["/etc"]}, "must be local and relative"),
])
def test_a_kustomization_the_agent_cannot_build_is_an_unknown_app_saying_why(spec: dict[str, Any], says: str) -> None:
    app = kustomization_app(kustomization(**spec), REPOSITORIES, SOURCE, lookup({}))
    assert app.name == "flux-system/podinfo"
    assert app.invalid is not None and says in app.invalid


def test_the_source_may_live_in_another_namespace() -> None:
    other = copy.deepcopy(GIT)
    other["metadata"]["namespace"] = "sources"
    app = kustomization_app(kustomization(sourceRef={"kind": "GitRepository", "name": "podinfo",
                                                     "namespace": "sources"}),
                            {ObjectKey.of(other): other}, SOURCE)
    assert app.invalid is None and app.deployer is not None and app.deployer.source_namespace == "sources"


def ready(status: str, reason: str, message: str = "") -> dict[str, str]:
    return {"type": "Ready", "status": status, "reason": reason, "message": message}


def with_status(obj: dict[str, Any], **status: Any) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["status"] = status
    return out


APPLIED = "master@sha1:132f4e719209eb10b9485302f8593fc0e680f4fc"


def test_a_ready_kustomization_at_its_source_revision_says_nothing_against_the_app() -> None:
    state = kustomization_state(with_status(KUSTOMIZATION, lastAppliedRevision=APPLIED,
                                       conditions=[ready("True", "ReconciliationSucceeded")]), GIT)
    assert (state.failed, state.reconciling, state.suspended, state.behind) == (None, None, False, False)
    assert state.what == "Flux Kustomization flux-system/podinfo"


def test_ready_false_carries_flux_reason_and_message() -> None:
    state = kustomization_state(with_status(KUSTOMIZATION, conditions=[
        ready("False", "BuildFailed", "kustomize build failed: accumulating resources")]), GIT)
    assert state.failed == "BuildFailed: kustomize build failed: accumulating resources"


def test_stalled_is_a_failure_even_while_ready_is_unknown() -> None:
    state = kustomization_state(with_status(KUSTOMIZATION, conditions=[
        ready("Unknown", "Progressing"), {"type": "Stalled", "status": "True", "reason": "InvalidPath"}]), GIT)
    assert state.failed == "InvalidPath"


def test_a_reconciling_kustomization_is_reconciling_with_flux_message() -> None:
    state = kustomization_state(with_status(KUSTOMIZATION, conditions=[
        ready("Unknown", "Progressing", "Reconciliation in progress")]), GIT)
    assert state.reconciling == "Progressing: Reconciliation in progress" and state.failed is None


def test_a_kustomization_behind_its_source_names_both_revisions() -> None:
    state = kustomization_state(with_status(KUSTOMIZATION, lastAppliedRevision="master@sha1:" + "0" * 40,
                                       conditions=[ready("True", "ReconciliationSucceeded")]), GIT)
    assert state.behind and state.applied_revision.endswith("0" * 40) and state.source_revision == APPLIED


def test_suspend_is_read_from_the_spec() -> None:
    assert kustomization_state(kustomization(suspend=True), GIT).suspended


def test_a_deleted_kustomization_is_a_failure() -> None:
    assert kustomization_state(None, GIT).failed == "the Kustomization no longer exists"


def lookup(objects: dict[tuple[str, str], dict[str, Any]]):
    def read(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        assert namespace == "flux-system"
        return objects.get((kind, name))
    return read


VARS = {("ConfigMap", "cluster-vars"): {"data": {"region": "eu-central-1", "env": "staging\n"}},
        ("Secret", "cluster-secrets"): {"data": {"token": base64.b64encode(b"s3cr3t").decode(),
                                                 "env": base64.b64encode(b"from-secret").decode()}}}


def test_variables_follow_flux_precedence_substitute_over_later_over_earlier_references() -> None:
    post = {"substituteFrom": [{"kind": "ConfigMap", "name": "cluster-vars"},
                               {"kind": "Secret", "name": "cluster-secrets"},
                               {"kind": "ConfigMap", "name": "absent", "optional": True}],
            "substitute": {"region": "us-east-1"}}
    build = kustomization_app(kustomization(postBuild=post), REPOSITORIES, SOURCE, lookup(VARS)).source.flux
    assert build is not None and build.substitution and not build.substitute_always
    assert build.variables == {"region": "us-east-1", "env": "from-secret", "token": "s3cr3t"}
    assert build.secret_variables == ["env", "token"]


def test_a_secret_value_never_shows_in_the_app_config_repr() -> None:
    post = {"substituteFrom": [{"kind": "Secret", "name": "cluster-secrets"}]}
    app = kustomization_app(kustomization(postBuild=post), REPOSITORIES, SOURCE, lookup(VARS))
    assert "s3cr3t" not in repr(app) and "token" in repr(app)


def test_the_variable_sources_are_the_apps_inputs() -> None:
    post = {"substituteFrom": [{"kind": "ConfigMap", "name": "cluster-vars"}]}
    app = kustomization_app(kustomization(postBuild=post), REPOSITORIES, SOURCE, lookup(VARS))
    assert app.deployer is not None and app.deployer.inputs == (("ConfigMap", "flux-system", "cluster-vars"),)


def test_a_source_that_cannot_be_read_makes_the_app_unknown_saying_so() -> None:
    def forbidden(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        raise ValueError(f"{kind} {namespace}/{name} cannot be read: secrets is forbidden")
    post = {"substituteFrom": [{"kind": "Secret", "name": "cluster-secrets"}]}
    app = kustomization_app(kustomization(postBuild=post), REPOSITORIES, SOURCE, forbidden)
    assert app.invalid is not None and "secrets is forbidden" in app.invalid


def test_the_inventory_lists_objects_by_flux_id_and_version() -> None:
    from exporter.flux.objects import inventory
    obj = with_status(KUSTOMIZATION, inventory={"entries": [
        {"id": "shop_web_apps_Deployment", "v": "v1"}, {"id": "_shop__Namespace", "v": "v1"},
        {"id": "malformed", "v": "v1"}]})
    assert inventory(obj) == [(ObjectKey("apps", "Deployment", "shop", "web"), "v1"),
                              (ObjectKey("", "Namespace", "", "shop"), "v1")]


def test_prune_is_read_from_the_spec() -> None:
    assert kustomization_state(KUSTOMIZATION, GIT).prunes is True
    assert kustomization_state(kustomization(prune=False), GIT).prunes is False


def test_a_mapped_name_is_the_apps_name_and_the_objects_keep_their_flux_mark() -> None:
    source = FluxAppSource(cluster="prod", names={"flux-system/podinfo": "podinfo-prod"})
    app = kustomization_app(KUSTOMIZATION, REPOSITORIES, source)
    assert (app.name, app.mark) == ("podinfo-prod", "flux-system/podinfo")


def oci_repository(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
            "metadata": {"name": "manifests", "namespace": "flux-system"},
            "spec": {"interval": "5m", "url": "oci://ghcr.io/stefanprodan/manifests/podinfo", **spec}}


def from_oci(**spec: Any) -> AppConfig:
    repository = oci_repository(**spec)
    return kustomization_app(kustomization(sourceRef={"kind": "OCIRepository", "name": "manifests"}),
                             {ObjectKey.of(repository): repository}, SOURCE)


@pytest.mark.parametrize(("ref", "revision", "semver"), [
    ({}, "latest", False),
    ({"tag": "6.5.0"}, "6.5.0", False),
    ({"tag": "6.5.0", "semver": "6.x"}, "6.x", True),
    ({"semver": "6.x", "digest": "sha256:" + "b" * 64}, "sha256:" + "b" * 64, False),
])
def test_an_oci_repository_reference_follows_source_controller_precedence(
        ref: dict[str, str], revision: str, semver: bool) -> None:
    app = from_oci(ref=ref)
    assert app.invalid is None and app.source.artifact is not None
    assert (app.source.repo_url, app.source.target_revision, app.source.artifact.semver) == (
        "oci://ghcr.io/stefanprodan/manifests/podinfo", revision, semver)
    assert (app.source.type, app.source.path, app.source.flux is not None) == ("kustomize", "./kustomize", True)


def test_an_oci_repository_layer_selector_semver_filter_and_insecure_are_carried() -> None:
    app = from_oci(ref={"semver": ">=1.0.0-0", "semverFilter": ".*-rc.*"}, insecure=True,
                   layerSelector={"mediaType": "application/vnd.example.v1.tar+gzip", "operation": "copy"})
    assert app.source.artifact == ArtifactOptions(media_type="application/vnd.example.v1.tar+gzip", semver=True,
                                                  semver_filter=".*-rc.*", plain_http=True)


@pytest.mark.parametrize(("spec", "says"), [
    ({"provider": "aws"}, "logs in with provider 'aws' (cloud credentials)"),
    ({"url": "ghcr.io/stefanprodan/manifests/podinfo"}, "not an oci:// URL"),
])
def test_an_oci_repository_the_agent_cannot_read_as_flux_does_is_refused_saying_why(
        spec: dict[str, Any], says: str) -> None:
    app = from_oci(**spec)
    assert app.invalid is not None and says in app.invalid
    assert app.invalid.startswith("Kustomization flux-system/podinfo on cluster prod: OCIRepository flux-system/manifests")
