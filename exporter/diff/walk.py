"""The comparison proper: walk what Git sets, and compare each field with the live value.

Only fields present in the desired object are visited, so whatever the server or a controller adds
is never looked at here. The walk records raw differences and allocates nothing else: the common
case, an object in sync, costs one pass over the Git manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exporter.diff import defaults
from exporter.diff.managed_fields import KEY_DEFAULTS
from exporter.diff.paths import APPEND, MISSING, RawDiff
from exporter.diff.quantity import quantities_equal
from exporter.diff.schema import NO_DEFAULT, SchemaNode

KeySpec = tuple[tuple[str, Any], ...]

#: The reason of a difference where Git sets the empty string and the live object has a value.
EMPTY_IN_GIT = "Git sets it empty"


def _unset(value: Any) -> bool:
    """Values by which Git says "not set": the API treats them as absent."""
    return value is None or value == "" or value == {} or value == []


def scalar_equal(desired: Any, live: Any, quantity: bool) -> bool:
    """Equality of two leaf values under the API's normalisations.

    A number and its decimal string are always equal (int-or-string fields such as ports accept
    both, and no plain string field of the API holds a bare number Git could confuse); quantities
    are compared by amount only where the field is known to hold one.
    """
    if isinstance(desired, bool) or isinstance(live, bool):
        return desired is live
    if desired == live:
        return True
    if (isinstance(desired, int) and live == str(desired)) or (isinstance(live, int) and desired == str(live)):
        return True
    if quantity:
        return quantities_equal(desired, live)
    return False


def textual(value: dict[str, Any] | list[Any]) -> bool:
    """Whether every leaf under ``value`` is a string or null.

    Where it is, ``value == live`` says exactly what the walk would (no differences), so an equal
    subtree (labels, annotations, a ConfigMap's data, a container's args) is passed over at C
    speed. Other leaves are left to the walk: ``==`` takes ``1 == True``, which the walk does not.
    """
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        for item in node.values() if type(node) is dict else node:
            kind = type(item)
            if kind is dict or kind is list:
                stack.append(item)
            elif kind is not str and item is not None:
                return False
    return True


def _key_part(value: Any) -> Any:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, (dict, list)):
        return repr(value)
    return value


def item_key(item: Mapping[str, Any], spec: KeySpec) -> tuple[Any, ...] | None:
    parts = []
    for name, default in spec:
        value = item.get(name, default if default is not None else KEY_DEFAULTS.get(name))
        if value is None:
            return None
        parts.append(_key_part(value))
    return tuple(parts)


def list_key_spec(name: str | None, items: list[Any], node: SchemaNode | None) -> KeySpec | None:
    """How items of the list called ``name`` are matched: by key, or None for not keyed."""
    if node is not None and node.list_keys is not None:
        return node.list_keys
    if name is None:
        return None
    if name == "ports":
        first = items[0] if items else None
        if isinstance(first, dict):
            if "containerPort" in first:
                return defaults.CONTAINER_PORT_KEY
            if "port" in first:
                return defaults.SERVICE_PORT_KEY
        return None
    return defaults.MERGE_KEYS.get(name)


class Walker:
    """One comparison's walk. ``diffs`` collects what differs."""

    __slots__ = ("diffs", "dpath", "lpath", "unknown")

    def __init__(self) -> None:
        self.diffs: list[RawDiff] = []
        #: Fields Git sets that the server does not store (not in its schema, or dropped while a
        #: feature gate is off): reported, never drift.
        self.unknown: list[RawDiff] = []
        self.dpath: list[Any] = []
        self.lpath: list[Any] = []

    # -- recording ---------------------------------------------------------------------------

    def _record(self, desired: Any, live: Any, live_present: bool = True) -> None:
        self.diffs.append(RawDiff(tuple(self.dpath), tuple(self.lpath) if live_present else None,
                                  desired, live))

    def _record_extra(self, index: int, live: Any) -> None:
        self.diffs.append(RawDiff((*self.dpath, APPEND), (*self.lpath, index), MISSING, live))

    # -- maps --------------------------------------------------------------------------------

    def walk_map(self, desired: Mapping[str, Any], live: Mapping[str, Any], node: SchemaNode | None,
                 quantity_values: bool = False) -> None:
        for name, dvalue in desired.items():
            child = node.child(name) if node is not None else None
            quantity = quantity_values or name in defaults.QUANTITY_FIELDS or (
                child is not None and child.quantity)
            self.dpath.append(name)
            self.lpath.append(name)
            lvalue = live.get(name, MISSING)
            if lvalue is MISSING and (name in defaults.GATED_FIELDS or (
                    node is not None and node.known is not None and name not in node.known)):
                self.unknown.append(RawDiff(tuple(self.dpath), None, dvalue, MISSING,
                                            reason="not stored by this server"))
            elif lvalue is MISSING or lvalue is None:
                if not self._absent_ok(dvalue, child, name, desired):
                    self._record(dvalue, MISSING, live_present=False)
            else:
                self.walk_value(dvalue, lvalue, child, name, quantity)
            self.dpath.pop()
            self.lpath.pop()

    def _absent_ok(self, dvalue: Any, node: SchemaNode | None, name: str | None,
                   parent: Mapping[str, Any]) -> bool:
        """Whether Git's ``dvalue`` is what the server would have left out or filled in itself."""
        if _unset(dvalue):
            return True
        if node is not None and node.default is not NO_DEFAULT:
            default = node.default(parent) if callable(node.default) else node.default
            if isinstance(default, (dict, list)):
                if default == dvalue:
                    return True
            elif default is not None and scalar_equal(dvalue, default, node.quantity):
                return True
        if (dvalue is False or (type(dvalue) is int and dvalue == 0)) and name not in defaults.ABSENT_MEANS_TRUE:
            return True
        if isinstance(dvalue, dict):
            for key, sub in dvalue.items():
                child = node.child(key) if node is not None else None
                if not self._absent_ok(sub, child, key, dvalue):
                    return False
            return True
        return False

    # -- values ------------------------------------------------------------------------------

    def walk_value(self, dvalue: Any, lvalue: Any, node: SchemaNode | None, name: str | None,
                   quantity: bool) -> None:
        if isinstance(dvalue, dict):
            if isinstance(lvalue, dict):
                if dvalue == lvalue and textual(dvalue):
                    return
                self.walk_map(dvalue, lvalue, node, name in defaults.QUANTITY_MAPS)
            elif not _unset(dvalue):
                self._record(dvalue, lvalue)
        elif isinstance(dvalue, list):
            if isinstance(lvalue, list):
                if dvalue == lvalue and textual(dvalue):
                    return
                self.walk_list(dvalue, lvalue, node, name)
            elif dvalue:
                self._record(dvalue, lvalue)
        elif dvalue is None:
            return
        elif dvalue == "" and name is not None:
            # Git's empty string is "not set" to the server, so an absent or empty live value
            # agrees; a live value may have been filled in by a controller (judged by its owner
            # in ``compare``) or by hand.
            if lvalue is not None and lvalue != "":
                self.diffs.append(RawDiff(tuple(self.dpath), tuple(self.lpath), dvalue, lvalue, EMPTY_IN_GIT))
        elif not scalar_equal(dvalue, lvalue, quantity or (node is not None and node.quantity)):
            self._record(dvalue, lvalue)

    # -- lists -------------------------------------------------------------------------------

    def walk_list(self, desired: list[Any], live: list[Any], node: SchemaNode | None,
                  name: str | None) -> None:
        items = node.items if node is not None else None
        spec = list_key_spec(name, desired, node)
        if spec is not None and self._walk_keyed(desired, live, items, spec):
            return
        if (node is not None and node.list_set) or name in defaults.SET_LISTS:
            self._walk_unordered(desired, live, items, extra_is_drift=name in defaults.ATOMIC_SETS)
            return
        for index in range(min(len(desired), len(live))):
            self.dpath.append(index)
            self.lpath.append(index)
            self.walk_value(desired[index], live[index], items, None, False)
            self.dpath.pop()
            self.lpath.pop()
        for index in range(len(live), len(desired)):
            self.dpath.append(index)
            self._record(desired[index], MISSING, live_present=False)
            self.dpath.pop()
        for index in range(len(desired), len(live)):
            self._record_extra(index, live[index])

    def _walk_keyed(self, desired: list[Any], live: list[Any], items: SchemaNode | None,
                    spec: KeySpec) -> bool:
        """Match items by key; False (and nothing recorded) when the list does not fit the key."""
        wanted: list[tuple[Any, ...]] = []
        for item in desired:
            key = item_key(item, spec) if isinstance(item, dict) else None
            if key is None or key in wanted:
                return False
            wanted.append(key)
        index: dict[tuple[Any, ...], int] = {}
        for position, item in enumerate(live):
            if isinstance(item, dict):
                key = item_key(item, spec)
                if key is not None:
                    index.setdefault(key, position)
        for position, (item, key) in enumerate(zip(desired, wanted, strict=True)):
            self.dpath.append(position)
            found = index.get(key)
            if found is None:
                self._record(item, MISSING, live_present=False)
            else:
                self.lpath.append(found)
                self.walk_map(item, live[found], items)
                self.lpath.pop()
            self.dpath.pop()
        return True

    def _walk_unordered(self, desired: list[Any], live: list[Any], items: SchemaNode | None,
                        extra_is_drift: bool) -> None:
        unmatched = list(range(len(live)))
        for position, item in enumerate(desired):
            self.dpath.append(position)
            match = next((j for j in unmatched if self._equal(item, live[j], items, j)), None)
            if match is None:
                self._record(item, MISSING, live_present=False)
            else:
                unmatched.remove(match)
            self.dpath.pop()
        if extra_is_drift:
            for index in unmatched:
                self._record_extra(index, live[index])

    def _equal(self, dvalue: Any, lvalue: Any, node: SchemaNode | None, live_index: int) -> bool:
        saved = self.diffs
        self.diffs = []
        self.lpath.append(live_index)
        try:
            self.walk_value(dvalue, lvalue, node, None, False)
            return not self.diffs
        finally:
            self.lpath.pop()
            self.diffs = saved
