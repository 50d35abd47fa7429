"""Helm's merge of values: how ``-f`` files and inline values combine.

Used where the config reads an app's inline Helm values and where the renderer stacks value files,
so it lives below both.
"""

from __future__ import annotations

from typing import Any


def merge_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Maps merge key by key; anything else in ``override`` replaces what ``base`` has."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_values(out[key], value)
        else:
            out[key] = value
    return out
