"""Flux HelmReleases as apps: the chart a HelmRelease names (through a HelmRepository, an
OCIRepository, a HelmChart or a GitRepository), its values merged with ``valuesFrom`` in
helm-controller's order, its release name and namespace, and its post-renderers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import yaml

from exporter.config_types import (
    AppConfig,
    DeployerRef,
    FluxAppSource,
    FluxBuild,
    HelmOptions,
    SourceConfig,
)
from exporter.flux.kustomizations import revision_of
from exporter.flux.objects import (
    HELM_GROUP,
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
from exporter.oci import HELM_CHART_LAYER
from exporter.values import merge_values

__all__ = ["helmrelease_app", "helmrelease_state", "release_name", "values_inputs"]

NAME_LABEL = f"{HELM_GROUP}/name"
NAMESPACE_LABEL = f"{HELM_GROUP}/namespace"
#: Fields that change what helm-controller renders and that this agent does not render yet.
_NOT_RENDERED = {"kubeConfig": "a remote cluster (spec.kubeConfig)"}


def release_name(name: str, target_namespace: str) -> str:
    """helm-controller's default release name: ``[<targetNamespace>-]<name>``, shortened past 53
    characters to its first 40 and 12 hex digits of its SHA-256."""
    composed = f"{target_namespace}-{name}" if target_namespace else name
    if len(composed) > 53:
        composed = f"{composed[:40]}-{hashlib.sha256(composed.encode()).hexdigest()[:12]}"
    return composed


def values_inputs(obj: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of the ConfigMaps and Secrets ``valuesFrom`` names."""
    namespace = str(meta_of(obj).get("namespace") or "")
    return [(str(r.get("kind") or ""), namespace, str(r.get("name") or ""))
            for r in spec_of(obj).get("valuesFrom") or [] if isinstance(r, dict)]


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _leaves(v)]
    if isinstance(value, list):
        return [s for v in value for s in _leaves(v)]
    return [str(value)] if isinstance(value, str) else []


def _at_path(path: str, value: str, literal: bool) -> dict[str, Any]:
    """``path=value`` as Helm's ``--set`` (or ``--set-literal``) reads it."""
    import helm_python

    expression = f"{path}={value}"
    try:
        parsed: dict[str, Any] = (helm_python.parse_set_literal if literal else helm_python.parse_set_string)(expression)
    except Exception as exc:  # the SDK's own errors, named by Helm
        raise ValueError(f"targetPath {path}: {exc}") from None
    return parsed


def merged_values(obj: Mapping[str, Any], lookup: Lookup) -> tuple[dict[str, Any], list[str]]:
    """The values helm-controller installs with: each ``valuesFrom`` reference in order (a
    ``targetPath`` one set at its path over the values so far and the inline ones), then the
    inline ``values`` over all; and the strings that came from Secrets."""
    inline = spec_of(obj).get("values") or {}
    if not isinstance(inline, dict):
        raise ValueError("spec.values must be a mapping")
    result: dict[str, Any] = {}
    secret: list[str] = []
    refs = spec_of(obj).get("valuesFrom") or []
    for i, ((kind, namespace, name), ref) in enumerate(zip(values_inputs(obj), refs, strict=True)):
        where = f"spec.valuesFrom[{i}]"
        if kind not in ("ConfigMap", "Secret"):
            raise ValueError(f"{where}.kind must be ConfigMap or Secret, not '{kind}'")
        found = lookup(kind, namespace, name)
        key = str(ref.get("valuesKey") or "values.yaml")
        data = found.get("data") if found is not None else None
        if not isinstance(data, dict) or key not in data:
            if ref.get("optional") is True:
                continue
            missing = f"{kind} {namespace}/{name} does not exist" if found is None else \
                f"{kind} {namespace}/{name} has no key {key}"
            raise ValueError(f"{where}: {missing} (helm-controller fails the HelmRelease too)")
        text = data_value(kind, data[key], key, f"{where} ({kind} {namespace}/{name})")
        if ref.get("targetPath"):
            result = merge_values(merge_values(result, inline),
                                  _at_path(str(ref["targetPath"]), text, ref.get("literal") is True))
            secret += [text] if kind == "Secret" else []
            continue
        try:
            values = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"{where}: key {key} of {kind} {namespace}/{name} is not YAML: "
                             f"{getattr(exc, 'problem', exc)}") from None
        if not isinstance(values, dict):
            raise ValueError(f"{where}: key {key} of {kind} {namespace}/{name} is not a mapping of values")
        result = merge_values(result, values)
        secret += _leaves(values) if kind == "Secret" else []
    return merge_values(result, inline), secret


