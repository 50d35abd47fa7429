"""Prometheus metrics: the names dashboards, alert rules and the Helm chart are written against.

Per-app metrics come from a custom collector that reads the last published snapshot of app
statuses, so a scrape never waits for (or blocks) an evaluation. Process-wide counters and
histograms are ordinary prometheus-client objects in :mod:`exporter.instruments`, which the stages
increment; all of them are in ``REGISTRY``.
"""

from __future__ import annotations

import operator
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from exporter.config_types import AppConfig
from exporter.instruments import REGISTRY as REGISTRY  # the registry /metrics serves
from exporter.metrics.argocd import ARGOCD_INFO_LABELS, ArgoCDNames, info_sample
from exporter.model import AppState, AppStatus, Health, Sync
from exporter.urls import safe_url


@dataclass(frozen=True)
class Family:
    """One metric family the app-status collector exports."""

    name: str
    type: str  # "gauge" or "counter"
    help: str
    labels: tuple[str, ...]

    def empty(self) -> CounterMetricFamily | GaugeMetricFamily:
        """The family without samples (what ``describe()`` answers, so a name clash is caught)."""
        if self.type == "counter":
            return CounterMetricFamily(self.name.removesuffix("_total"), self.help, labels=self.labels)
        return GaugeMetricFamily(self.name, self.help, labels=self.labels)


_INFO_LABELS = ("app", "project", "cluster", "namespace", "repo", "path", "target_revision", "revision")

#: The per-app families, in exposition order: the one table of the names dashboards, alert rules
#: and the Helm chart are written against (``_samples`` yields one list of samples per row).
APP_FAMILIES: tuple[Family, ...] = (
    Family("gitops_app_info", "gauge", "Static facts about each app; always 1.", _INFO_LABELS),
    Family("gitops_app_status", "gauge", "Combined status: 1 for the current state.", ("app", "status")),
    Family("gitops_app_health_status", "gauge", "Argo CD-style health: 1 for the current one.", ("app", "health")),
    Family("gitops_app_sync_status", "gauge", "Argo CD-style sync: 1 for the current one.", ("app", "sync")),
    Family("gitops_app_status_since_timestamp_seconds", "gauge", "When the combined status last changed.",
           ("app",)),
    Family("gitops_app_bad_since_timestamp_seconds", "gauge", "When the app left the good states; 0 while good.",
           ("app",)),
    Family("gitops_app_resources", "gauge", "Objects of the app by health and sync.", ("app", "health", "sync")),
    Family("gitops_app_last_evaluation_timestamp_seconds", "gauge", "When the app was last evaluated.", ("app",)),
    Family("gitops_app_frozen", "gauge", "1 while a sync window freezes the app.", ("app",)),
    Family("gitops_app_state_changes_total", "counter",
           "State changes of the app, by previous and new state (kept across restarts).", ("app", "from", "to")),
)

#: The fleet-wide families the same collector exports after the per-app ones.
TOTAL_FAMILIES: tuple[Family, ...] = (
    Family("gitops_apps", "gauge", "Apps by combined status, cluster and project.", ("status", "cluster", "project")),
    Family("gitops_agent_ready", "gauge", "1 once every cache has listed at least once.", ()),
)


#: Argo CD's own family, exported after the per-app ones when switched on (:mod:`.argocd`).
ARGOCD_FAMILY = Family("argocd_app_info", "gauge", "Information about application (Argo CD's names).",
                       ARGOCD_INFO_LABELS)


def _unique(families: tuple[Family, ...]) -> dict[str, str]:
    names: dict[str, str] = {}
    for family in families:
        if family.name in names:
            raise ValueError(f"metric family {family.name} is defined twice")
        names[family.name] = family.type
    return names


#: Family name -> type, for every family the collector exports.
APP_METRIC_FAMILIES: dict[str, str] = _unique(APP_FAMILIES + TOTAL_FAMILIES + (ARGOCD_FAMILY,))


Snapshot = Mapping[str, tuple[AppConfig, AppStatus]]
Samples = list[tuple[tuple[str, ...], tuple[str, ...], float]]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    return ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True))


def _info(app: AppConfig, st: AppStatus) -> list[tuple[tuple[str, ...], tuple[str, ...], float]]:
    return [(_INFO_LABELS, (st.name, app.project, app.destination.cluster, app.destination.namespace,
                            safe_url(app.source.repo_url), app.source.path, app.source.target_revision,
                            st.revision or ""), 1)]


