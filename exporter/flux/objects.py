"""Reading Flux's objects: the parts every Flux kind shares (metadata, conditions, the references
between sources and what builds from them), and Flux's own word on an object that deploys an app.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from typing import Any

from exporter.config_types import (
    AppConfig,
    ArtifactOptions,
    CompareOptions,
    Destination,
    FluxAppSource,
    IgnoreRule,
    SourceConfig,
    SourceType,
)
from exporter.model import DeployerState, ObjectKey

KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
HELM_GROUP = "helm.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
_PLAIN = re.compile(r"^[A-Za-z0-9._-]*$")

#: Reads a ConfigMap or Secret (kind, namespace, name) from the cluster: the object, None when it
#: does not exist; ValueError when it cannot be read.
Lookup = Callable[[str, str, str], Mapping[str, Any] | None]


def meta_of(obj: Mapping[str, Any] | None) -> dict[str, Any]:
    found = (obj or {}).get("metadata")
    return found if isinstance(found, dict) else {}


def spec_of(obj: Mapping[str, Any] | None) -> dict[str, Any]:
    found = (obj or {}).get("spec")
    return found if isinstance(found, dict) else {}


def status_of(obj: Mapping[str, Any] | None) -> dict[str, Any]:
    found = (obj or {}).get("status")
    return found if isinstance(found, dict) else {}


def no_lookup(kind: str, namespace: str, name: str) -> Mapping[str, Any] | None:
    raise ValueError(f"{kind} {namespace}/{name} cannot be read here")


def data_value(kind: str, raw: Any, key: str, where: str) -> str:
    """One ``data`` value of a ConfigMap, or of a Secret (base64-decoded)."""
    if kind != "Secret":
        return str(raw)
    try:
        return base64.b64decode(str(raw), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError(f"{where}: key {key} is not base64-encoded UTF-8 text") from None


def ignore_rules(rules: Any, field: str, where: str) -> list[IgnoreRule]:
    """Flux's ignore rules (``Kustomization.spec.ignore``, ``HelmRelease.spec.driftDetection.ignore``)
    as ignore rules: JSON pointers, scoped by a target whose fields name one group, kind, name or
    namespace (Flux reads them as regular expressions; only plain names are taken here)."""
    out = []
    for i, item in enumerate(rules or []):
        if not isinstance(item, dict) or not isinstance(item.get("paths"), list):
            raise ValueError(f"{field}[{i}] must have a list of paths")
        target = item.get("target") or {}
        fields: dict[str, str] = {}
        for key in ("group", "kind", "name", "namespace"):
            value = str(target.get(key) or "")
            if not _PLAIN.match(value):
                raise ValueError(f"{field}[{i}].target.{key} '{value}' is a regular expression; "
                                 "this agent takes plain names only")
            fields[key] = value or "*"
        if target.get("labelSelector") or target.get("annotationSelector"):
            raise ValueError(f"{field}[{i}].target: label and annotation selectors are not supported")
        out.append(IgnoreRule(group=fields["group"], kind=fields["kind"], name=fields["name"],
                              namespace=fields["namespace"], json_pointers=[str(p) for p in item["paths"]],
                              origin=f"{where} {field}[{i}]"))
    return out


def condition(obj: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    for c in status_of(obj).get("conditions") or []:
        if isinstance(c, dict) and c.get("type") == kind:
            return c
    return None


def _stated(c: Mapping[str, Any]) -> str:
    reason, message = str(c.get("reason") or ""), str(c.get("message") or "").strip()
    return f"{reason}: {message}" if reason and message else reason or message


def artifact_revision(source: Mapping[str, Any] | None) -> str:
    """The revision a source's artifact holds (``main@sha1:...``, a chart version)."""
    artifact = status_of(source).get("artifact")
    return str(artifact.get("revision") or "") if isinstance(artifact, dict) else ""


