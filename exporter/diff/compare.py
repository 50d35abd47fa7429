"""``compare``: one desired object against its live counterpart, explained field by field."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Mapping
from typing import Any

from exporter.config_types import CompareOptions
from exporter.diff import defaults
from exporter.diff.additions import REMOVED_FROM_GIT, live_additions, removed_since_last_apply
from exporter.diff.ignore import active_rules, classify
from exporter.diff.managed_fields import owners
from exporter.diff.paths import MISSING, RawDiff
from exporter.diff.redact import SECRET_FIELDS, fingerprint, is_secret, redact_value
from exporter.diff.schema import NO_DEFAULT, SchemaHints, SchemaNode, builtin_schema
from exporter.diff.tracking import object_key
from exporter.diff.views import build_views
from exporter.diff.walk import EMPTY_IN_GIT, Walker, scalar_equal
from exporter.model import REDACTED, FieldDiff, KubeObject, ObjectDiff, ObjectKey, Sync


def _decode(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return value


def _secret_data(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Secret values as bytes, ``stringData`` folded in as the API server does on write (a
    simulated server may store it as sent)."""
    data = obj.get("data")
    out = {str(k): _decode(v) for k, v in data.items()} if isinstance(data, dict) else {}
    string_data = obj.get("stringData")
    if isinstance(string_data, dict):
        for name, value in string_data.items():
            if value is not None:
                out[str(name)] = value.encode() if isinstance(value, str) else str(value).encode()
    return out


def _normalise(obj: Mapping[str, Any], secret: bool, desired: bool) -> dict[str, Any]:
    """A shallow copy without identity fields, Secret values decoded; nothing else is copied."""
    out = {k: v for k, v in obj.items() if k not in defaults.IDENTITY_FIELDS}
    meta = out.get("metadata")
    if isinstance(meta, dict):
        out["metadata"] = {k: v for k, v in meta.items() if k not in defaults.IDENTITY_METADATA}
    if secret:
        has_values = "data" in obj or "stringData" in obj
        out.pop("stringData", None)
        if has_values or not desired:
            out["data"] = _secret_data(obj)
    return out


def _schema_root(key: ObjectKey, api_version: str, schema: SchemaHints | None) -> SchemaNode | None:
    if schema is not None and schema.group == key.group and schema.kind == key.kind:
        return schema.for_api_version(api_version)
    return builtin_schema(key.kind) if key.group in _BUILTIN_GROUPS else None


_BUILTIN_GROUPS = frozenset({"", "apps", "batch", "autoscaling", "policy", "networking.k8s.io",
                             "rbac.authorization.k8s.io", "apiextensions.k8s.io", "storage.k8s.io",
                             "extensions"})


def _shown(secret: bool) -> Any:
    def show(path: tuple[Any, ...], value: Any) -> Any:
        if value is MISSING:
            return None
        if secret:
            return redact_value(path, value)
        return value
    return show


def _reason(diff: RawDiff, secret: bool) -> str:
    if diff.reason:
        return diff.reason
    if secret and diff.desired_path and diff.desired_path[0] in SECRET_FIELDS:
        if len(diff.desired_path) > 1 and diff.desired is not MISSING and diff.live is not MISSING:
            return (f"secret value changed (desired #{fingerprint(diff.desired)}, "
                    f"live #{fingerprint(diff.live)})")
        if diff.live is MISSING:
            return "secret value missing live"
    return ""


def _last_applied(live: Mapping[str, Any]) -> Mapping[str, Any] | None:
    meta = live.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    text = annotations.get(defaults.LAST_APPLIED_ANNOTATION) if isinstance(annotations, dict) else None
    if not isinstance(text, str):
        return None
    if len(text) <= _PARSED_TEXT_MAX:
        return _parsed_last_applied(text)
    return _parse_last_applied(text)


#: Annotations up to this long are parsed once per distinct text: the cache keeps the annotation
#: as its key skeleton (see :mod:`exporter.kube.compact`), the same text for every object of one
#: shape across a fleet. The parsed value is only read, never changed.
_PARSED_TEXT_MAX = 8_192


