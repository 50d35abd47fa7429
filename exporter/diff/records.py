"""Three-way comparison against a deployer's record of what it last applied.

Comparing what Git sets with what is live cannot see a field Git *no longer* sets: Git says nothing
about it. The tool that applied the object can. ``kubectl apply`` keeps what it applied in the
``last-applied-configuration`` annotation, Helm keeps the manifest of the release in its release
record; a field that record holds, that Git's render lacks and that is still live is exactly what
the next apply from Git deletes, so today the cluster differs from Git. It is also what a hand
``kubectl apply`` of a local copy looks like: the record holds what was applied, not what Git says.

Maps are followed by name and lists by the server's own list semantics: a keyed list (the schema's
``x-kubernetes-list-map-keys``, or the patch merge key of a built-in list: containers by name, env
by name, ports by port and protocol, volume mounts by path ...) item by item, and any other list
whole. The record may be the cache's key skeleton (values blanked, list keys kept: see
:mod:`exporter.kube.compact`): only which fields and which list items it holds is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exporter.diff.managed_fields import item_matches
from exporter.diff.paths import APPEND, MISSING, RawDiff
from exporter.diff.schema import SchemaNode
from exporter.diff.walk import list_key_spec

#: ``RawDiff.direction`` of a difference where live is what the deployer last applied and Git has
#: moved on (or never had it): the next apply from Git changes the cluster.
GIT_AHEAD = "git"
#: ... and of one where live was changed after the deployer applied it (by hand or by a controller).
CHANGED_LIVE = "live"


@dataclass(frozen=True, slots=True)
class Record:
    """What one deployer last applied to an object, and the field managers its writes carry."""

    manifest: Mapping[str, Any]
    #: Who, in the user's words: "kubectl apply", "helm release web revision 3".
    deployer: str
    managers: frozenset[str] = frozenset()


_HEX = re.compile(r"^[0-9a-f]{7,}$")


def git_at(revision: str) -> str:
    """"Git at 3f2a1c0" for a commit, "Git at shop 1.0.0" for a chart version, "Git" for none."""
    if not revision:
        return "Git"
    return f"Git at {revision[:7] if _HEX.match(revision) else revision}"


def not_deployed(revision: str, what: str, deployer: str) -> str:
    """The reason of a field the deployer's record holds and Git's render does not."""
    at = git_at(revision)
    return f"not deployed yet: {at} removes {what} (last applied by {deployer})"


def _blank(value: Any) -> bool:
    return value is MISSING or value is None or value == {} or value == [] or value == ""


def removed_from_record(desired: Mapping[str, Any], live: Mapping[str, Any], record: Mapping[str, Any],
                        root: SchemaNode | None, deployer: str, revision: str = "") -> list[RawDiff]:
    """Fields and list items ``record`` holds that ``desired`` does not and ``live`` still has."""
    found: list[RawDiff] = []
    _RecordWalk(found, deployer, revision).map(record, desired, live, root, (), ())
    return found


class _RecordWalk:
    # A class with methods, not nested closures: a recursive closure is a reference cycle, and one
    # per compared object would leave the garbage collector thousands of cycles per cold start.
    __slots__ = ("found", "deployer", "revision")

    def __init__(self, found: list[RawDiff], deployer: str, revision: str) -> None:
        self.found = found
        self.deployer = deployer
        self.revision = revision

    def _report(self, dpath: tuple[Any, ...], lpath: tuple[Any, ...], value: Any, what: str = "it") -> None:
        self.found.append(RawDiff(dpath, lpath, MISSING, value,
                                  not_deployed(self.revision, what, self.deployer), GIT_AHEAD))

    def map(self, record: Mapping[str, Any], desired: Any, live: Mapping[str, Any], node: SchemaNode | None,
            dpath: tuple[Any, ...], lpath: tuple[Any, ...]) -> None:
        for name, value in record.items():
            lvalue = live.get(name, MISSING)
            if _blank(lvalue):
                continue
            dvalue = desired.get(name, MISSING) if isinstance(desired, dict) else MISSING
            child = node.child(name) if node is not None else None
            here_d, here_l = (*dpath, name), (*lpath, name)
            if isinstance(value, dict) and isinstance(lvalue, dict):
                if dvalue is MISSING or dvalue is None or isinstance(dvalue, dict):  # its leaves decide
                    self.map(value, dvalue, lvalue, child, here_d, here_l)
            elif dvalue is MISSING or dvalue is None:
                self._report(here_d, here_l, lvalue)
            elif isinstance(value, list) and isinstance(lvalue, list) and isinstance(dvalue, list):
                self.keyed_list(name, value, dvalue, lvalue, child, here_d, here_l)
            # A leaf Git still sets: the comparison itself judges its value.

    def keyed_list(self, name: str, record: list[Any], desired: list[Any], live: list[Any],
                   node: SchemaNode | None, dpath: tuple[Any, ...], lpath: tuple[Any, ...]) -> None:
        """Items of a keyed list the record holds and Git does not; any other list is atomic (the
        comparison judges it whole, extra live items included)."""
        spec = list_key_spec(name, desired or live, node)
        if spec is None:
            return
        items = node.items if node is not None else None
        key_names = [k for k, _ in spec]
        for entry in record:
            if not isinstance(entry, dict) or not all(k in entry for k in key_names[:1]):
                continue
            key = {k: entry[k] for k in key_names if k in entry}
            at = next((i for i, item in enumerate(live) if item_matches(item, key)), None)
            if at is None:
                continue
            want = next((i for i, item in enumerate(desired) if item_matches(item, key)), None)
            if want is None:
                what = f"{name} " + " ".join(str(v) for v in key.values())
                self._report((*dpath, APPEND), (*lpath, at), live[at], what)
            elif isinstance(live[at], dict) and isinstance(desired[want], dict):
                self.map(entry, desired[want], live[at], items, (*dpath, want), (*lpath, at))