def _samples(app: AppConfig, st: AppStatus, argocd: ArgoCDNames | None = None) -> list[Samples]:
    """Per family, the (label names, label values, value) samples of one app; with ``argocd``
    the samples of ``ARGOCD_FAMILY`` last."""
    name = st.name
    by: Tally[tuple[str, str]] = Tally()
    for obj in st.objects:
        obj_health = obj.health.status.value if obj.health else ("Missing" if not obj.exists else "None")
        by[(obj_health, "OutOfSync" if obj.requires_pruning else obj.sync.value)] += 1
    out: list[Samples] = [
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
    if argocd is not None:
        out.append([(ARGOCD_INFO_LABELS, info_sample(app, st, argocd), 1)])
    return out


def _encode(family: str, samples: list[tuple[tuple[str, ...], tuple[str, ...], float]]) -> str:
    return "".join(f"{family}{{{_labels(n, v)}}} {_number(x)}\n" for n, v, x in samples)


#: Apps per block of encoded lines (see ``AppStatusCollector.chunks``).
BLOCK = 256

#: The one family whose lines name the revision (first in ``APP_FAMILIES``).
_INFO_FAMILY = APP_FAMILIES[0].name

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
    every scrape; ``chunks()`` keeps each app's lines until its status object changes, and blocks
    of apps' lines already encoded. ``collect()`` serves ordinary registries (and tests).
    """

    def __init__(self, snapshot: Callable[[], Snapshot], ready: Callable[[], bool],
                 argocd: Callable[[], ArgoCDNames | None] = lambda: None) -> None:
        self._snapshot = snapshot
        self._ready = ready
        self._argocd = argocd
        self._names: ArgoCDNames | None = None
        self._lines: dict[str, tuple[AppStatus, AppConfig, list[str]]] = {}
        self._blocks: list[_Block] = []

    def _families(self) -> tuple[Family, ...]:
        return APP_FAMILIES + ((ARGOCD_FAMILY,) if self._names is not None else ())

    def describe(self) -> list[Metric]:
        """Every family, without samples: a registry refuses the collector when another collector
        already exports one of these names, instead of serving both."""
        extra = (ARGOCD_FAMILY,) if self._argocd() is not None else ()
        return [family.empty() for family in APP_FAMILIES + TOTAL_FAMILIES + extra]

    def _refresh_names(self) -> None:
        """Read whether Argo CD's names are on (a reload may switch them) and which server each
        cluster is; lines encoded under other names are encoded again."""
        names = self._argocd()
        if names != self._names:
            self._names, self._lines, self._blocks = names, {}, []

    def collect(self) -> Iterator[Metric]:
        self._refresh_names()
        families: list[Metric] = [family.empty() for family in self._families()]
        for app, st in self._snapshot().values():
            for metric, family, samples in zip(families, self._families(), _samples(app, st, self._names),
                                               strict=True):
                for names, values, value in samples:
                    metric.add_sample(family.name, dict(zip(names, values, strict=True)), value)
        yield from families
        yield from self._totals(_tally(self._snapshot().values()))

    def _totals(self, per_state: Tally[tuple[str, str, str]]) -> list[Metric]:
        apps, ready = (family.empty() for family in TOTAL_FAMILIES)
        for (state_name, cluster, project), n in sorted(per_state.items()):
            apps.add_metric([state_name, cluster, project], n)
        ready.add_metric([], 1 if self._ready() else 0)
        return [apps, ready]

    def text(self) -> str:
        """The families in Prometheus text format (what ``chunks`` holds, as one string)."""
        return b"".join(self.chunks()).decode()

    def chunks(self) -> list[bytes]:
        """The families in Prometheus text format, in pieces to send (or compress) one by one.

        Apps are taken in blocks of ``BLOCK`` in snapshot order; a block whose apps all have the
        statuses it was encoded from is reused as it is, so a scrape after one app changed encodes
        one block per family and joins nothing: at 10,000 apps that is a few milliseconds instead
        of the 40 a scrape spent building 15 MiB of text again.
        """
        self._refresh_names()
        entries = list(self._snapshot().items())
        blocks: list[_Block] = []
        for index, start in enumerate(range(0, len(entries), BLOCK)):
            part = entries[start:start + BLOCK]
            values = tuple(value for _, value in part)
            old = self._blocks[index] if index < len(self._blocks) else None
            if old is not None and len(old.values) == len(values) and all(map(operator.is_, old.values, values)):
                blocks.append(old)
                continue
            lines = [self._app_lines(name, app, st) for name, (app, st) in part]
            blocks.append(_Block(values, ["".join(column).encode() for column in zip(*lines, strict=True)],
                                 _tally(values)))
        self._blocks = blocks
        if len(self._lines) > len(entries):
            names = {name for name, _ in entries}
            self._lines = {name: hit for name, hit in self._lines.items() if name in names}
        out: list[bytes] = []
        for column, family in enumerate(self._families()):
            out.append(f"# HELP {family.name} {family.help}\n# TYPE {family.name} {family.type}\n".encode())
            out.extend(block.families[column] for block in blocks)
        totals: list[str] = []
        for metric in self._totals(sum((block.tally for block in blocks), Tally())):
            totals.append(f"# HELP {metric.name} {metric.documentation}\n# TYPE {metric.name} gauge\n")
            totals.extend(f"{metric.name}{{{_labels(tuple(s.labels), tuple(s.labels.values()))}}} {_number(s.value)}\n"
                          if s.labels else f"{metric.name} {_number(s.value)}\n" for s in metric.samples)
        out.append("".join(totals).encode())
        return out

    def _app_lines(self, name: str, app: AppConfig, st: AppStatus) -> list[str]:
        """One app's lines per family, re-encoding only what its new status changed."""
        hit = self._lines.get(name)
        if hit is not None and hit[1] is app and hit[0] is not st and _only_revision_moved(hit[0], st):
            hit = (st, app, [_encode(_INFO_FAMILY, _info(app, st)), *hit[2][1:]])
        elif hit is None or hit[0] is not st or hit[1] is not app:
            hit = (st, app, [_encode(family.name, samples) for family, samples
                             in zip(self._families(), _samples(app, st, self._names), strict=True)])
        self._lines[name] = hit
        return hit[2]


@dataclass(frozen=True)
class _Block:
    """The encoded lines of ``BLOCK`` consecutive apps, per family, and the snapshot entries
    (``(config, status)`` tuples, compared by identity) they were encoded from."""

    values: tuple[tuple[AppConfig, AppStatus], ...]
    families: list[bytes]
    tally: Tally[tuple[str, str, str]]


def _tally(values: Iterable[tuple[AppConfig, AppStatus]]) -> Tally[tuple[str, str, str]]:
    """Apps by (state, cluster, project): the ``gitops_apps`` family."""
    return Tally((st.state.value, app.destination.cluster, app.project) for app, st in values)
