"""Metric names referenced by PromQL, and the sample names an exposition offers for a family.

Dashboards and alert rules are checked against what the agent really exposes. Both sides are
compared as *sample* names (``gitops_git_fetch_total``, ``gitops_evaluation_duration_seconds_bucket``),
because that is what PromQL selects: a counter family is only reachable through ``_total``, a
histogram only through ``_bucket``, ``_sum`` and ``_count``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

# A metric name is never preceded or followed by a name character or ':'; the latter keeps the
# recording-rule name ``cluster:gitops_app_status:sum`` from counting as ``gitops_app_status``.
_METRIC = re.compile(r"(?<![\w:])gitops_[a-z_]+(?![\w:])")
# Double-, single- and back-quoted PromQL strings (label values, regexes), with escapes.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"' r"|'(?:[^'\\]|\\.)*'" r"|`[^`]*`")
# Grafana's label_values(<selector>, <label>) wraps PromQL without being PromQL.
_LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*\w+\s*\)\s*$", re.S)

_SUFFIXES: dict[str, tuple[str, ...]] = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gauge": ("",),
    "info": ("_info",),
    "stateset": ("",),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "unknown": ("",),
}


def referenced_metrics(expr: str) -> set[str]:
    """The ``gitops_*`` sample names an expression selects, as written.

    Label values and regular expressions inside quotes are ignored, so ``{job="gitops_x"}`` does not
    count as a reference to ``gitops_x``. Grafana's ``label_values(selector, label)`` is unwrapped.
    """
    match = _LABEL_VALUES.match(expr)
    if match:
        expr = match.group(1)
    return set(_METRIC.findall(_STRING.sub('""', expr)))


def sample_names(family: str, kind: str) -> set[str]:
    """Every sample name that a family of the given type exposes.

    ``family`` may be given with or without the ``_total`` of a counter (prometheus_client strips it
    from the family name; DESIGN.md writes it).
    """
    if kind == "counter" and family.endswith("_total"):
        family = family[: -len("_total")]
    if kind == "info" and family.endswith("_info"):
        family = family[: -len("_info")]
    try:
        suffixes = _SUFFIXES[kind]
    except KeyError:
        raise ValueError(f"unknown metric type {kind!r} for {family}") from None
    return {family + suffix for suffix in suffixes}


def exposed_sample_names(families: Iterable[tuple[str, str]] | Mapping[str, str]) -> set[str]:
    """The union of :func:`sample_names` over ``(family, type)`` pairs or a ``{family: type}`` map."""
    pairs = families.items() if isinstance(families, Mapping) else families
    names: set[str] = set()
    for family, kind in pairs:
        names |= sample_names(family, kind)
    return names


def unknown_references(expr: str, exposed: set[str]) -> set[str]:
    """Names ``expr`` selects that are not among ``exposed``: each one is a panel or rule that can
    never show data."""
    return referenced_metrics(expr) - exposed


#: Plausible values for Grafana's built-in variables and the dashboards' own, so that a dashboard
#: query becomes plain PromQL that Prometheus (or promtool) can parse and evaluate.
DASHBOARD_VARIABLES: dict[str, str] = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1h",
    "__range_s": "3600",
    "cluster": "prod",
    "project": "retail",
    "app": "shop",
    "instance": "10.0.0.1:8080",
}


def substitute_variables(expr: str, values: Mapping[str, str] = DASHBOARD_VARIABLES) -> str:
    """Replace ``$var``, ``${var}`` and ``${var:format}``; an unknown variable raises ``KeyError``
    naming it, since a query with a typo in a variable never shows data."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"unknown dashboard variable ${name} in {expr!r}")
        return values[name]

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", value, expr)


def dashboard_queries(dashboard: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(where, PromQL)`` for every query of a Grafana dashboard: panel targets (rows' nested
    panels included), annotation queries and query variables (``label_values`` unwrapped)."""
    panels = list(dashboard.get("panels", []))
    for panel in panels:
        panels.extend(panel.get("panels", []))
        for target in panel.get("targets", []):
            if target.get("expr"):
                yield f"panel {panel.get('title')!r} target {target.get('refId')}", target["expr"]
    for annotation in dashboard.get("annotations", {}).get("list", []):
        if annotation.get("expr"):
            yield f"annotation {annotation['name']!r}", annotation["expr"]
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            query = variable["query"]
            text = query["query"] if isinstance(query, dict) else query
            match = _LABEL_VALUES.match(text)
            yield f"variable {variable['name']!r}", match.group(1) if match else text


def rule_queries(rules: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(alert or record name, PromQL)`` for every rule of a Prometheus rules document."""
    for group in rules.get("groups", []):
        for rule in group.get("rules", []):
            yield rule.get("alert") or rule["record"], rule["expr"]
