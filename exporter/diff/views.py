"""The two documents a human diff is drawn from.

Both start as the Git manifest; the live view then takes the live value of every field that
differs and gains what a person added by hand. Fields that compare equal keep Git's spelling in
both views (``0.1`` rather than ``100m``), so a unified diff shows exactly the differences that
count, and ignored fields are left out of both so they do not look like drift.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from exporter.diff.paths import APPEND, MISSING, RawDiff


class _Drop:
    __slots__ = ()


_DROP = _Drop()


def _set(doc: Any, path: Sequence[Any], value: Any) -> None:
    node = doc
    for token in path[:-1]:
        if isinstance(node, dict) and isinstance(token, str):
            node = node.get(token)
        elif isinstance(node, list) and isinstance(token, int) and 0 <= token < len(node):
            node = node[token]
        else:
            return
    last = path[-1] if path else None
    if isinstance(node, dict) and isinstance(last, str):
        node[last] = value
    elif isinstance(node, list) and isinstance(last, int) and 0 <= last < len(node):
        node[last] = value


def _insert(doc: Any, path: Sequence[Any], value: Any) -> None:
    node = doc
    for position, token in enumerate(path[:-1]):
        following = path[position + 1]
        if isinstance(node, dict) and isinstance(token, str):
            if not isinstance(node.get(token), (dict, list)):
                node[token] = [] if following is APPEND else {}
            node = node[token]
        elif isinstance(node, list) and isinstance(token, int) and 0 <= token < len(node):
            node = node[token]
        else:
            return
    last = path[-1] if path else None
    if last is APPEND and isinstance(node, list):
        node.append(value)
    elif isinstance(node, dict) and isinstance(last, str):
        node[last] = value


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if v is not _DROP}
    if isinstance(value, list):
        return [_strip(v) for v in value if v is not _DROP]
    return value


def build_views(base: dict[str, Any], diffs: Sequence[tuple[RawDiff, bool]],
                shown: Callable[[tuple[Any, ...], Any], Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(desired_view, live_view)`` from the Git manifest ``base`` and ``(diff, ignored)`` pairs.

    ``shown`` turns a value at a path into what may be displayed (redaction).
    """
    desired_view = copy.deepcopy(base)
    live_view = copy.deepcopy(base)
    inserts: list[RawDiff] = []
    for diff, ignored in diffs:
        if diff.desired is MISSING:
            if not ignored:
                inserts.append(diff)
            continue
        if ignored:
            _set(desired_view, diff.desired_path, _DROP)
            _set(live_view, diff.desired_path, _DROP)
        else:
            _set(live_view, diff.desired_path,
                 _DROP if diff.live is MISSING else shown(diff.desired_path, diff.live))
    for diff in inserts:
        _insert(live_view, diff.desired_path, shown(diff.live_path or (), diff.live))
    return _strip(desired_view), _strip(live_view)