def _parse_last_applied(text: str) -> Mapping[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


_parsed_last_applied = functools.lru_cache(maxsize=1024)(_parse_last_applied)


def _is_default(root: SchemaNode | None, path: tuple[Any, ...], value: Any, live: Mapping[str, Any]) -> bool:
    """Whether ``value`` at ``path`` is what the server fills in when the field is left out: a
    field Git no longer sets that holds its default will hold it after the next apply too."""
    node: SchemaNode | None = root
    parent: Any = live
    holder: Any = live
    for token in path:
        if node is None:
            return False
        if isinstance(token, int):
            node = node.items
            parent = parent[token] if isinstance(parent, list) and 0 <= token < len(parent) else {}
            continue
        holder = parent
        node = node.child(token)
        parent = parent.get(token) if isinstance(parent, dict) else None
    if node is None or node.default is NO_DEFAULT:
        return False
    default = node.default(holder) if callable(node.default) else node.default
    return bool(default == value or scalar_equal(value, default, node.quantity))


def _without_last_applied(live: Mapping[str, Any]) -> Mapping[str, Any]:
    """``live`` as the last apply left it, without the annotation that records that apply."""
    meta = live.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(annotations, dict) or defaults.LAST_APPLIED_ANNOTATION not in annotations:
        return live
    rest = {k: v for k, v in annotations.items() if k != defaults.LAST_APPLIED_ANNOTATION}
    return {**live, "metadata": {**meta, "annotations": rest}}  # type: ignore[dict-item]


def _filled_in(raw: RawDiff, kind: str, live: Mapping[str, Any], options: CompareOptions) -> str | None:
    """Why a live value where Git sets the empty string is not drift, or None when it is: the
    server allocates that field, or a controller (neither a person nor the apply pipeline) owns it."""
    if defaults.allocated(kind, raw.desired_path):
        return "allocated by the server"
    owned_by = owners(live, raw.live_path or raw.desired_path)
    if owned_by and not any(o in options.human_managers or o in defaults.APPLY_MANAGERS for o in owned_by):
        return "filled in by " + ", ".join(owned_by)
    return None


def _view_base(desired: Mapping[str, Any], dnorm: Mapping[str, Any], secret: bool) -> dict[str, Any]:
    """The Git manifest both views start from; a Secret's as the server stores it, redacted."""
    base = dict(desired)
    if secret:
        base.pop("stringData", None)
        if isinstance(dnorm.get("data"), Mapping):
            base["data"] = dict.fromkeys(dnorm["data"], REDACTED)
        if isinstance(base.get("metadata"), Mapping):
            base["metadata"] = redact_value(("metadata",), base["metadata"])
    return base


def compare(desired: KubeObject, live: KubeObject, options: CompareOptions, *,
            hpa_targets: frozenset[ObjectKey] = frozenset(), schema: SchemaHints | None = None,
            ) -> ObjectDiff:
    """Compare the fields Git sets in ``desired`` with ``live``, after normalisation and ignores.

    Never raises: input it cannot make sense of is reported as one difference at the document
    root, so that a broken object shows up as OutOfSync with a reason instead of stopping the
    evaluation of its app.
    """
    try:
        return _compare(desired, live, options, hpa_targets, schema)
    except Exception as error:  # noqa: BLE001 - the contract is "never raises"
        return ObjectDiff(Sync.OUT_OF_SYNC, [FieldDiff(
            "", None, None, reason=f"could not compare ({type(error).__name__})")])


def _compare(desired: KubeObject, live: KubeObject, options: CompareOptions,
             hpa_targets: frozenset[ObjectKey], schema: SchemaHints | None) -> ObjectDiff:
    if not isinstance(desired, dict) or not isinstance(live, dict):
        side = "desired" if not isinstance(desired, dict) else "live"
        return ObjectDiff(Sync.OUT_OF_SYNC, [FieldDiff("", None, None,
                                                       reason=f"{side} object is not a mapping")])
    key = object_key(live)
    secret = is_secret(desired) or is_secret(live)
    dnorm = _normalise(desired, secret, desired=True)
    lnorm = _normalise(live, secret, desired=False)

    walker = Walker()
    root = _schema_root(key, str(desired.get("apiVersion") or ""), schema)
    walker.walk_map(dnorm, lnorm, root)
    raws = walker.diffs
    additions = live_additions(dnorm, lnorm, options.human_managers, defaults.APPLY_MANAGERS)
    last_applied = _last_applied(live)
    if last_applied is not None:
        known = {r.live_path for r in additions if r.live_path is not None}
        additions += [r for r in removed_since_last_apply(dnorm, _without_last_applied(lnorm),
                                                          _normalise(last_applied, secret, True))
                      if r.live_path not in known]
    # The tracking mark is added at apply time by the tool that applies (Argo CD, the pipeline),
    # never written in Git: that it is live and not in Git is how tracking works.
    marks = {("metadata", "labels", options.tracking_label),
             ("metadata", "annotations", options.tracking_annotation)}
    raws.extend(r for r in additions if r.reason != REMOVED_FROM_GIT or (
        r.live_path not in marks and not defaults.allocated(key.kind, r.live_path or ())
        and not _is_default(root, r.live_path or (), r.live, live)))
    if not raws and not walker.unknown:
        return ObjectDiff(Sync.SYNCED)

    # An HPA manifest without a namespace targets the object in the app's namespace.
    scaled = key in hpa_targets or ObjectKey(key.group, key.kind, "", key.name) in hpa_targets
    rules = active_rules(options, key, scaled)
    show = _shown(secret)
    differences: list[FieldDiff] = []
    ignored: list[FieldDiff] = []
    judged: list[tuple[RawDiff, bool]] = []
    for raw in raws:
        origin = classify(raw, rules, desired, live, lnorm)
        if origin is None and raw.reason == EMPTY_IN_GIT:
            origin = _filled_in(raw, key.kind, live, options)
        path = raw.desired_path if raw.desired is not MISSING else (raw.live_path or raw.desired_path)
        field = FieldDiff(raw.pointer, show(path, raw.desired), show(path, raw.live),
                          ignored_by=origin, reason=_reason(raw, secret))
        (ignored if origin else differences).append(field)
        judged.append((raw, origin is not None))
    for raw in walker.unknown:
        ignored.append(FieldDiff(raw.pointer, show(raw.desired_path, raw.desired), None,
                                 ignored_by="not stored by this server", reason=raw.reason))
        judged.append((raw, True))

    desired_view, live_view = build_views(_view_base(desired, dnorm, secret), judged, show)
    return ObjectDiff(Sync.OUT_OF_SYNC if differences else Sync.SYNCED, differences, ignored,
                      desired_view, live_view)
