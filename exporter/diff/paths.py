"""Paths into objects: tokens, JSON pointers, and the raw record of one difference.

A difference remembers two paths because list items matched by key sit at different positions in
Git and in the cluster: ``desired`` is where the field is in the Git manifest (and in the views
drawn from it), ``live`` where it is in the live object (where managedFields and jq look).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Token = str | int
Path = tuple[Token, ...]


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: The value is absent on that side.
MISSING: Any = _Marker("MISSING")
#: Last token of a desired path for something only the live side has: "after the last item".
APPEND: Any = _Marker("APPEND")


@dataclass(slots=True)
class RawDiff:
    desired_path: tuple[Any, ...]
    live_path: Path | None
    desired: Any
    live: Any
    reason: str = ""
    #: Which side moved, where the deployer's record tells: ``"git"`` (live is what was last
    #: applied, Git differs) or ``"live"`` (changed after the last apply); ``""`` when unknown.
    direction: str = ""

    @property
    def pointer(self) -> str:
        """Where a user looks: in Git when Git has the field, else in the live object."""
        if self.desired is not MISSING or self.live_path is None:
            return to_pointer(self.desired_path)
        return to_pointer(self.live_path)


def to_pointer(path: Sequence[Any]) -> str:
    out = []
    for token in path:
        if token is APPEND:
            out.append("-")
        else:
            out.append(str(token).replace("~", "~0").replace("/", "~1"))
    return "/" + "/".join(out) if out else ""


def parse_pointer(pointer: str) -> tuple[str, ...] | None:
    """RFC 6901 pointer to tokens; None when it is not a valid pointer."""
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        return None
    tokens = []
    for raw in pointer[1:].split("/"):
        stripped = raw.replace("~0", "").replace("~1", "")
        if "~" in stripped:
            return None
        tokens.append(raw.replace("~1", "/").replace("~0", "~"))
    return tuple(tokens)


def has_prefix(path: Sequence[Any], prefix: Sequence[Any]) -> bool:
    """True when ``prefix`` (strings, or jq's strings and ints) leads to ``path``."""
    if len(prefix) > len(path):
        return False
    for have, want in zip(path, prefix, strict=False):
        if have is APPEND:
            return False
        if have != want and str(have) != str(want):
            return False
    return True
