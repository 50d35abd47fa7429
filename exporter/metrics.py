"""Prometheus metrics: the names dashboards, alert rules and the Helm chart are written against.

Per-app metrics come from a custom collector that reads the last published snapshot of app
statuses, so a scrape never waits for (or blocks) an evaluation. Process-wide counters and
histograms are ordinary prometheus-client objects in :mod:`exporter.instruments`, which the stages
increment; all of them are in ``REGISTRY``.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from exporter.config_types import AppConfig
from exporter.instruments import REGISTRY as REGISTRY  # the registry /metrics serves
from exporter.model import AppState, AppStatus, Health, Sync
from exporter.urls import safe_url

#: Per-app families exported by the app-status collector (gauges unless noted).
APP_METRIC_FAMILIES: dict[str, str] = {
    "gitops_app_info": "gauge",
    "gitops_app_status": "gauge",
    "gitops_app_health_status": "gauge",
    "gitops_app_sync_status": "gauge",
    "gitops_app_status_since_timestamp_seconds": "gauge",
    "gitops_app_bad_since_timestamp_seconds": "gauge",
    "gitops_app_resources": "gauge",
    "gitops_app_last_evaluation_timestamp_seconds": "gauge",
    "gitops_app_frozen": "gauge",
    "gitops_app_state_changes_total": "counter",
    "gitops_apps": "gauge",
    "gitops_agent_ready": "gauge",
}


Snapshot = Mapping[str, tuple[AppConfig, AppStatus]]

#: (name, help) of the per-app families, in exposition order.
_APP_FAMILIES: tuple[tuple[str, str], ...] = (
    ("gitops_app_info", "Static facts about each app; always 1."),
    ("gitops_app_status", "Combined status: 1 for the current state."),
    ("gitops_app_health_status", "Argo CD-style health: 1 for the current one."),
    ("gitops_app_sync_status", "Argo CD-style sync: 1 for the current one."),
    ("gitops_app_status_since_timestamp_seconds", "When the combined status last changed."),
    ("gitops_app_bad_since_timestamp_seconds", "When the app left the good states; 0 while good."),
    ("gitops_app_resources", "Objects of the app by health and sync."),
    ("gitops_app_last_evaluation_timestamp_seconds", "When the app was last evaluated."),
    ("gitops_app_frozen", "1 while a sync window freezes the app."),
    ("gitops_app_state_changes_total", "State changes of the app, by previous and new state (kept across restarts)."),
)
_INFO_LABELS = ("app", "project", "cluster", "namespace", "repo", "path", "target_revision", "revision")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    return ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True))


def _info(app: AppConfig, st: AppStatus) -> list[tuple[tuple[str, ...], tuple[str, ...], float]]:
    return [(_INFO_LABELS, (st.name, app.project, app.destination.cluster, app.destination.namespace,
                            safe_url(app.source.repo_url), app.source.path, app.source.target_revision,
                            st.revision or ""), 1)]


def _samples(app: AppConfig, st: AppStatus) -> list[list[tuple[tuple[str, ...], tuple[str, ...], float]]]:
    """Per family, the (label names, label values, value) samples of one app."""
    name = st.name
    by: Tally[tuple[str, str]] = Tally()
    for obj in st.objects:
        obj_health = obj.health.status.value if obj.health else ("Missing" if not obj.exists else "None")
        by[(obj_health, "OutOfSync" if obj.requires_pruning else obj.sync.value)] += 1
    return [
        _info(app, st),
        [(("app", "status"), (name, s.value), 1 if st.state is s else 0) for s in AppState],
        [(("app", "health"), (name, h.value), 1 if st.health is h else 0) for h in Health],
        [(("app", "sync"), (name, y.value), 1 if st.sync is y else 0) for y in Sync],
        [(("app",), (name,), st.since)],
        [(("app",), (name,), st.bad_since or 0)],
        [(("app", "health", "sync"), (name, h, y), n) for (h, y), n in sorted(by.items())],
        [(("app",), (name,), st.evaluated_at)],
        [(("app",), (name,), 1 if st.frozen else 0)],
        [(("app", "from", "to"), (name, a, b), n) for a, b, n in st.state_changes],
    ]


def _encode(family: str, samples: list[tuple[tuple[str, ...], tuple[str, ...], float]]) -> str:
    return "".join(f"{family}{{{_labels(n, v)}}} {_number(x)}\n" for n, v, x in samples)


#: The one family whose lines name the revision (first in ``_APP_FAMILIES``).
_INFO_FAMILY = "gitops_app_info"

#: What the lines of every family but ``_INFO_FAMILY`` are made of.
_STATUS_FIELDS = ("state", "health", "sync", "since", "bad_since", "evaluated_at", "frozen")


def _only_revision_moved(old: AppStatus, new: AppStatus) -> bool:
    """True when ``new`` is ``old`` with another revision: what a push does to every app of a
    repository whose files it did not touch. Their lines but the info line stay as they were, so a
    scrape after a push to a monorepo of thousands of apps re-encodes one line per app, not ten."""
    return (new.objects is old.objects and new.state_changes is old.state_changes
            and all(getattr(new, f) == getattr(old, f) for f in _STATUS_FIELDS))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


class AppStatusCollector(Collector):
    """Turns the agent's latest snapshot into the per-app families at scrape time.

    The snapshot is an immutable mapping the agent replaces after each evaluation, so a scrape reads
    one consistent picture and never waits for evaluation. Every ``app`` label is the configured
    app name; no object names become labels, so series stay bounded by the number of apps.

    With thousands of apps these families are tens of thousands of samples, too many to encode on
    every scrape; ``text()`` keeps each app's lines until its status object changes, so a scrape
    costs a join, not a re-encode. ``collect()`` serves ordinary registries (and tests).
    """

    def __init__(self, snapshot: Callable[[], Snapshot], ready: Callable[[], bool]) -> None:
        self._snapshot = snapshot
        self._ready = ready
        self._text_cache: dict[str, tuple[AppStatus, AppConfig, list[str]]] = {}

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        families: list[Metric] = [
            CounterMetricFamily(name.removesuffix("_total"), doc) if APP_METRIC_FAMILIES[name] == "counter"
            else GaugeMetricFamily(name, doc) for name, doc in _APP_FAMILIES]
        for app, st in self._snapshot().values():
            for family, (fam, _doc), samples in zip(families, _APP_FAMILIES, _samples(app, st), strict=True):
                for names, values, value in samples:
                    family.add_sample(fam, dict(zip(names, values, strict=True)), value)
        yield from families
        yield from self._totals()

    def _totals(self) -> list[Metric]:
        apps = GaugeMetricFamily("gitops_apps", "Apps by combined status, cluster and project.",
                                 labels=["status", "cluster", "project"])
        per_state: Tally[tuple[str, str, str]] = Tally()
        for app, st in self._snapshot().values():
            per_state[(st.state.value, app.destination.cluster, app.project)] += 1
        for (state_name, cluster, project), n in sorted(per_state.items()):
            apps.add_metric([state_name, cluster, project], n)
        ready = GaugeMetricFamily("gitops_agent_ready", "1 once every cache has listed at least once.")
        ready.add_metric([], 1 if self._ready() else 0)
        return [apps, ready]

    def text(self) -> str:
        """The families in Prometheus text format, re-encoding only apps whose status changed."""
        cache = self._text_cache
        fresh: dict[str, tuple[AppStatus, AppConfig, list[str]]] = {}
        columns: list[list[str]] = [[] for _ in _APP_FAMILIES]
        for name, (app, st) in self._snapshot().items():
            hit = cache.get(name)
            if hit is not None and hit[1] is app and hit[0] is not st and _only_revision_moved(hit[0], st):
                hit = (st, app, [_encode(_INFO_FAMILY, _info(app, st)), *hit[2][1:]])
            elif hit is None or hit[0] is not st or hit[1] is not app:
                hit = (st, app, [_encode(fam, samples)
                                 for (fam, _), samples in zip(_APP_FAMILIES, _samples(app, st), strict=True)])
            fresh[name] = hit
            for column, line in zip(columns, hit[2], strict=True):
                column.append(line)
        self._text_cache = fresh
        out: list[str] = []
        for (fam, doc), column in zip(_APP_FAMILIES, columns, strict=True):
            out.append(f"# HELP {fam} {doc}\n# TYPE {fam} {APP_METRIC_FAMILIES[fam]}\n")
            out.extend(column)
        for metric in self._totals():
            out.append(f"# HELP {metric.name} {metric.documentation}\n# TYPE {metric.name} gauge\n")
            out.extend(f"{metric.name}{{{_labels(tuple(s.labels), tuple(s.labels.values()))}}} {_number(s.value)}\n"
                       if s.labels else f"{metric.name} {_number(s.value)}\n" for s in metric.samples)
        return "".join(out)
