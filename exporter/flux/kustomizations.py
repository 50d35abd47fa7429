"""Flux Kustomizations as apps: the GitRepository revision, the overlay fields kustomize-controller
writes into the path's kustomization, the post-build variables, and how its objects are tracked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from exporter.config_types import (
    AppConfig,
    DeployerRef,
    FluxAppSource,
    FluxBuild,
    SourceConfig,
)
from exporter.flux.objects import (
    KUSTOMIZE_GROUP,
    SOURCE_GROUP,
    Lookup,
    artifact_revision,
    data_value,
    deployer_state,
    flux_app,
    ignore_rules,
    meta_of,
    no_lookup,
    oci_source,
    spec_of,
    status_of,
)
from exporter.model import DeployerState, ObjectKey

__all__ = ["kustomization_app", "kustomization_state", "revision_of", "substitution_inputs"]

#: Flux's rule for variable names.
VARIABLE_NAME = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")
#: Fields that change what Flux builds and that this agent does not build yet.
_NOT_BUILT = {
    "kubeConfig": "a remote cluster (spec.kubeConfig)",
    "patchesStrategicMerge": "spec.patchesStrategicMerge (removed in v1; use spec.patches)",
    "patchesJson6902": "spec.patchesJson6902 (removed in v1; use spec.patches)",
}


def revision_of(git_repository: Mapping[str, Any]) -> str:
    """The branch, tag, semver range or commit a GitRepository's ``spec.ref`` checks out, in
    source-controller's precedence (commit > name > semver > tag > branch, ``master`` when none);
    ValueError for a reference that is neither a branch nor a tag (``refs/pull/...``)."""
    ref = spec_of(git_repository).get("ref")
    ref = ref if isinstance(ref, dict) else {}
    if ref.get("commit"):
        return str(ref["commit"])
    if ref.get("name"):
        name = str(ref["name"])
        for prefix in ("refs/heads/", "refs/tags/"):
            if name.startswith(prefix):
                return name.removeprefix(prefix)
        raise ValueError(f"spec.ref.name {name} is not a branch or a tag (refs/heads/..., refs/tags/...)")
    if ref.get("semver"):
        return str(ref["semver"])  # the newest tag in the range, as the Git stage resolves ranges
    return str(ref.get("tag") or ref.get("branch") or "master")


def substitution_inputs(obj: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of the ConfigMaps and Secrets ``postBuild.substituteFrom`` names."""
    post = spec_of(obj).get("postBuild")
    refs = post.get("substituteFrom") if isinstance(post, dict) else None
    namespace = str(meta_of(obj).get("namespace") or "")
    return [(str(r.get("kind") or ""), namespace, str(r.get("name") or ""))
            for r in refs or [] if isinstance(r, dict)]


def _variables(obj: Mapping[str, Any], lookup: Lookup, build: FluxBuild) -> None:
    """``postBuild`` into ``build``: the variables in Flux's precedence, and which came from Secrets."""
    post = spec_of(obj).get("postBuild")
    if not post:
        return
    if not isinstance(post, dict):
        raise ValueError("spec.postBuild must be a mapping")
    build.substitution = True
    build.substitute_always = post.get("substituteStrategy") == "Always"
    refs = post.get("substituteFrom") or []
    secret: set[str] = set()
    for i, ((kind, namespace, name), ref) in enumerate(zip(substitution_inputs(obj), refs, strict=True)):
        where = f"spec.postBuild.substituteFrom[{i}]"
        if kind not in ("ConfigMap", "Secret"):
            raise ValueError(f"{where}.kind must be ConfigMap or Secret, not '{kind}'")
        found = lookup(kind, namespace, name)
        if found is None:
            if ref.get("optional") is True:
                continue
            raise ValueError(f"{where}: {kind} {namespace}/{name} does not exist (Flux fails the Kustomization too)")
        data = found.get("data")
        for key, raw in (data if isinstance(data, dict) else {}).items():
            build.variables[str(key)] = data_value(kind, raw, str(key), f"{where} ({kind} {namespace}/{name})").replace("\n", "")
            (secret.add if kind == "Secret" else secret.discard)(str(key))
    inline = post.get("substitute") or {}
    if not isinstance(inline, dict):
        raise ValueError("spec.postBuild.substitute must be a mapping of names to values")
    for key, value in inline.items():
        build.variables[str(key)] = str(value).replace("\n", "")
        secret.discard(str(key))
    for key in build.variables:
        if not VARIABLE_NAME.match(key):
            raise ValueError(f"spec.postBuild: '{key}' var name is invalid, must match '{VARIABLE_NAME.pattern}'")
    build.secret_variables = sorted(secret)