def _source(kind: str, namespace: str, name: str, sources: Mapping[ObjectKey, Mapping[str, Any]],
            what: str) -> Mapping[str, Any]:
    found = sources.get(ObjectKey(SOURCE_GROUP, kind, namespace, name))
    if found is None:
        raise ValueError(f"its {what} {kind} {namespace}/{name} does not exist")
    return found


def _chart_template(chart: Mapping[str, Any], namespace: str,
                    sources: Mapping[ObjectKey, Mapping[str, Any]]) -> SourceConfig:
    """A chart named by a HelmChart spec (``spec.chart.spec`` or a HelmChart's own spec)."""
    ref = chart.get("sourceRef") or {}
    kind, ref_ns, name = str(ref.get("kind") or ""), str(ref.get("namespace") or namespace), str(ref.get("name") or "")
    if chart.get("valuesFiles") or chart.get("valuesFile"):
        raise ValueError("it takes values files from inside the chart (valuesFiles), which this agent does not read")
    if kind == "HelmRepository":
        repository = spec_of(_source(kind, ref_ns, name, sources, "chart source"))
        return SourceConfig(repo_url=str(repository.get("url") or ""), chart=str(chart.get("chart") or ""),
                            target_revision=str(chart.get("version") or "*"), type="helm")
    if kind == "GitRepository":
        git = _source(kind, ref_ns, name, sources, "chart source")
        return SourceConfig(repo_url=str(spec_of(git).get("url") or ""), target_revision=revision_of(git),
                            path=str(chart.get("chart") or "."), type="helm")
    raise ValueError(f"its chart comes from a {kind or '(no kind)'}; this agent reads HelmRepository, "
                     "GitRepository, OCIRepository and HelmChart sources")


def _chart(obj: Mapping[str, Any], sources: Mapping[ObjectKey, Mapping[str, Any]]) -> tuple[SourceConfig, tuple[str, str, str]]:
    """The chart source, and (kind, namespace, name) of the source object whose artifact is the chart."""
    spec, namespace = spec_of(obj), str(meta_of(obj).get("namespace") or "")
    ref = spec.get("chartRef")
    if isinstance(ref, dict):
        kind, ref_ns, name = str(ref.get("kind") or ""), str(ref.get("namespace") or namespace), str(ref.get("name") or "")
        found = spec_of(_source(kind, ref_ns, name, sources, "chartRef")) if kind in ("OCIRepository", "HelmChart") \
            else None
        if kind == "HelmChart" and found is not None:
            return _chart_template(found, ref_ns, sources), (kind, ref_ns, name)
        if kind == "OCIRepository" and found is not None:
            url, tag = str(found.get("url") or ""), found.get("ref") or {}
            if tag.get("digest"):  # a pinned artifact: its chart layer, as source-controller selects it
                pinned = oci_source({"spec": found}, f"OCIRepository {ref_ns}/{name}", HELM_CHART_LAYER)
                pinned.type = "helm"
                return pinned, (kind, ref_ns, name)
            repo, _, chart_name = url.rstrip("/").rpartition("/")
            return (SourceConfig(repo_url=repo, chart=chart_name, type="helm",
                                 target_revision=str(tag.get("semver") or tag.get("tag") or "latest")),
                    (kind, ref_ns, name))
        raise ValueError(f"its chartRef is a {kind or '(no kind)'}; this agent reads OCIRepository and HelmChart")
    chart = (spec.get("chart") or {}).get("spec") if isinstance(spec.get("chart"), dict) else None
    if not isinstance(chart, dict):
        raise ValueError("it has neither spec.chart nor spec.chartRef")
    ref_ns = str((chart.get("sourceRef") or {}).get("namespace") or namespace)
    # helm-controller makes a HelmChart <namespace>-<name> beside the source; its artifact is the chart.
    return _chart_template(chart, namespace, sources), ("HelmChart", ref_ns, f"{namespace}-{meta_of(obj).get('name')}")


