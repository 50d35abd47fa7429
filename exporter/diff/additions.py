"""Fields a person added by hand to the live object, found through ``metadata.managedFields``.

Comparing only what Git sets cannot see a label added with ``kubectl label`` or a debug container
added with ``kubectl patch``: Git does not mention them. Field ownership can. A field Git does not
set, owned by one of the human managers (``kubectl-edit``, ``kubectl-patch`` ...), is drift; the same
field owned by a controller or an operator is how the cluster works and is not.

Scaling follows from the same rule. When Git sets ``spec.replicas``, any other live count is
drift, whoever made it, unless an autoscaler targets the object (then the shipped ignore
``default:hpa-replicas`` applies). When Git leaves replicas out, a new count is drift only if a
human manager owns the field. Note that ``kubectl scale`` of kubectl 1.24 records itself as
manager ``kubectl`` (subresource ``scale``), not ``kubectl-scale``: add ``kubectl`` to the human
managers to count it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from exporter.diff.managed_fields import _parse_json, _same, item_matches, managed_entries
from exporter.diff.paths import APPEND, MISSING, RawDiff

REMOVED_FROM_GIT = "removed from Git, still live"


def live_additions(desired: Mapping[str, Any], live: Mapping[str, Any], human_managers: Collection[str],
                   apply_managers: Collection[str] = ()) -> list[RawDiff]:
    """One ``RawDiff`` per field live that Git does not set and that is drift all the same:

    - a human manager owns it through an edit (operation Update): *added live by ...*;
    - the pipeline's apply manager owns it through server-side apply (operation Apply): Git set
      it once and no longer does, and the next apply will remove it: *removed from Git, still live*.
      (``kubectl`` is kubectl's server-side apply manager and, in kubectl 1.24, what ``kubectl
      scale`` records; it counts as human only for operation Update.)

    A null or empty live value is never an addition.
    """
    found: list[RawDiff] = []
    seen: set[tuple[Any, ...]] = set()
    for entry in managed_entries(live):
        manager = entry.get("manager")
        fields = entry.get("fieldsV1")
        if entry.get("subresource") == "status" or not isinstance(fields, dict):
            continue
        if entry.get("operation") == "Apply":
            if manager not in apply_managers:
                continue
            reason = REMOVED_FROM_GIT
        elif manager in human_managers:
            reason = f"added live by {manager}"
        else:
            continue
        walk = _AdditionWalk(reason, found, seen)
        walk.map_node(fields, desired, live, (), ())
    return found


def removed_since_last_apply(desired: Mapping[str, Any], live: Mapping[str, Any],
                             last_applied: Mapping[str, Any]) -> list[RawDiff]:
    """Fields the last client-side ``kubectl apply`` set (its last-applied annotation lists them)
    that Git no longer sets and that are still live: the next apply will delete them, so today
    the cluster differs from Git. Maps are followed; a list is judged whole by the comparison."""
    found: list[RawDiff] = []
    _removed(last_applied, desired, live, (), found)
    return found


def _removed(last: Mapping[str, Any], want: Any, have: Mapping[str, Any], path: tuple[Any, ...],
             found: list[RawDiff]) -> None:
    # A module-level function, not a closure: a recursive closure is a reference cycle, and one
    # per compared object would leave the garbage collector thousands of cycles per cold start.
    for name, value in last.items():
        lvalue = have.get(name, MISSING)
        if lvalue is MISSING or lvalue is None or lvalue in ({}, [], ""):
            continue
        dvalue = want.get(name, MISSING) if isinstance(want, dict) else MISSING
        if isinstance(value, dict) and isinstance(lvalue, dict):
            if dvalue is MISSING or isinstance(dvalue, dict):  # the leaves it listed decide
                _removed(value, dvalue, lvalue, (*path, name), found)
        elif dvalue is MISSING:
            found.append(RawDiff((*path, name), (*path, name), MISSING, lvalue, REMOVED_FROM_GIT))


def _is_leaf(node: Mapping[str, Any]) -> bool:
    return all(key == "." for key in node)


class _AdditionWalk:
    __slots__ = ("reason", "found", "seen")

    def __init__(self, reason: str, found: list[RawDiff], seen: set[tuple[Any, ...]]) -> None:
        self.reason = reason
        self.found = found
        self.seen = seen

    def _report(self, desired_path: tuple[Any, ...], live_path: tuple[Any, ...], value: Any) -> None:
        if live_path in self.seen or value is None or value in ({}, [], ""):
            return
        self.seen.add(live_path)
        self.found.append(RawDiff(desired_path, live_path, MISSING, value, self.reason))

    def map_node(self, fields: Mapping[str, Any], desired: Any, live: Mapping[str, Any],
                 dpath: tuple[Any, ...], lpath: tuple[Any, ...]) -> None:
        for key, child in fields.items():
            if not key.startswith("f:") or not isinstance(child, dict):
                continue
            name = key[2:]
            lvalue = live.get(name, MISSING)
            if lvalue is MISSING:
                continue  # ownership recorded for a field since removed
            dvalue = desired.get(name, MISSING) if isinstance(desired, dict) else MISSING
            here_d, here_l = (*dpath, name), (*lpath, name)
            if dvalue is MISSING or dvalue is None:
                self._absent(child, lvalue, here_d, here_l)
            elif _is_leaf(child):
                continue  # Git sets it: the comparison itself judges it
            elif isinstance(lvalue, dict):
                self.map_node(child, dvalue, lvalue, here_d, here_l)
            elif isinstance(lvalue, list) and isinstance(dvalue, list):
                self.list_node(child, dvalue, lvalue, here_d, here_l)

    def _absent(self, fields: Mapping[str, Any], lvalue: Any, dpath: tuple[Any, ...],
                lpath: tuple[Any, ...]) -> None:
        """Git lacks this node: report what the manager owns beneath it, at the finest grain."""
        if _is_leaf(fields) or not isinstance(lvalue, (dict, list)):
            self._report(dpath, lpath, lvalue)
        elif isinstance(lvalue, dict):
            self.map_node(fields, MISSING, lvalue, dpath, lpath)
        else:
            self.list_node(fields, [], lvalue, dpath, lpath)

    def list_node(self, fields: Mapping[str, Any], desired: list[Any], live: list[Any],
                  dpath: tuple[Any, ...], lpath: tuple[Any, ...]) -> None:
        for key, child in fields.items():
            if not isinstance(child, dict) or len(key) < 2 or key[1] != ":":
                continue
            kind, text = key[0], key[2:]
            live_index = desired_index = None
            if kind == "k":
                wanted = _parse_json(text)
                live_index = next((i for i, item in enumerate(live) if item_matches(item, wanted)), None)
                desired_index = next((i for i, item in enumerate(desired) if item_matches(item, wanted)),
                                     None)
            elif kind == "v":
                wanted = _parse_json(text)
                live_index = next((i for i, item in enumerate(live) if _same(item, wanted)), None)
                desired_index = next((i for i, item in enumerate(desired) if _same(item, wanted)), None)
            elif kind == "i" and text.isdigit():
                position = int(text)
                live_index = position if position < len(live) else None
                desired_index = position if position < len(desired) else None
            if live_index is None:
                continue
            if desired_index is None:
                self._report((*dpath, APPEND), (*lpath, live_index), live[live_index])
            elif isinstance(live[live_index], dict):
                self.map_node(child, desired[desired_index], live[live_index], (*dpath, desired_index),
                              (*lpath, live_index))
