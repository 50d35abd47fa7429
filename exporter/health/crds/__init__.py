"""Built-in health rules for custom resources, one table per family of operators.

Each family module (``delivery``, ``gitops``, ``cloud``, ``platform``, ``networking``, ``kruise``,
``data``, ``messaging``, ``observability``, ``workloads``) keeps its own ``RULES`` by
``(group, kind)`` and ``WILDCARDS`` by glob; ``conventional`` lists the kinds that need nothing but
the common conventions. They are merged here, and a ``(group, kind)`` that two tables both claim
raises at import: a second rule would silently shadow the first. Each entry is a list of steps in
the declarative form of :mod:`exporter.health.rules` (the first matching step wins) or, where a
resource needs real logic, a small function among them.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Sequence

from exporter.health.crds import (
    cloud,
    data,
    delivery,
    gitops,
    kruise,
    messaging,
    networking,
    observability,
    platform,
    workloads,
)
from exporter.health.crds import conventional as conventional_table
from exporter.health.crds.common import Rules, conventional
from exporter.health.crds.conventional import CONVENTIONAL
from exporter.health.rules import Step

FAMILIES = (delivery, gitops, cloud, platform, networking, kruise, data, messaging, observability, workloads,
            conventional_table)

RULES = Rules()
WILDCARDS: list[tuple[str, str, Sequence[Step]]] = []
for _family in FAMILIES:
    for _key, _steps in _family.RULES.items():
        RULES[_key] = _steps
    WILDCARDS.extend(_family.WILDCARDS)


@functools.lru_cache(maxsize=1024)
def rule_for(group: str, kind: str) -> tuple[Sequence[Step], bool] | None:
    """The steps for a kind, and whether they are a family's (matched by group and a kind
    pattern) rather than the kind's own. Remembered per kind: the tables are fixed at import, and
    trying every pattern for each of a fleet's ConfigMaps was a few percent of a cold start."""
    steps = RULES.get((group, kind))
    if steps is not None:
        return steps, False
    for g, k, wild in WILDCARDS:
        if fnmatch.fnmatchcase(group, g) and fnmatch.fnmatchcase(kind, k):
            return wild, True
    return None


__all__ = ["CONVENTIONAL", "FAMILIES", "RULES", "WILDCARDS", "conventional", "rule_for"]
