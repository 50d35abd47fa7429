"""``compare``: one desired object against its live counterpart, explained field by field."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from exporter.config_types import CompareOptions
from exporter.diff import defaults
from exporter.diff.additions import deployer_managers, live_additions
from exporter.diff.ignore import active_rules, classify
from exporter.diff.managed_fields import owner_entries, owners
from exporter.diff.paths import MISSING, RawDiff
from exporter.diff.records import CHANGED_LIVE, GIT_AHEAD, Record, git_at, removed_from_record
from exporter.diff.redact import SECRET_FIELDS, fingerprint, is_secret, redact_value
from exporter.diff.schema import NO_DEFAULT, SchemaHints, SchemaNode, builtin_schema
from exporter.diff.tracking import object_key
from exporter.diff.views import build_views
from exporter.diff.walk import EMPTY_IN_GIT, Walker, scalar_equal
from exporter.instruments import internal_error
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
            revision: str = "", record: Record | None = None) -> ObjectDiff:
    """Compare the fields Git sets in ``desired`` with ``live``, after normalisation and ignores.

    Three-way where the deployer left a record of what it last applied: the last-applied
    annotation of ``kubectl apply``, the managedFields of a server-side apply, and ``record``
    (Helm's release manifest for the object, read by the caller). ``revision`` is the Git commit
    ``desired`` was rendered from, for the reasons ("not deployed yet: Git at 3f2a1c0 ...").

    Never raises: input it cannot make sense of is reported as one difference at the document
    root, so that a broken object shows up as OutOfSync with a reason instead of stopping the
    evaluation of its app.
    """
    try:
        return _compare(desired, live, options, hpa_targets, schema, revision, record)
    except Exception as error:  # noqa: BLE001 - the contract is "never raises"
        internal_error("compare", desired, error)
        return ObjectDiff(Sync.OUT_OF_SYNC, [FieldDiff("", None, None, reason="could not compare (internal error)")])



def _records(live: Mapping[str, Any], record: Record | None, secret: bool) -> list[Record]:
    """Every record of what was last applied to ``live``: kubectl's annotation, then the caller's."""
    found = []
    last_applied = _last_applied(live)
    if last_applied is not None:
        found.append(Record(_normalise(last_applied, secret, True), "kubectl apply",
                            frozenset({defaults.CLIENT_SIDE_APPLY_MANAGER})))
    if record is not None:
        found.append(Record(_normalise(record.manifest, secret, True), record.deployer, record.managers))
    return found


def _direction(raw: RawDiff, live: Mapping[str, Any], appliers: Collection[str], updaters: Collection[str],
               revision: str) -> tuple[str, str]:
    """Which side moved for a value that differs from Git's, from who owns the live field: a
    deployer (live is what it last applied, Git has moved on) or anyone else (changed live).
    ``appliers`` deploy by server-side apply, ``updaters`` by update (client-side apply, Helm)."""
    if raw.direction or raw.live_path is None or raw.live is MISSING or raw.desired is MISSING:
        return raw.direction, ""
    entries = owner_entries(live, raw.live_path)
    if not entries:
        return "", ""
    others = [m for m, op in entries if m not in (appliers if op == "Apply" else updaters)]
    if others:
        return CHANGED_LIVE, "changed live by " + ", ".join(dict.fromkeys(others))
    at = git_at(revision)
    return GIT_AHEAD, f"not deployed yet: {at} sets another value (live is what {entries[0][0]} last applied)"


def _not_in_git(dnorm: Mapping[str, Any], lnorm: Mapping[str, Any], live: Mapping[str, Any],
                root: SchemaNode | None, options: CompareOptions, kind: str, appliers: frozenset[str],
                records: list[Record], revision: str) -> list[RawDiff]:
    """Live fields Git does not set that count all the same: added by a person, or held by a
    deployer's record (managedFields of a server-side apply, last-applied, Helm's release)."""
    found = live_additions(dnorm, lnorm, options.human_managers, appliers, revision)
    bare = _without_last_applied(lnorm)
    # A person's edit first, then what a record names (the deployer in the user's words: "helm
    # release web revision 3"), then what only the managedFields of an apply tell.
    additions = [r for r in found if r.direction != GIT_AHEAD]
    for rec in records:
        additions += removed_from_record(dnorm, bare, rec.manifest, root, rec.deployer, revision)
    additions += (r for r in found if r.direction == GIT_AHEAD)
    first: dict[Any, RawDiff] = {}
    for r in additions:
        first.setdefault(r.live_path, r)
    # The tracking mark is added at apply time by the tool that applies (Argo CD, the pipeline),
    # never written in Git: that it is live and not in Git is how tracking works.
    marks = {("metadata", "labels", options.tracking_label),
             ("metadata", "annotations", options.tracking_annotation), *defaults.APPLY_TIME_MARKS}
    return [r for r in first.values() if r.direction != GIT_AHEAD or (
        r.live_path not in marks and not defaults.allocated(kind, r.live_path or ())
        and not _is_default(root, r.live_path or (), r.live, live))]


@dataclass
class _Found:
    """What the walk found: the raw differences, the fields this server does not store, who
    deployed the object and the records of what it last applied."""

    raws: list[RawDiff]
    unknown: list[RawDiff]
    appliers: frozenset[str]
    records: list[Record]


def _compare(desired: KubeObject, live: KubeObject, options: CompareOptions,
             hpa_targets: frozenset[ObjectKey], schema: SchemaHints | None, revision: str,
             record: Record | None) -> ObjectDiff:
    """Four phases: normalise both sides, find the raw differences, judge each (drift, ignored
    or a deployer's business), and build the views a person reads."""
    if not isinstance(desired, dict) or not isinstance(live, dict):
        side = "desired" if not isinstance(desired, dict) else "live"
        return ObjectDiff(Sync.OUT_OF_SYNC, [FieldDiff("", None, None,
                                                       reason=f"{side} object is not a mapping")])
    key = object_key(live)
    secret = is_secret(desired) or is_secret(live)
    dnorm = _normalise(desired, secret, desired=True)
    lnorm = _normalise(live, secret, desired=False)
    found = _find(desired, live, dnorm, lnorm, key, secret, options, schema, revision, record)
    if not found.raws and not found.unknown:
        return ObjectDiff(Sync.SYNCED)
    differences, ignored, judged = _judge(found, desired, live, lnorm, key, secret, options, hpa_targets, revision)
    desired_view, live_view = build_views(_view_base(desired, dnorm, secret), judged, _shown(secret))
    return ObjectDiff(Sync.OUT_OF_SYNC if differences else Sync.SYNCED, differences, ignored,
                      desired_view, live_view)


def _find(desired: KubeObject, live: KubeObject, dnorm: Mapping[str, Any], lnorm: Mapping[str, Any],
          key: ObjectKey, secret: bool, options: CompareOptions, schema: SchemaHints | None, revision: str,
          record: Record | None) -> _Found:
    """Every field where the two sides differ: Git's fields walked against live, then the live
    fields Git does not set that count all the same."""
    walker = Walker()
    root = _schema_root(key, str(desired.get("apiVersion") or ""), schema)
    walker.walk_map(dnorm, lnorm, root)
    appliers = deployer_managers(live, dnorm, defaults.APPLY_MANAGERS.union(options.apply_managers))
    records = _records(live, record, secret)
    raws = walker.diffs + _not_in_git(dnorm, lnorm, live, root, options, key.kind, appliers, records, revision)
    return _Found(raws, walker.unknown, appliers, records)


def _judge(found: _Found, desired: KubeObject, live: KubeObject, lnorm: Mapping[str, Any], key: ObjectKey,
           secret: bool, options: CompareOptions, hpa_targets: frozenset[ObjectKey],
           revision: str) -> tuple[list[FieldDiff], list[FieldDiff], list[tuple[RawDiff, bool]]]:
    """Each raw difference as a drift or as ignored (by a rule, by admission, as a field this
    server does not store), with which side moved; and each with whether it was ignored."""
    # An HPA manifest without a namespace targets the object in the app's namespace.
    scaled = key in hpa_targets or ObjectKey(key.group, key.kind, "", key.name) in hpa_targets
    rules = active_rules(options, key, scaled)
    show = _shown(secret)
    updaters = defaults.UPDATE_DEPLOYERS.union(options.apply_managers, *(r.managers for r in found.records))
    differences: list[FieldDiff] = []
    ignored: list[FieldDiff] = []
    judged: list[tuple[RawDiff, bool]] = []
    for raw in found.raws:
        origin = classify(raw, rules, desired, live, lnorm) or defaults.added_by_admission(key.kind, raw)
        if origin is None and raw.reason == EMPTY_IN_GIT:
            origin = _filled_in(raw, key.kind, live, options)
        path = raw.desired_path if raw.desired is not MISSING else (raw.live_path or raw.desired_path)
        direction, why = _direction(raw, live, found.appliers, updaters, revision)
        field = FieldDiff(raw.pointer, show(path, raw.desired), show(path, raw.live),
                          ignored_by=origin, reason=_reason(raw, secret) or why, direction=direction)
        (ignored if origin else differences).append(field)
        judged.append((raw, origin is not None))
    for raw in found.unknown:
        ignored.append(FieldDiff(raw.pointer, show(raw.desired_path, raw.desired), None,
                                 ignored_by="not stored by this server", reason=raw.reason))
        judged.append((raw, True))
    return differences, ignored, judged
