"""The comparison engine: is a live object what Git says, and if not, where and why.

Pure functions, no I/O. The agent calls:

- ``compare(desired, live, options, hpa_targets=..., schema=..., revision=..., record=...)`` per
  object pair (``record``: what Helm last applied, see :mod:`exporter.diff.records`);
- ``tracked_app`` / ``requires_pruning`` for live objects Git does not declare;
- ``hpa_targets`` to learn which objects an autoscaler scales;
- ``SchemaHints.from_crd`` once per CustomResourceDefinition, passing the hints of a custom
  resource's (group, kind) to ``compare``;
- ``validate_rules`` when loading configuration; ``unified_diff`` and ``redact`` for output.

An ``ObjectDiff`` in sync with nothing ignored carries no views (``desired_view``/``live_view`` are
None): drawing them would cost a deep copy per object on the hot path and show nothing.
The tables of server defaults, list keys and shipped ignore rules are in ``exporter.diff.defaults``;
``exporter.diff.schema.with_defaults`` applies them to a manifest, as an API server would.
"""

from exporter.diff.compare import compare
from exporter.diff.ignore import validate_rules
from exporter.diff.records import Record
from exporter.diff.redact import redact
from exporter.diff.render import unified_diff
from exporter.diff.schema import SchemaHints
from exporter.diff.tracking import claim_prefixes, hpa_targets, requires_pruning, tracked_app

__all__ = [
    "Record",
    "SchemaHints",
    "claim_prefixes",
    "compare",
    "hpa_targets",
    "redact",
    "requires_pruning",
    "tracked_app",
    "unified_diff",
    "validate_rules",
]