def _post_render(spec: Mapping[str, Any], build: FluxBuild) -> None:
    """``postRenderers`` (kustomize patches and images, in order) and ``commonMetadata`` into ``build``."""
    for i, renderer in enumerate(spec.get("postRenderers") or []):
        kustomize = renderer.get("kustomize") if isinstance(renderer, dict) else None
        if not isinstance(kustomize, dict):
            raise ValueError(f"spec.postRenderers[{i}] is not a kustomize post-renderer")
        build.patches += [dict(p) for p in kustomize.get("patches") or [] if isinstance(p, dict)]
        build.images += [dict(p) for p in kustomize.get("images") or [] if isinstance(p, dict)]
    common = spec.get("commonMetadata") or {}
    build.common_labels = {str(k): str(v) for k, v in (common.get("labels") or {}).items()}
    build.common_annotations = {str(k): str(v) for k, v in (common.get("annotations") or {}).items()}


def helmrelease_app(obj: Mapping[str, Any], sources: Mapping[ObjectKey, Mapping[str, Any]],
                    source: FluxAppSource, lookup: Lookup = no_lookup) -> AppConfig:
    """The app a HelmRelease describes; ``invalid`` says why when it cannot be rendered as Flux would.
    ``sources`` are the cluster's Flux sources by key; ``lookup`` reads ConfigMaps and Secrets."""
    meta, spec = meta_of(obj), spec_of(obj)
    namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    where = f"HelmRelease {namespace}/{name} on cluster {source.cluster}"
    target = str(spec.get("targetNamespace") or "")
    app = flux_app(obj, source, HELM_GROUP, "helm-controller", "helm", target or namespace)
    app.origin, compare = where, app.compare
    try:
        for key, what in _NOT_RENDERED.items():
            if spec.get(key):
                raise ValueError(f"it uses {what}, which this agent does not render yet")
        chart, (kind, chart_ns, chart_name) = _chart(obj, sources)
        app.deployer = DeployerRef(HELM_GROUP, "HelmRelease", namespace, name, SOURCE_GROUP, kind, chart_ns,
                                   chart_name, tuple(values_inputs(obj)))
        values, secret = merged_values(obj, lookup)
        chart.helm = HelmOptions(release_name=str(spec.get("releaseName") or release_name(name, target)),
                                 values=values, storage_namespace=str(spec.get("storageNamespace") or namespace))
        build = FluxBuild(owner_labels={NAME_LABEL: name, NAMESPACE_LABEL: namespace},
                          secret_values=[s for s in secret if len(s) >= 4])
        _post_render(spec, build)
        chart.flux = build
        drift = spec.get("driftDetection") or {}
        compare.ignore_differences = ignore_rules(drift.get("ignore"), "spec.driftDetection.ignore", where)
        app.source = chart
    except ValueError as exc:
        app.invalid = f"{where}: {exc}"
    if app.deployer is None:
        app.deployer = DeployerRef(HELM_GROUP, "HelmRelease", namespace, name, inputs=tuple(values_inputs(obj)))
    return app


def _version(revision: str) -> str:
    """A chart revision without the artifact digest Flux appends (``6.5.0@sha256:...``, ``6.5.0+0a1b...``)."""
    return revision.partition("@")[0].partition("+")[0]


def helmrelease_state(release: Mapping[str, Any] | None, chart: Mapping[str, Any] | None) -> DeployerState:
    """What Flux says of a HelmRelease; behind when the chart version it last released is not the
    one its chart source has ready."""
    status = status_of(release)
    history = status.get("history")
    latest = history[0] if isinstance(history, list) and history and isinstance(history[0], dict) else {}
    applied = str(latest.get("chartVersion") or "") if latest else str(status.get("lastAppliedRevision") or "")
    state = deployer_state(release, "HelmRelease", applied, artifact_revision(chart))
    # A chart from an OCIRepository: helm-controller records the artifact's digest it released.
    released, ready = str(latest.get("ociDigest") or ""), state.source_revision.rpartition("@")[2]
    if released and ready.startswith("sha256:"):
        same = released == ready
        if not same:
            state.applied_revision = f"{applied}@{released}"
    else:
        same = _version(state.applied_revision) == _version(state.source_revision)
    if same:
        state.source_revision = state.applied_revision  # the same chart: not behind
    return state
