"""Keeping Secret values inside the process.

Secret ``data`` and ``stringData`` values, and the last-applied annotation that repeats them, are
replaced with ``REDACTED`` wherever a comparison result could carry them. That a value changed is
still visible, through a short fingerprint keyed with a per-process random key: stable within one
run (two evaluations of the same change show the same fingerprint) but useless for guessing a
value offline, which a plain hash of a short password would not be.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from exporter.diff.defaults import LAST_APPLIED_ANNOTATION
from exporter.model import REDACTED, KubeObject

_KEY = secrets.token_bytes(32)
SECRET_FIELDS = ("data", "stringData")


def fingerprint(value: Any) -> str:
    """Eight hex digits that differ when the value differs."""
    raw = value if isinstance(value, bytes) else str(value).encode()
    return hmac.new(_KEY, raw, hashlib.sha256).hexdigest()[:8]


def is_secret(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "Secret" and str(obj.get("apiVersion") or "v1") == "v1"


def redact_value(path: tuple[Any, ...], value: Any) -> Any:
    """``value`` found at ``path`` of a Secret, with anything secret replaced."""
    if not path:
        return redact_secret(value) if isinstance(value, Mapping) else value
    head = path[0]
    if head in SECRET_FIELDS:
        if len(path) == 1 and isinstance(value, Mapping):
            return dict.fromkeys(value, REDACTED)
        return REDACTED
    if head == "metadata" and len(path) >= 2 and path[1] != "annotations":
        return value
    if head == "metadata":
        if len(path) == 1:
            return _redact_metadata(value) if isinstance(value, Mapping) else value
        if len(path) == 2:
            return _redact_annotations(value) if isinstance(value, Mapping) else value
        if path[2] == LAST_APPLIED_ANNOTATION:
            return REDACTED
    return value


def _redact_annotations(annotations: Mapping[str, Any]) -> dict[str, Any]:
    copy = dict(annotations)
    if LAST_APPLIED_ANNOTATION in copy:
        copy[LAST_APPLIED_ANNOTATION] = REDACTED
    return copy


def _redact_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    copy = dict(metadata)
    annotations = copy.get("annotations")
    if isinstance(annotations, Mapping):
        copy["annotations"] = _redact_annotations(annotations)
    return copy


def redact_secret(obj: Mapping[str, Any]) -> dict[str, Any]:
    copy = dict(obj)
    for name in SECRET_FIELDS:
        values = copy.get(name)
        if isinstance(values, Mapping):
            copy[name] = dict.fromkeys(values, REDACTED)
        elif values is not None:
            copy[name] = REDACTED
    metadata = copy.get("metadata")
    if isinstance(metadata, Mapping):
        copy["metadata"] = _redact_metadata(metadata)
    return copy


def redact(obj: KubeObject) -> KubeObject:
    """``obj`` safe to show: a copy with Secret values replaced; any other kind is returned as is.

    Lists (``kind: List`` / ``SecretList``) are redacted item by item.
    """
    if not isinstance(obj, Mapping):
        return obj
    if is_secret(obj):
        return redact_secret(obj)
    items = obj.get("items")
    if isinstance(items, list) and str(obj.get("kind") or "").endswith("List"):
        copy = dict(obj)
        copy["items"] = [redact(item) if isinstance(item, dict) else item for item in items]
        return copy
    return obj
