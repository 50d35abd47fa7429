"""Small functions for reading plain-dict Kubernetes objects.

Objects stay the dicts the API server sent (see ``exporter.model``); these functions read them
defensively because a health check must give a verdict, not a ``KeyError``, on odd input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from exporter.model import KubeObject

_MISSING = object()


def get(obj: Any, path: str, default: Any = None) -> Any:
    """Value at a dotted ``path`` (``status.loadBalancer.ingress``; digits index lists)."""
    cur = obj
    for part in path.split("."):
        if isinstance(cur, dict):
            cur = cur.get(part, _MISSING)
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return default
        if cur is _MISSING:
            return default
    return default if cur is None else cur


def as_int(value: Any, default: int = 0) -> int:
    """An integer from a field that may be absent, a string or garbage."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return default
    return default


def conditions(obj: KubeObject, path: str = "status.conditions") -> list[dict[str, Any]]:
    """The condition list at ``path``, keeping only well-formed entries."""
    value = get(obj, path)
    if not isinstance(value, list):
        return []
    return [c for c in value if isinstance(c, dict)]


def condition(obj: KubeObject, type_: str, path: str = "status.conditions") -> dict[str, Any] | None:
    """The first condition of type ``type_``, or None."""
    for cond in conditions(obj, path):
        if cond.get("type") == type_:
            return cond
    return None


def text(value: Any) -> str:
    """A field rendered as a message: absent is empty, booleans as Kubernetes writes them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def generation_behind(obj: KubeObject) -> bool:
    """True when the controller has not yet observed the latest spec.

    Only a reported ``status.observedGeneration`` counts: many controllers never write one, and
    treating its absence as "behind" would keep such objects Progressing forever.
    """
    observed = get(obj, "status.observedGeneration")
    generation = get(obj, "metadata.generation")
    if observed is None or generation is None:
        return False
    return as_int(observed) < as_int(generation)


def mapping(obj: Any, path: str) -> dict[str, Any]:
    """The mapping at ``path``, or an empty one when it is absent or not a mapping."""
    value = get(obj, path)
    return value if isinstance(value, dict) else {}


def condition_code(cond: Mapping[str, Any]) -> str:
    """A matched condition as a reason code: its own ``reason`` (what the operator wrote, such as
    ``ProgressDeadlineExceeded``), else its type and status (``ReadyFalse``)."""
    reason = text(cond.get("reason"))
    return reason or f"{text(cond.get('type'))}{text(cond.get('status'))}"


def value_code(prefix: str, value: Any) -> str:
    """A matched field's value as a reason code: ``phase`` and ``Failed`` -> ``phaseFailed``."""
    word = re.sub(r"[^A-Za-z0-9]", "", text(value))
    return prefix + word[:1].upper() + word[1:]
