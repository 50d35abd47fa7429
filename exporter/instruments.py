"""The agent's own counters and histograms, incremented by the stages that do the work.

They live here, below every stage, so that Git, rendering, the Kubernetes client, windows and the
outputs can count what they do without importing the output module that exposes them
(:mod:`exporter.metrics`). All of them are in ``REGISTRY`` (not prometheus-client's global
default), so tests and several agents in one process do not see each other's numbers.
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

EVALUATION_DURATION = Histogram(
    "gitops_evaluation_duration_seconds",
    "Time to evaluate one app (compare and health), from the last inputs to a published status.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
GIT_FETCH_TOTAL = Counter(
    "gitops_git_fetch_total", "Git fetches by repository and result (success, error, timeout).",
    ["repo", "result"], registry=REGISTRY,
)
GIT_FETCH_DURATION = Histogram(
    "gitops_git_fetch_duration_seconds", "Duration of Git fetches.", ["repo", "result"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120), registry=REGISTRY,
)
KUBE_REQUESTS_TOTAL = Counter(
    "gitops_kube_requests_total", "Requests to Kubernetes API servers (read verbs only).",
    ["cluster", "verb", "code"], registry=REGISTRY,
)
WATCH_RESTARTS_TOTAL = Counter(
    "gitops_watch_restarts_total", "Watch streams re-established, by reason (expired, error, closed).",
    ["cluster", "resource", "reason"], registry=REGISTRY,
)
CLUSTER_PROBES_TOTAL = Counter(
    "gitops_cluster_probes_total", "Checks that a cluster still answers (readyz) and still lets the agent "
    "list what it watches (list), by result (ok, failed, forbidden).",
    ["cluster", "check", "result"], registry=REGISTRY,
)
NOTIFICATIONS_TOTAL = Counter(
    "gitops_notifications_total", "Notifications by channel, event (firing, resolved, repeat, freeze, test) and result.",
    ["channel", "event", "result"], registry=REGISTRY,
)
SYNC_WINDOW_ACTIVE = Gauge(
    "gitops_sync_window_active", "1 while a sync window is active.", ["window", "kind"], registry=REGISTRY,
)
FREEZE_VIOLATIONS_TOTAL = Counter(
    "gitops_freeze_violations_total", "Changes seen while an app was frozen: git (new commit) or live (object change).",
    ["app", "type"], registry=REGISTRY,
)
WEBHOOK_REQUESTS_TOTAL = Counter(
    "gitops_webhook_requests_total", "Git push webhooks received, by provider and result (accepted, bad_signature, ignored, invalid).",
    ["provider", "result"], registry=REGISTRY,
)
RENDER_DURATION = Histogram(
    "gitops_render_duration_seconds", "Time to render an app's manifests, by source type and result.",
    ["type", "result"], buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60), registry=REGISTRY,
)

INTERNAL_ERRORS_TOTAL = Counter(
    "gitops_internal_errors_total",
    "Unexpected exceptions inside a stage (compare, health) that were caught so the other objects are "
    "still judged. Anything above zero is a bug to report, with the traceback from the log.",
    ["stage"], registry=REGISTRY,
)

#: (stage, subject, exception type) already logged with a traceback: one log per object and cause,
#: not one per evaluation. Bounded, so a fleet of broken objects cannot grow it without end.
_LOGGED: dict[tuple[str, str, str], None] = {}
_LOGGED_MAX = 10_000


def internal_error(stage: str, obj: object, error: BaseException) -> None:
    """Count an unexpected exception caught in ``stage`` while handling the object ``obj``, and
    log it with its traceback the first time it is seen for that object."""
    INTERNAL_ERRORS_TOTAL.labels(stage).inc()
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    kind = obj.get("kind") if isinstance(obj, dict) else type(obj).__name__
    subject = f"{kind} {meta.get('namespace') or ''}/{meta.get('name') or '?'}"
    seen = (stage, subject, type(error).__name__)
    if seen in _LOGGED:
        return
    if len(_LOGGED) >= _LOGGED_MAX:
        _LOGGED.pop(next(iter(_LOGGED)))
    _LOGGED[seen] = None
    logging.getLogger(f"exporter.{stage}").error("internal error in %s of %s (logged once per object): %s",
                                                 stage, subject, error, exc_info=error)

TASK_FAILURES_TOTAL = Counter(
    "gitops_task_failures_total",
    "Long-lived tasks of the agent (the evaluation worker, periodic jobs, the config reload) that failed "
    "or ended and were restarted by the supervisor.",
    ["task"], registry=REGISTRY,
)
