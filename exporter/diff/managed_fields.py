"""Reading ``metadata.managedFields``: who owns which field of a live object.

``fieldsV1`` is already a tree: ``f:<name>`` steps into a map field, ``k:{json}`` into the list item
whose fields equal that JSON, ``v:<json>`` into the set item with that value, ``i:<n>`` into a
positional item, and ``.`` marks that the manager owns the node itself (not only fields below it).
An empty node is a leaf: the manager owns it whole, atomic lists and maps included. The tree is
walked as it comes from the server, next to the live object, without converting it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

#: Defaults of list-key fields the server adds before recording ownership.
KEY_DEFAULTS: dict[str, Any] = {"protocol": "TCP"}

Token = str | int


@lru_cache(maxsize=4096)
def parse_json_key(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def same_value(a: Any, b: Any) -> bool:
    if a == b and isinstance(a, bool) == isinstance(b, bool):
        return True
    if isinstance(a, int) and isinstance(b, str) and not isinstance(a, bool):
        return b == str(a)
    if isinstance(b, int) and isinstance(a, str) and not isinstance(b, bool):
        return a == str(b)
    return False


def item_matches(item: Any, key: Any) -> bool:
    """True when list ``item`` is the one a ``k:{...}`` key names (key parts may be defaulted)."""
    if not isinstance(item, dict) or not isinstance(key, dict):
        return False
    for name, value in key.items():
        have = item.get(name, KEY_DEFAULTS.get(name))
        if not same_value(have, value):
            return False
    return True


def list_child(node: Mapping[str, Any], items: Sequence[Any], index: int) -> Mapping[str, Any] | None:
    """The ``fieldsV1`` child for ``items[index]``, whichever way the list is keyed."""
    item = items[index]
    positional = node.get(f"i:{index}")
    if isinstance(positional, dict):
        return positional
    for name, child in node.items():
        if not isinstance(child, dict):
            continue
        if name.startswith("k:"):
            if item_matches(item, parse_json_key(name[2:])):
                return child
        elif name.startswith("v:") and same_value(parse_json_key(name[2:]), item):
            return child
    return None


def owns(fields: Any, live: Any, path: Sequence[Token]) -> bool:
    """True when the ``fieldsV1`` tree ``fields`` covers ``path`` of ``live``.

    A leaf on the way (an atomic field) covers everything beneath it.
    """
    node = fields
    value = live
    for token in path:
        if not isinstance(node, dict):
            return False
        if not node:
            return True
        if isinstance(token, str) and isinstance(value, dict):
            node = node.get(f"f:{token}")
            value = value.get(token)
        elif isinstance(token, int) and isinstance(value, list) and 0 <= token < len(value):
            node = list_child(node, value, token)
            value = value[token]
        else:
            return False
    return isinstance(node, dict)


def owners(live: Mapping[str, Any], path: Sequence[Token]) -> list[str]:
    """Managers that own ``path`` of the live object (several when server-side apply shares it)."""
    found: list[str] = []
    for manager, _ in owner_entries(live, path):
        if manager not in found:
            found.append(manager)
    return found


def owner_entries(live: Mapping[str, Any], path: Sequence[Token]) -> list[tuple[str, str]]:
    """``(manager, operation)`` of every managedFields entry that owns ``path`` of the live object."""
    return [(entry["manager"], str(entry.get("operation") or "")) for entry in managed_entries(live)
            if isinstance(entry.get("manager"), str) and owns(entry.get("fieldsV1"), live, path)]


def managed_entries(live: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    meta = live.get("metadata")
    entries = meta.get("managedFields") if isinstance(meta, dict) else None
    if not isinstance(entries, list):
        return ()
    return (entry for entry in entries if isinstance(entry, dict))