def deployer_state(obj: Mapping[str, Any] | None, kind: str, applied: str, available: str) -> DeployerState:
    """What Flux says of the object that deploys an app: suspended, failing (``Ready=False`` or
    ``Stalled=True``, with Flux's reason and message), still reconciling, or behind its source
    (``applied`` is not the ``available`` revision)."""
    if obj is None:
        return DeployerState(kind, "", failed=f"the {kind} no longer exists")
    m = meta_of(obj)
    state = DeployerState(f"Flux {kind} {m.get('namespace')}/{m.get('name')}", applied,
                          source_revision=available, suspended=spec_of(obj).get("suspend") is True)
    stalled, ready = condition(obj, "Stalled"), condition(obj, "Ready")
    if stalled is not None and stalled.get("status") == "True":
        state.failed = _stated(stalled) or "stalled"
    elif ready is not None and ready.get("status") == "False":
        state.failed = _stated(ready) or "not ready"
    elif ready is None or ready.get("status") == "Unknown":
        state.reconciling = _stated(ready) if ready else "not reconciled yet"
    return state


def flux_app(obj: Mapping[str, Any], source: FluxAppSource, group: str, manager: str, source_type: SourceType,
             namespace: str) -> AppConfig:
    """The app an object of Flux's describes, before its source is worked out: named
    ``NAMESPACE/NAME`` (or what ``source.names`` maps that to), its objects tracked by the two
    labels the controller of ``group`` writes (which hold ``NAMESPACE/NAME`` whatever the name),
    ``manager`` the field manager that applies them, rendering into ``namespace``."""
    m, names = meta_of(obj), source.names
    mark = f"{m.get('namespace')}/{m.get('name')}"
    compare = CompareOptions(tracking_label=f"{group}/name", tracking_namespace_label=f"{group}/namespace",
                             tracking_annotation="", apply_managers=[manager])
    return AppConfig(name=names.get(mark, mark), mark=mark, compare=compare, project=str(m.get("namespace") or ""),
                     labels={str(k): str(v) for k, v in (m.get("labels") or {}).items()},
                     source=SourceConfig(repo_url="", type=source_type),
                     destination=Destination(cluster=source.cluster, namespace=namespace))


def inventory(obj: Mapping[str, Any] | None) -> list[tuple[ObjectKey, str]]:
    """The objects a Kustomization's ``status.inventory`` lists, with the version they were applied
    in: each entry's id is ``<namespace>_<name>_<group>_<kind>`` (names hold no underscore)."""
    found = status_of(obj).get("inventory")
    entries = found.get("entries") if isinstance(found, dict) else None
    out = []
    for entry in entries if isinstance(entries, list) else []:
        parts = str(entry.get("id") or "").split("_") if isinstance(entry, dict) else []
        if len(parts) == 4 and parts[1] and parts[3]:
            namespace, name, group, kind = parts
            out.append((ObjectKey(group, kind, namespace, name), str(entry.get("v") or "")))
    return out


def oci_source(repository: Mapping[str, Any], where: str, media_type: str = "") -> SourceConfig:
    """What an ``OCIRepository`` points at, in source-controller's precedence (``ref.digest`` >
    ``ref.semver`` > ``ref.tag`` > ``latest``), with its layer selector and ``insecure``;
    ValueError for what this agent cannot read as Flux does. ``media_type`` is the layer taken
    when the repository selects none."""
    spec = spec_of(repository)
    url = str(spec.get("url") or "")
    if not url.startswith("oci://"):
        raise ValueError(f"{where} has spec.url '{url}', not an oci:// URL")
    provider = str(spec.get("provider") or "generic")
    if provider != "generic":
        raise ValueError(f"{where} logs in with provider '{provider}' (cloud credentials), which this agent "
                         "does not read; give the registry's credentials in repositories[]")
    ref: dict[str, Any] = spec["ref"] if isinstance(spec.get("ref"), dict) else {}
    revision = str(ref.get("digest") or ref.get("semver") or ref.get("tag") or "latest")
    selector: dict[str, Any] = spec["layerSelector"] if isinstance(spec.get("layerSelector"), dict) else {}
    options = ArtifactOptions(media_type=str(selector.get("mediaType") or media_type),
                              semver=bool(ref.get("semver")) and not ref.get("digest"),
                              semver_filter=str(ref.get("semverFilter") or "") if ref.get("semver") else "",
                              plain_http=spec.get("insecure") is True)
    return SourceConfig(repo_url=url, target_revision=revision, artifact=options)
