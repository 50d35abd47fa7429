"""A unified diff a person can read: YAML of the desired view against the live view."""

from __future__ import annotations

import difflib
from typing import Any

import yaml

from exporter.diff.redact import is_secret, redact
from exporter.model import ObjectDiff, ObjectKey

_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _yaml(document: Any) -> list[str]:
    if document is None:
        return []
    if isinstance(document, dict) and is_secret(document):
        document = redact(document)
    return yaml.dump(document, Dumper=_Dumper, sort_keys=True, default_flow_style=False,
                     allow_unicode=True).splitlines()


def yaml_diff(before: Any, after: Any, before_label: str, after_label: str) -> list[str]:
    """The unified diff of two documents as sorted YAML, one line per item (no line ends): the one
    renderer every diff the agent shows goes through."""
    return list(difflib.unified_diff(_yaml(before), _yaml(after), before_label, after_label, lineterm=""))


def unified_diff(key: ObjectKey, diff: ObjectDiff) -> str:
    """The object's differences as a unified diff, redacted; ``""`` when there is nothing to show.

    Secret values are redacted on both sides, so a changed value would not show as a changed line:
    differences that carry a reason (a changed secret, a field added live by hand) are listed after
    the diff as ``# <path>: <reason>`` lines.
    """
    lines = yaml_diff(diff.desired_view, diff.live_view, f"desired/{key}", f"live/{key}")
    notes = [f"# {d.path}: {d.reason}" for d in diff.differences if d.reason]
    if not lines and not notes:
        return ""
    if not lines:
        lines = [f"--- desired/{key}", f"+++ live/{key}"]
    return "\n".join(lines + notes) + "\n"
