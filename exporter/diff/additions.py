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

from exporter.diff.managed_fields import item_matches, managed_entries, parse_json_key, same_value
from exporter.diff.paths import APPEND, MISSING, RawDiff
from exporter.diff.records import CHANGED_LIVE, GIT_AHEAD, not_deployed


def live_additions(desired: Mapping[str, Any], live: Mapping[str, Any], human_managers: Collection[str],
                   deployers: Collection[str] = (), revision: str = "") -> list[RawDiff]:
    """One ``RawDiff`` per field live that Git does not set and that is drift all the same:

    - a human manager owns it through an edit (operation Update): *added live by ...*;
    - a deployer (``deployers``, from :func:`deployer_managers`) owns it through server-side
      apply (operation Apply): Git set it once and no longer does (or someone applied more than
      Git), and the next apply from Git removes it: *not deployed yet*.
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
            if manager not in deployers:
                continue
            walk = _AdditionWalk("", GIT_AHEAD, found, seen, revision, str(manager))
        elif manager in human_managers:
            walk = _AdditionWalk(f"added live by {manager}", CHANGED_LIVE, found, seen)
        else:
            continue
        walk.map_node(fields, desired, live, (), ())
    return found


def deployer_managers(live: Mapping[str, Any], desired: Mapping[str, Any],
                      apply_managers: Collection[str] = ()) -> frozenset[str]:
    """The server-side apply managers that deployed ``live``: every Apply manager that owns a
    field Git sets, whatever its name (``kubectl``, a pipeline's ``--field-manager``,
    ``argocd-controller``, ``kustomize-controller`` ...), and those in ``apply_managers``. An
    operator that applies only its own fields owns nothing Git sets, so what it applies stays
    its own and is never taken for something Git dropped."""
    return frozenset(str(entry.get("manager")) for entry in managed_entries(live)
                     if entry.get("operation") == "Apply" and entry.get("subresource") != "status"
                     and isinstance(entry.get("fieldsV1"), dict)
                     and (entry.get("manager") in apply_managers
                          or owns_declared(entry["fieldsV1"], desired, live)))


def owns_declared(fields: Mapping[str, Any], desired: Any, live: Any) -> bool:
    """Whether the ``fieldsV1`` tree owns a leaf that Git sets (outside ``metadata``, where every
    tool that touches an object leaves its labels and annotations)."""
    stack: list[tuple[Mapping[str, Any], Any, Any, bool]] = [(fields, desired, live, True)]
    while stack:
        node, want, have, top = stack.pop()
        for key, child in node.items():
            if not isinstance(child, dict) or len(key) < 2 or key[1] != ":":
                continue
            kind, text = key[0], key[2:]
            if kind == "f":
                if top and text == "metadata" or not isinstance(want, dict) or not isinstance(have, dict):
                    continue
                dvalue, lvalue = want.get(text, MISSING), have.get(text, MISSING)
            elif kind == "k" and isinstance(want, list) and isinstance(have, list):
                wanted = parse_json_key(text)
                dvalue = next((item for item in want if item_matches(item, wanted)), MISSING)
                lvalue = next((item for item in have if item_matches(item, wanted)), MISSING)
            else:
                continue
            if dvalue is MISSING or dvalue is None or lvalue is MISSING:
                continue
            if _is_leaf(child):
                return True
            stack.append((child, dvalue, lvalue, False))
    return False


def _is_leaf(node: Mapping[str, Any]) -> bool:
    return all(key == "." for key in node)


class _AdditionWalk:
    __slots__ = ("reason", "direction", "found", "seen", "revision", "deployer")

    def __init__(self, reason: str, direction: str, found: list[RawDiff], seen: set[tuple[Any, ...]],
                 revision: str = "", deployer: str = "") -> None:
        #: The reason of every report; for a deployer's walk (``GIT_AHEAD``) it is made per item
        #: from ``revision`` and ``deployer`` instead, so that it names the item.
        self.reason = reason
        self.direction = direction
        self.found = found
        self.seen = seen
        self.revision = revision
        self.deployer = deployer

    def _report(self, desired_path: tuple[Any, ...], live_path: tuple[Any, ...], value: Any,
                what: str = "it") -> None:
        if live_path in self.seen or value is None or value in ({}, [], ""):
            return
        self.seen.add(live_path)
        reason = self.reason
        if self.direction == GIT_AHEAD:  # the reason names the item: "removes env DEBUG"
            reason = not_deployed(self.revision, what, self.deployer)
        self.found.append(RawDiff(desired_path, live_path, MISSING, value, reason, self.direction))

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
                wanted = parse_json_key(text)
                live_index = next((i for i, item in enumerate(live) if item_matches(item, wanted)), None)
                desired_index = next((i for i, item in enumerate(desired) if item_matches(item, wanted)),
                                     None)
            elif kind == "v":
                wanted = parse_json_key(text)
                live_index = next((i for i, item in enumerate(live) if same_value(item, wanted)), None)
                desired_index = next((i for i, item in enumerate(desired) if same_value(item, wanted)), None)
            elif kind == "i" and text.isdigit():
                position = int(text)
                live_index = position if position < len(live) else None
                desired_index = position if position < len(desired) else None
            if live_index is None:
                continue
            if desired_index is None:
                what = f"{dpath[-1]} " + " ".join(str(v) for v in wanted.values()) \
                    if kind == "k" and dpath and isinstance(wanted, dict) else "it"
                self._report((*dpath, APPEND), (*lpath, live_index), live[live_index], what)
            elif isinstance(live[live_index], dict):
                self.map_node(child, desired[desired_index], live[live_index], (*dpath, desired_index),
                              (*lpath, live_index))
