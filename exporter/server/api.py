"""The JSON shape of apps and their objects, and the filters the API and the status page share.

Pure functions over ``AppConfig``/``AppStatus``: the field names here are a public contract
(dashboards, scripts and the status page read them), so they are spelled out rather than derived
from the dataclasses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from multidict import MultiMapping

from exporter.config_types import AppConfig
from exporter.diff.render import yaml_diff
from exporter.history import Transition, time_in_state
from exporter.model import STATE_PRECEDENCE, AppState, AppStatus, DeployerState, ObjectStatus
from exporter.urls import commit_url, safe_url

Snapshot = Mapping[str, tuple[AppConfig, AppStatus]]

_STATE_NAMES = {s.value.lower(): s.value for s in AppState}
_STATE_RANK = {s.value: i for i, s in enumerate(STATE_PRECEDENCE)}


def rfc3339(ts: float | None) -> str | None:
    """Seconds since the epoch as ``2024-05-01T12:00:00Z``; None for unset (0 or None)."""
    if not ts:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def commit_detail(config: AppConfig, status: AppStatus) -> dict[str, Any] | None:
    """The commit the app is at, as people recognise it, with its page on the hosting service."""
    commit = status.commit
    if commit is None or commit.sha != status.revision:
        return None
    return {"sha": commit.sha, "subject": commit.subject, "author": commit.author,
            "committedAt": rfc3339(commit.committed_at or None), "url": commit_url(config.source.repo_url, commit.sha)}


def app_summary(config: AppConfig, status: AppStatus) -> dict[str, Any]:
    """One app as ``/api/v1/apps`` lists it."""
    return {
        "name": status.name or config.name,
        "project": config.project,
        "cluster": config.destination.cluster,
        "namespace": config.destination.namespace,
        "labels": dict(config.labels),
        "repo": safe_url(config.source.repo_url),
        "path": config.source.path,
        "chart": config.source.chart,
        "targetRevision": status.target_revision or config.source.target_revision,
        "sources": [{"repo": safe_url(s.repo_url), "path": s.path, "chart": s.chart, "targetRevision": s.target_revision,
                     "ref": s.ref} for s in config.sources],
        "revision": status.revision,
        "revisionUrl": commit_url(config.source.repo_url, status.revision),
        "commit": commit_detail(config, status),
        "status": str(status.state),
        "sync": str(status.sync),
        "health": str(status.health),
        "reason": status.reason,
        "error": status.error,
        "blind": status.blind,
        "since": rfc3339(status.since),
        "sinceTimestamp": status.since or None,
        "badSince": rfc3339(status.bad_since),
        "badSinceTimestamp": status.bad_since,
        "evaluatedAt": rfc3339(status.evaluated_at),
        "evaluatedAtTimestamp": status.evaluated_at or None,
        "frozen": status.frozen,
        "deployer": deployer_detail(status.deployer),
    }


def deployer_detail(state: DeployerState | None) -> dict[str, Any] | None:
    """What the object that deploys the app says of itself (apps read from Flux), or None."""
    if state is None:
        return None
    return {"object": state.what, "appliedRevision": state.applied_revision or None,
            "sourceRevision": state.source_revision or None, "behind": state.behind,
            "suspended": state.suspended, "failed": state.failed, "reconciling": state.reconciling}


def object_detail(obj: ObjectStatus) -> dict[str, Any]:
    """One object of an app, with the fields that differ and the differences ignore rules hid."""
    diff = obj.diff
    return {
        "group": obj.key.group,
        "kind": obj.key.kind,
        "apiVersion": obj.api_version,
        "namespace": obj.key.namespace,
        "name": obj.key.name,
        "exists": obj.exists,
        "sync": str(obj.sync),
        "health": str(obj.health.status) if obj.health else None,
        "healthMessage": obj.health.message if obj.health else "",
        "healthSource": obj.health.source or None if obj.health else None,
        "healthReason": obj.health.reason or None if obj.health else None,
        "requiresPruning": obj.requires_pruning,
        "healthExcluded": obj.health_excluded,
        "notCompared": obj.not_compared or None,
        "keptBy": obj.kept or None,
        "differences": [{"path": d.path, "desired": d.desired, "live": d.live, "reason": d.reason,
                         "direction": d.direction or None} for d in (diff.differences if diff else [])],
        "ignored": [{"path": d.path, "ignoredBy": d.ignored_by} for d in (diff.ignored if diff else [])],
    }


def app_detail(config: AppConfig, status: AppStatus) -> dict[str, Any]:
    """One app as ``/api/v1/apps/{name}`` shows it: the summary plus every object."""
    return {**app_summary(config, status), "objects": [object_detail(o) for o in status.objects]}


def to_json(data: Any) -> str:
    """JSON text; values Kubernetes objects may hold that JSON lacks (dates from YAML) become strings."""
    return json.dumps(data, default=str, ensure_ascii=False)


class FilterError(ValueError):
    """A query-string filter that cannot match anything, e.g. a misspelt state."""


@dataclass(frozen=True)
class AppFilter:
    """``?status=Degraded&project=x&cluster=y&label=team=a&q=pay``.

    A key given several times (or with comma-separated values) matches any of its values;
    different keys must all match, and so must every ``label`` (``key=value``, or just ``key`` for
    "has the label"). ``q`` is the search box: apps whose name contains it, in any case.
    """

    states: frozenset[str] = frozenset()
    projects: frozenset[str] = frozenset()
    clusters: frozenset[str] = frozenset()
    namespaces: frozenset[str] = frozenset()
    labels: tuple[tuple[str, str | None], ...] = field(default_factory=tuple)
    search: str = ""

    @classmethod
    def from_query(cls, query: MultiMapping[str]) -> AppFilter:
        """Build from a multi-dict (``request.query``); empty values mean "no filter"."""

        def values(key: str) -> list[str]:
            out: list[str] = []
            for raw in query.getall(key, []):
                out.extend(v.strip() for v in raw.split(",") if v.strip())
            return out

        states = []
        for value in values("status"):
            name = _STATE_NAMES.get(value.lower())
            if name is None:
                raise FilterError(f"status {value!r} is not one of {', '.join(s.value for s in STATE_PRECEDENCE)}")
            states.append(name)
        labels = []
        for raw in values("label"):
            key, sep, val = raw.partition("=")
            labels.append((key.strip(), val.strip() if sep else None))
        return cls(frozenset(states), frozenset(values("project")), frozenset(values("cluster")),
                   frozenset(values("namespace")), tuple(labels), str(query.get("q", "")).strip())

    def matches(self, config: AppConfig, status: AppStatus) -> bool:
        return self._matches(str(status.state), config.project, config.destination.cluster,
                             config.destination.namespace, config.labels, status.name or config.name)

    def matches_summary(self, app: Mapping[str, Any]) -> bool:
        """The same test on an app as :func:`app_summary` shapes it, e.g. one a sibling shard sent."""
        return self._matches(app.get("status"), app.get("project"), app.get("cluster"), app.get("namespace"),
                             app.get("labels") or {}, str(app.get("name") or ""))

    def _matches(self, state: Any, project: Any, cluster: Any, namespace: Any, labels: Mapping[str, Any],
                 name: str) -> bool:
        if self.search and self.search.casefold() not in name.casefold():
            return False
        if self.states and state not in self.states:
            return False
        if self.projects and project not in self.projects:
            return False
        if self.clusters and cluster not in self.clusters:
            return False
        if self.namespaces and namespace not in self.namespaces:
            return False
        for key, value in self.labels:
            if key not in labels or (value is not None and labels[key] != value):
                return False
        return True

    def query_values(self) -> dict[str, str]:
        """The first value of each filter, to preselect the status page's controls."""
        label = ",".join(k if v is None else f"{k}={v}" for k, v in self.labels)
        return {"status": min(self.states, default=""), "project": min(self.projects, default=""),
                "cluster": min(self.clusters, default=""), "label": label, "q": self.search}


