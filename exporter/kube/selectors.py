"""Label and field selectors, parsed and matched the way the API server does.

The simulated cluster filters lists and watches with these, and the live cache uses the same
parser to reject a malformed selector from the configuration before any request goes out, so
that a typo is reported against the selector and not as a puzzling 400 from a cluster.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Operator = Literal["=", "!=", "in", "notin", "exists", "!"]

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9._/-]+)\s+(in|notin)\s*\(([^)]*)\)\s*$")
_EQ_RE = re.compile(r"^\s*([A-Za-z0-9._/-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)\s*$")
_EXISTS_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9._/-]+)\s*$")


class SelectorError(ValueError):
    """A selector that the API server would reject; the message quotes the offending part."""


@dataclass(frozen=True)
class Requirement:
    key: str
    op: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "=":
            return present and value == self.values[0]
        if self.op == "!=":
            return not present or value != self.values[0]
        if self.op == "in":
            return present and value in self.values
        if self.op == "notin":
            return not present or value not in self.values
        if self.op == "exists":
            return present
        return not present  # "!"


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside ``( … )`` value sets."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def parse_label_selector(text: str | None) -> tuple[Requirement, ...]:
    """Parse ``a=b,c!=d,e in (x,y),f notin (z),g,!h`` into requirements (empty matches all)."""
    if not text or not text.strip():
        return ()
    reqs: list[Requirement] = []
    for part in _split_top_level(text):
        if not part.strip():
            raise SelectorError(f"invalid label selector {text!r}: empty requirement")
        if m := _SET_RE.match(part):
            if m.group(1):
                raise SelectorError(f"invalid label selector {text!r}: '!' cannot precede {m.group(3)!r}")
            values = tuple(v.strip() for v in m.group(4).split(",") if v.strip())
            if not values:
                raise SelectorError(f"invalid label selector {text!r}: {m.group(3)} needs at least one value")
            reqs.append(Requirement(m.group(2), m.group(3), values))  # type: ignore[arg-type]
        elif m := _EQ_RE.match(part):
            reqs.append(Requirement(m.group(1), "!=" if m.group(2) == "!=" else "=", (m.group(3),)))
        elif m := _EXISTS_RE.match(part):
            reqs.append(Requirement(m.group(2), "!" if m.group(1) else "exists"))
        else:
            raise SelectorError(f"invalid label selector {text!r}: cannot parse {part.strip()!r}")
    return tuple(reqs)


def labels_match(reqs: tuple[Requirement, ...], obj: Mapping[str, Any]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(r.matches(labels) for r in reqs)


#: Fields every resource can be selected by. Resource-specific ones (``status.phase`` …) are not offered.
FIELD_PATHS = {"metadata.name": ("metadata", "name"), "metadata.namespace": ("metadata", "namespace")}


@dataclass(frozen=True)
class FieldRequirement:
    path: str
    negate: bool
    value: str

    def matches(self, obj: Mapping[str, Any]) -> bool:
        outer, inner = FIELD_PATHS[self.path]
        actual = str((obj.get(outer) or {}).get(inner) or "")
        return (actual != self.value) if self.negate else (actual == self.value)


def parse_field_selector(text: str | None) -> tuple[FieldRequirement, ...]:
    """Parse ``metadata.name=x,metadata.namespace!=y``; unknown fields are an error as on a real server."""
    if not text or not text.strip():
        return ()
    reqs: list[FieldRequirement] = []
    for part in text.split(","):
        m = re.match(r"^\s*([A-Za-z.]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise SelectorError(f"invalid field selector {text!r}: cannot parse {part.strip()!r}")
        if m.group(1) not in FIELD_PATHS:
            raise SelectorError(f'field label not supported: "{m.group(1)}"')
        reqs.append(FieldRequirement(m.group(1), m.group(2) == "!=", m.group(3)))
    return tuple(reqs)


def fields_match(reqs: tuple[FieldRequirement, ...], obj: Mapping[str, Any]) -> bool:
    return all(r.matches(obj) for r in reqs)