def _build(spec: Mapping[str, Any]) -> FluxBuild:
    """The overlay fields of a Kustomization, checked for shape."""
    for key in ("patches", "images", "components", "buildMetadata"):
        if not isinstance(spec.get(key) or [], list):
            raise ValueError(f"spec.{key} must be a list")
    common = spec.get("commonMetadata") or {}
    if not isinstance(common, dict):
        raise ValueError("spec.commonMetadata must be a mapping")
    components = [str(c) for c in spec.get("components") or []]
    for component in components:
        if component.startswith("/") or ".." in component.split("/") or "://" in component:
            raise ValueError(f"component path '{component}' must be local and relative")
    return FluxBuild(
        target_namespace=spec.get("targetNamespace") or None, name_prefix=spec.get("namePrefix") or None,
        name_suffix=spec.get("nameSuffix") or None,
        patches=[dict(p) for p in spec.get("patches") or [] if isinstance(p, dict)],
        images=[dict(i) for i in spec.get("images") or [] if isinstance(i, dict)],
        components=components, ignore_missing_components=bool(spec.get("ignoreMissingComponents")),
        build_metadata=[str(m) for m in spec.get("buildMetadata") or []],
        common_labels={str(k): str(v) for k, v in (common.get("labels") or {}).items()},
        common_annotations={str(k): str(v) for k, v in (common.get("annotations") or {}).items()})


def _source_key(kustomization: Mapping[str, Any]) -> tuple[str, str, str]:
    """(kind, namespace, name) of the source a Kustomization builds from."""
    ref = spec_of(kustomization).get("sourceRef") or {}
    namespace = ref.get("namespace") or meta_of(kustomization).get("namespace") or ""
    return str(ref.get("kind") or ""), str(namespace), str(ref.get("name") or "")


def _source(kind: str, found: Mapping[str, Any] | None, where: str) -> SourceConfig:
    """The source a Kustomization builds from: a GitRepository's revision or an OCIRepository's
    artifact (its first layer unless it selects one, as source-controller extracts it)."""
    if kind not in ("GitRepository", "OCIRepository"):
        raise ValueError(f"its source is a {kind or '(no kind)'}; this agent reads GitRepository and "
                         "OCIRepository sources")
    if found is None:
        raise ValueError(f"its source {where} does not exist")
    if kind == "OCIRepository":
        return oci_source(found, where)
    url = spec_of(found).get("url")
    if not url:
        raise ValueError(f"{where} has no spec.url")
    try:
        return SourceConfig(repo_url=str(url), target_revision=revision_of(found))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def kustomization_app(obj: Mapping[str, Any], sources: Mapping[ObjectKey, Mapping[str, Any]],
                      source: FluxAppSource, lookup: Lookup = no_lookup) -> AppConfig:
    """The app a Kustomization describes; ``invalid`` says why when it cannot be built as Flux would.
    ``sources`` are the cluster's GitRepositories and OCIRepositories by key; ``lookup`` reads the ConfigMaps and
    Secrets its variables come from."""
    meta, spec = meta_of(obj), spec_of(obj)
    namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    where = f"Kustomization {namespace}/{name} on cluster {source.cluster}"
    kind, source_ns, source_name = _source_key(obj)
    deployer = DeployerRef(KUSTOMIZE_GROUP, "Kustomization", namespace, name,
                           SOURCE_GROUP, kind, source_ns, source_name, tuple(substitution_inputs(obj)))
    app = flux_app(obj, source, KUSTOMIZE_GROUP, "kustomize-controller", "kustomize",
                   str(spec.get("targetNamespace") or ""))
    app.origin, app.deployer, compare = where, deployer, app.compare
    try:
        for key, what in _NOT_BUILT.items():
            if spec.get(key):
                raise ValueError(f"it uses {what}, which this agent does not build yet")
        built = _source(kind, sources.get(ObjectKey(SOURCE_GROUP, kind, source_ns, source_name)),
                        f"{kind} {source_ns}/{source_name}")
        compare.ignore_differences = ignore_rules(spec.get("ignore"), "spec.ignore", where)
        build = _build(spec)
        _variables(obj, lookup, build)
        built.type, built.path, built.flux = "kustomize", str(spec.get("path") or "."), build
        built.kustomize_build_options = ["--load-restrictor", "LoadRestrictionsNone"]
        app.source = built
    except ValueError as exc:
        app.invalid = f"{where}: {exc}"
    return app


def kustomization_state(kustomization: Mapping[str, Any] | None, git: Mapping[str, Any] | None) -> DeployerState:
    """What Flux says of a Kustomization; behind when the revision it last applied is not its
    source's artifact revision."""
    state = deployer_state(kustomization, "Kustomization",
                           str(status_of(kustomization).get("lastAppliedRevision") or ""), artifact_revision(git))
    if kustomization is not None:
        state.prunes = spec_of(kustomization).get("prune") is True
    return state