def state_rank(state: str) -> int:
    """Position in the precedence, worst first: sorting by it puts what needs attention on top."""
    return _STATE_RANK.get(state, len(_STATE_RANK))


def select(snapshot: Snapshot, app_filter: AppFilter) -> list[tuple[AppConfig, AppStatus]]:
    """The matching apps, by name."""
    return [snapshot[name] for name in sorted(snapshot) if app_filter.matches(*snapshot[name])]


def count_states(states: Iterable[AppStatus | str]) -> dict[str, int]:
    """Apps per state (statuses, or state names), every state present (zero included), worst first."""
    counts = {s.value: 0 for s in STATE_PRECEDENCE}
    for item in states:
        state = item if isinstance(item, str) else str(item.state)
        counts[state] = counts.get(state, 0) + 1
    return counts


def fallback_diff(status: AppStatus) -> str:
    """A unified diff of each differing object's live and desired views (live first, then Git).

    Used when the agent supplies no diff renderer of its own; the views are already normalised
    and redacted by the comparison, so nothing here can reveal a secret value.
    """
    chunks: list[str] = []
    for obj in status.objects:
        diff = obj.diff
        if diff is None or not (diff.differences or obj.requires_pruning or not obj.exists):
            continue
        name = str(obj.key)
        chunks.extend(line + "\n" for line in yaml_diff(diff.live_view, diff.desired_view, f"live: {name}",
                                                           f"git: {name}"))
    return "".join(chunks)




#: The window of ``timeInState`` when ``?since=`` is not given.
DEFAULT_HISTORY_WINDOW = 7 * 24 * 3600.0


def history_json(name: str, entries: list[Transition], window: float, now: float) -> dict[str, Any]:
    """``/api/v1/apps/NAME/history``: every kept state change, oldest first, and the seconds spent in
    each state over the last ``window`` seconds (with the share of the time the history covers)."""
    start = now - window
    totals = time_in_state(entries, start, now)
    covered = sum(totals.values())
    return {
        "app": name,
        "entries": [{"at": rfc3339(e.at), "atTimestamp": e.at, "from": e.previous, "to": e.state,
                     "revision": e.revision, "reason": e.reason} for e in entries],
        "window": {"since": rfc3339(start), "sinceTimestamp": start, "seconds": window},
        "timeInState": {state: round(seconds, 3) for state, seconds in sorted(totals.items())},
        "timeInStateShare": {state: round(seconds / covered, 4) for state, seconds in sorted(totals.items())}
        if covered else {},
    }
