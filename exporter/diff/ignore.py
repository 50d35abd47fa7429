"""Ignore rules: which differences do not count, and which rule said so.

Rules use Argo CD's ``ignoreDifferences`` schema, so existing blocks paste in: JSON pointers, jq path
expressions, and field managers. A difference that a rule covers is kept (in ``ObjectDiff.ignored``,
naming the rule) rather than dropped, so that "why is this not drift?" always has an answer.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jq

from exporter.config_types import CompareOptions, IgnoreRule
from exporter.diff import defaults
from exporter.diff.managed_fields import managed_entries, owns
from exporter.diff.paths import MISSING, RawDiff, has_prefix, parse_pointer
from exporter.model import ObjectKey


@lru_cache(maxsize=512)
def _compile_jq(expression: str) -> Any:
    """Compiled once per expression text: compiling costs far more than running."""
    return jq.compile(f"[path({expression})]")


def jq_paths(expression: str, document: Any) -> list[tuple[Any, ...]]:
    """Paths ``expression`` selects in ``document``; none when it does not apply to this document."""
    try:
        result = _compile_jq(expression).input_value(document).first()
    except (ValueError, TypeError):
        return []
    if not isinstance(result, list):
        return []
    return [tuple(path) for path in result if isinstance(path, list)]


def _glob(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)


def rule_applies(rule: IgnoreRule, key: ObjectKey) -> bool:
    """Argo CD semantics: an empty group is the core group; empty kind, name or namespace is any."""
    return (_glob(rule.group, key.group) and _glob(rule.kind or "*", key.kind)
            and _glob(rule.name or "*", key.name) and _glob(rule.namespace or "*", key.namespace))


def validate_rules(rules: Sequence[IgnoreRule]) -> list[str]:
    """Problems with ``rules`` as ``"<origin>: <message>"``; empty when every rule is usable."""
    problems: list[str] = []
    for position, rule in enumerate(rules):
        origin = rule.origin or f"ignoreDifferences[{position}]"
        if not (rule.json_pointers or rule.jq_path_expressions or rule.managed_fields_managers):
            problems.append(f"{origin}: rule ignores nothing (no jsonPointers, jqPathExpressions "
                            "or managedFieldsManagers)")
        for pointer in rule.json_pointers:
            if not isinstance(pointer, str) or parse_pointer(pointer) is None:
                problems.append(f"{origin}: jsonPointers entry {pointer!r} is not a JSON pointer "
                                "(it must start with '/' and escape '~' and '/' as '~0' and '~1')")
        for expression in rule.jq_path_expressions:
            if not isinstance(expression, str) or not expression.strip():
                problems.append(f"{origin}: jqPathExpressions entry {expression!r} is empty")
                continue
            try:
                program = _compile_jq(expression)
            except ValueError as error:
                message = str(error).splitlines()[0] if str(error) else "does not compile"
                problems.append(f"{origin}: jqPathExpressions entry {expression!r}: {message}")
                continue
            try:
                program.input_value({}).first()
            except ValueError as error:
                # Other runtime errors ("cannot iterate over null") only mean {} lacks the fields.
                if "Invalid path expression" in str(error):
                    problems.append(f"{origin}: jqPathExpressions entry {expression!r} selects values, "
                                    "not paths (it must be a path expression such as .spec.replicas)")
        for manager in rule.managed_fields_managers:
            if not isinstance(manager, str) or not manager:
                problems.append(f"{origin}: managedFieldsManagers entry {manager!r} is not a manager name")
    return problems


@dataclass
class _ActiveRule:
    origin: str
    pointers: list[tuple[str, ...]] = field(default_factory=list)
    jq: list[str] = field(default_factory=list)
    managers: frozenset[str] = frozenset()
    # Filled on first use: jq is only run when a difference needs classifying.
    desired_paths: list[tuple[Any, ...]] | None = None
    live_paths: list[tuple[Any, ...]] | None = None


_DEFAULT_RULES = [
    _ActiveRule(origin, [tokens]) for origin, pointer in defaults.DEFAULT_IGNORES
    if (tokens := parse_pointer(pointer)) is not None
]
_HPA_RULE = _ActiveRule(defaults.HPA_REPLICAS_IGNORE[0], [parse_pointer(defaults.HPA_REPLICAS_IGNORE[1]) or ()])


def active_rules(options: CompareOptions, key: ObjectKey, hpa_target: bool) -> list[_ActiveRule]:
    rules: list[_ActiveRule] = []
    if options.default_ignores:
        rules.extend(_DEFAULT_RULES)
        if hpa_target:
            rules.append(_HPA_RULE)
    for position, rule in enumerate(options.ignore_differences):
        if not rule_applies(rule, key):
            continue
        pointers = [tokens for p in rule.json_pointers if isinstance(p, str)
                    and (tokens := parse_pointer(p)) is not None]
        rules.append(_ActiveRule(rule.origin or f"ignoreDifferences[{position}]", pointers,
                                 [e for e in rule.jq_path_expressions if isinstance(e, str) and e.strip()],
                                 frozenset(rule.managed_fields_managers)))
    return rules


def classify(diff: RawDiff, rules: Iterable[_ActiveRule], desired_doc: Any, live_doc: Any,
             live: Mapping[str, Any]) -> str | None:
    """The origin of the first rule that covers ``diff``, or None when it counts as drift.

    jq runs on the documents as they came (``desired_doc``, ``live_doc``), so expressions may test
    any field; ownership is read from ``live``, the normalised live object the paths point into.
    """
    has_desired = diff.desired is not MISSING
    for rule in rules:
        for pointer in rule.pointers:
            if (has_desired and has_prefix(diff.desired_path, pointer)) or (
                    diff.live_path is not None and has_prefix(diff.live_path, pointer)):
                return rule.origin
        if rule.jq:
            if rule.desired_paths is None:
                rule.desired_paths = [p for e in rule.jq for p in jq_paths(e, desired_doc)]
                rule.live_paths = [p for e in rule.jq for p in jq_paths(e, live_doc)]
            if has_desired and any(has_prefix(diff.desired_path, p) for p in rule.desired_paths):
                return rule.origin
            if diff.live_path is not None and any(has_prefix(diff.live_path, p)
                                                  for p in rule.live_paths or ()):
                return rule.origin
        if rule.managers and diff.live_path is not None:
            for entry in managed_entries(live):
                if entry.get("manager") in rule.managers and owns(entry.get("fieldsV1"), live,
                                                                    diff.live_path):
                    return rule.origin
    return None
