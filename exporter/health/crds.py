"""Built-in health rules for custom resources, one entry per group/kind.

Each entry is a list of steps in the declarative form of :mod:`exporter.health.rules` (the first
matching step wins) or, where a resource needs real logic, a small function among them. Messages
follow Argo CD's where Argo CD users are likely to match on them. Keys are ``(group, kind)``;
``WILDCARDS`` holds glob entries (``*.crossplane.io``) tried in order after the exact ones.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

from exporter.health.paths import as_int, condition, conditions, get, mapping, text
from exporter.health.rules import Step
from exporter.model import Health, HealthResult, KubeObject

H, P, D, S, U, M = (Health.HEALTHY, Health.PROGRESSING, Health.DEGRADED, Health.SUSPENDED, Health.UNKNOWN,
                    Health.MISSING)


def cond(type_: str, status: str | None, health: str, message: str = "{message}", **extra: object) -> dict[str, object]:
    step: dict[str, object] = {"condition": type_, "health": health, "message": message}
    if status is not None:
        step["status"] = status
    step.update(extra)
    return step


def default(health: str, message: str = "") -> dict[str, object]:
    return {"default": health, "message": message}


def no_status(health: str, message: str = "") -> dict[str, object]:
    return {"noStatus": health, "message": message}


GENERATION = {"generation": True, "message": "Waiting for the controller to observe the latest generation"}

class _Rules(dict[tuple[str, str], Sequence[Step]]):
    """The rule table: a (group, kind) registered twice is a mistake (the second would silently win),
    so it raises instead."""

    def __setitem__(self, key: tuple[str, str], steps: Sequence[Step]) -> None:
        if key in self:
            raise KeyError(f"health rule for {key[0]}/{key[1]} is registered twice")
        super().__setitem__(key, steps)

    def extend_front(self, key: tuple[str, str], steps: Sequence[Step]) -> None:
        """Put ``steps`` before a registered rule's own (a deliberate refinement, not a duplicate)."""
        super().__setitem__(key, [*steps, *self[key]])


RULES: _Rules = _Rules()
WILDCARDS: list[tuple[str, str, Sequence[Step]]] = []


def rule_for(group: str, kind: str) -> Sequence[Step] | None:
    steps = RULES.get((group, kind))
    if steps is not None:
        return steps
    for g, k, wild in WILDCARDS:
        if fnmatch.fnmatchcase(group, g) and fnmatch.fnmatchcase(kind, k):
            return wild
    return None


# --- shared shapes ----------------------------------------------------------------------------

_GOOD_WORDS = {"ready", "running", "succeeded", "successful", "success", "complete", "completed", "active",
               "available", "bound", "healthy", "green", "deployed", "established", "synced", "done",
               "provisioned", "created", "exists", "ok", "up", "enabled", "online", "accepted", "true",
               "initialized", "operational", "applied", "installed", "reconciled", "uptodate", "valid",
               "compliant", "readytouse"}
_BAD_WORDS = {"failed", "failure", "error", "errored", "degraded", "red", "crashloopbackoff", "unhealthy",
              "invalid", "rejected", "lost", "configerror", "reconcilefailed", "false", "down", "updatefailed",
              "createfailed", "syncfailed", "expired", "notfound", "noncompliant"}
_PAUSED_WORDS = {"paused", "suspended", "stopped", "disabled", "halted"}
_BAD_CONDITIONS = {"Failed", "Failure", "Error", "Degraded", "Stalled", "InvalidSpec", "Invalid", "ReconcileError",
                   "SpecError", "SubmissionError", "NotReady", "HasErrors", "Orphan", "ErrorOccurred", "Terminal",
                   "ACK.Terminal", "ReconcileFailed", "Fallback", "FetchFailed"}
_PAUSE_CONDITIONS = ("Paused", "Stopped", "Suspended", "cnpg.io/hibernation")
_GOOD_SUFFIXES = ("Ready", "Synced", "Synchronized", "Applied", "Available", "Healthy", "Successful",
                  "Succeeded", "Complete", "Completed", "Established", "Deployed", "Accepted", "Programmed",
                  "Bound", "Valid", "Promoted", "Reconciled", "Installed", "UpToDate", "Compliant",
                  "Discoverable", "ResourcesApplied", "ResolvedRefs")
_PROGRESS_REASONS = ("creat", "updat", "pending", "progress", "reconcil", "wait", "initializ", "install",
                     "provision", "deploy", "scaling", "starting", "unknown", "clon", "transfer", "running", "init")


def _numeric_behind(obj: KubeObject) -> bool:
    """observedGeneration behind generation, when both are numbers (some controllers store hashes)."""
    observed, generation = get(obj, "status.observedGeneration"), get(obj, "metadata.generation")
    if not isinstance(observed, int) or not isinstance(generation, int) or isinstance(observed, bool):
        return False
    return observed < generation


def _current(c: dict[str, object], generation: object) -> bool:
    """A condition written for the object's latest generation (or one that does not say)."""
    seen = c.get("observedGeneration")
    return not (isinstance(seen, int) and isinstance(generation, int) and seen < generation)


def _is_progress(c: dict[str, object]) -> bool:
    reason = text(c.get("reason")).lower()
    return any(word in reason for word in _PROGRESS_REASONS) and "fail" not in reason and "error" not in reason


def _cstatus(c: dict[str, object]) -> str:
    """Condition status normalised: some manifests write an unquoted YAML boolean."""
    value = c.get("status")
    if isinstance(value, bool):
        return "True" if value else "False"
    return text(value).capitalize()


def _word(value: object) -> str:
    return text(value).lower().replace("_", "").replace("-", "").replace(" ", "")


def _conditions_verdict(conds: list[dict[str, object]]) -> HealthResult | None:
    for c in conds:
        if text(c.get("type")) in _PAUSE_CONDITIONS and _cstatus(c) == "True":
            return HealthResult(S, text(c.get("message") or c.get("reason") or c.get("type")))
    for c in conds:
        kind = text(c.get("type"))
        if _cstatus(c) == "True" and (kind in _BAD_CONDITIONS or kind.endswith(".Terminal")):
            return HealthResult(D, text(c.get("message") or c.get("reason")))
    for c in conds:
        if text(c.get("type")) == "Issuing" and _cstatus(c) == "True":
            return HealthResult(P, text(c.get("message") or c.get("reason")))
        if text(c.get("reason")).endswith("Paused") and _cstatus(c) == "False":
            return HealthResult(S, text(c.get("reason")))
    good = [c for c in conds if text(c.get("type")).endswith(_GOOD_SUFFIXES)]
    failing = [c for c in good if _cstatus(c) == "False"]
    for c in failing:
        if not _is_progress(c) and (c.get("reason") or c.get("message")):
            return HealthResult(D, text(c.get("message") or c.get("reason")))
    for c in conds:
        if text(c.get("type")) == "Reconciling" and _cstatus(c) == "True":
            return HealthResult(P, text(c.get("message") or c.get("reason")))
    for c in failing:
        return HealthResult(P, text(c.get("message") or c.get("reason")))
    for c in good:
        if _cstatus(c) != "True":
            return HealthResult(P, text(c.get("message") or c.get("reason")))
    if good:
        ready = next((c for c in good if c.get("type") == "Ready"), good[0])
        return HealthResult(H, text(ready.get("message") or ready.get("reason")))
    return None


def conventional(obj: KubeObject) -> HealthResult:
    """Health by the conventions most operators follow, for kinds known to follow them.

    Order: failure conditions (``Failed``, ``Stalled`` ... true), readiness-like conditions
    (``Ready``, ``*Synced``, ``Available`` ...), conditions nested per parent (Gateway API), then a
    ``phase``/``state``/``*Status`` word. Used only for the kinds listed in ``CONVENTIONAL``;
    kinds nobody listed get the stricter generic fallback.
    """
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return HealthResult(P, "Waiting for the controller to report status")
    if get(obj, "spec.suspend") is True or get(obj, "spec.paused") is True:
        return HealthResult(S, "Paused")
    if _numeric_behind(obj):
        return HealthResult(P, "Waiting for the latest generation to be observed")
    if status.get("failureMessage") or status.get("failureReason"):
        return HealthResult(D, text(status.get("failureMessage") or status.get("failureReason")))
    generation = get(obj, "metadata.generation")
    if not all(_current(c, generation) for c in conditions(obj)):
        return HealthResult(P, "Waiting for the latest generation to be observed")
    verdict = _conditions_verdict(conditions(obj))
    if verdict is not None and verdict.status is not H:
        return verdict
    environments = [e for e in status.get("environments") or [] if isinstance(e, dict)]
    phases = {text(e.get("phase")).lower(): text(e.get("branch")) for e in environments}
    if "failure" in phases or "failed" in phases:
        return HealthResult(D, "Failed for branch(es): " + phases.get("failure", phases.get("failed", "")))
    if "pending" in phases:
        return HealthResult(P, "Pending for branch(es): " + phases["pending"])
    nested: list[dict[str, object]] = []
    for key in ("parents", "ancestors", "listeners"):
        for parent in status.get(key) or []:
            if isinstance(parent, dict):
                nested.extend(conditions(parent, "conditions"))
    if nested:
        if not all(_current(c, generation) for c in nested):
            return HealthResult(P, "Waiting for the latest generation to be observed")
        inner = _conditions_verdict(nested)
        if inner is not None and (verdict is None or inner.status is not H):
            return inner
    if verdict is not None:
        return verdict
    return _replicas_or_words(obj, status)


def _replicas_or_words(obj: KubeObject, status: dict[str, object]) -> HealthResult:
    """The last resorts of ``conventional``: replica counts, then a status word."""
    replicas = status.get("replicas")
    ready = status.get("updatedReadyReplicas", status.get("readyReplicas"))
    if isinstance(replicas, int) and isinstance(ready, int) and not conditions(obj):
        if ready >= replicas:
            return HealthResult(H, "All replicas are ready")
        return HealthResult(P, f"Waiting for replicas to be ready: {ready} of {replicas}")
    if status.get("readyToUse") is True:
        return HealthResult(H, "Ready to use")
    first = ("phase", "state", "status", "compliant")
    for key, value in sorted(status.items(), key=lambda kv: (kv[0] not in first, first.index(kv[0])
                                                              if kv[0] in first else 0)):
        verdict = _status_word(status, key, value)
        if verdict is not None:
            return verdict
    return HealthResult(P, "Waiting for the controller to report status")


def _status_word(status: dict[str, object], key: str, value: object) -> HealthResult | None:
    """What a ``phase``/``state``/``*Status`` field's word says, or None when it says nothing."""
    if isinstance(value, dict):
        value = value.get("phase") or value.get("state") or value.get("status")
    lowered = key.lower()
    if not (lowered in ("phase", "state", "status", "health", "healthy", "ready", "stage", "compliant")
            or lowered.endswith(("status", "state", "phase"))):
        return None
    if not isinstance(value, str | bool) or value == "":
        return None
    word = _word(value)
    if word.startswith("error"):
        word = "error"
    message = text(status.get("message") or status.get("reason") or value)
    if word in _BAD_WORDS:
        return HealthResult(D, message)
    if word in _PAUSED_WORDS:
        return HealthResult(S, message)
    if word in _GOOD_WORDS:
        return HealthResult(H, message)
    if lowered in ("phase", "state", "status", "health") or lowered.endswith(("phase", "state")):
        return HealthResult(P, message)
    return None


def gloo(obj: KubeObject) -> HealthResult:
    """Solo.io resources report per-namespace statuses, states as names or enum numbers."""
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return HealthResult(P, "Update in progress")
    nested = status.get("statuses")
    reports: dict[str, object] = nested if isinstance(nested, dict) else {"": status}
    worst: tuple[int, str] = (-1, "")
    for report in reports.values():
        if not isinstance(report, dict):
            continue
        state = {"0": "Pending", "1": "Accepted", "2": "Rejected", "3": "Warning"}.get(
            text(report.get("state")), text(report.get("state")))
        rank = {"Accepted": 0, "Pending": 1, "Warning": 2, "Rejected": 3}.get(state, 1)
        if rank > worst[0]:
            worst = (rank, text(report.get("reason")))
    rank, reason = worst
    if rank >= 2:
        return HealthResult(D, reason)
    if rank == 1 or rank < 0:
        return HealthResult(S, "The resource has not yet been validated")
    return HealthResult(H, "The resource has been validated")


GLOO_KINDS = [("gateway.solo.io", k) for k in ("Gateway", "MatchableHttpGateway", "RouteOption", "RouteTable",
                                              "VirtualHostOption", "VirtualService")] + \
             [("gloo.solo.io", k) for k in ("Proxy", "Settings", "Upstream", "UpstreamGroup")]
for _gk in GLOO_KINDS:
    RULES[_gk] = [gloo]


HUMIO: list[Step] = [
    no_status("Progressing", "Update in progress"),
    {"phase": {"Exists": "Healthy", "NotFound": "Missing", "ConfigError": "Degraded", "Unknown": "Unknown"},
     "field": "status.state", "message": "Component state: {value}."},
    default("Progressing", "Update in progress"),
]
for _k in ("HumioAction", "HumioAlert", "HumioIngestToken", "HumioParser", "HumioRepository", "HumioView"):
    RULES[("core.humio.com", _k)] = HUMIO


def _rabbit(noun: str) -> list[Step]:
    return [
        cond("Ready", "True", "Healthy", f"RabbitMQ {noun} ready"),
        cond("Ready", "False", "Degraded", f"RabbitMQ {noun} failed to be created or updated"),
        default("Unknown", f"RabbitMQ {noun} status is unknown"),
    ]


for _k in ("Binding", "Exchange", "Permission", "Policy", "Queue", "Shovel", "User", "Vhost"):
    RULES[("rabbitmq.com", _k)] = _rabbit(_k.lower())
RULES[("rabbitmq.com", "RabbitmqCluster")] = [
    no_status("Progressing", "Waiting for RabbitMQ Operator"),
    cond("ReconcileSuccess", "False", "Degraded"),
    cond("ClusterAvailable", "Unknown", "Progressing", "Waiting for RabbitMQ cluster readiness"),
    cond("AllReplicasReady", "False", "Progressing", "Waiting for RabbitMQ cluster formation"),
    cond("ClusterAvailable", "False", "Progressing", "Waiting for RabbitMQ cluster formation"),
    cond("AllReplicasReady", "True", "Healthy", "RabbitMQ cluster ready"),
    default("Progressing", "Waiting for RabbitMQ cluster readiness"),
]


# --- Argo Rollouts -------------------------------------------------------------------------------

def _digits(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def argo_rollout(obj: KubeObject) -> HealthResult:
    """Argo Rollouts: older controllers stored a hash in observedGeneration, so only a number
    is compared; the phase, when written, is authoritative."""
    status = obj.get("status")
    waiting = HealthResult(P, "Waiting for rollout spec update to be observed")
    if not isinstance(status, dict) or not status:
        return waiting
    observed = _digits(status.get("observedGeneration"))
    # A legacy hash made only of digits reads as a number larger than any real generation.
    if observed is not None and observed < as_int(get(obj, "metadata.generation")):
        return waiting
    if get(obj, "spec.workloadRef") is not None:
        wanted = mapping(obj, "metadata.annotations").get("rollout.argoproj.io/workload-generation")
        if wanted is not None and text(status.get("workloadObservedGeneration")) != text(wanted):
            return waiting
    invalid = condition(obj, "InvalidSpec")
    if invalid is not None and invalid.get("status") == "True":
        return HealthResult(D, text(invalid.get("message")))
    phase = status.get("phase")
    if phase in ("Degraded", "Progressing", "Healthy"):
        return HealthResult(Health(phase), text(status.get("message")))
    if phase == "Paused":
        return HealthResult(S, text(status.get("message")))
    if status.get("abort"):
        return HealthResult(D, "Rollout is aborted")
    progressing = condition(obj, "Progressing")
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        return HealthResult(D, text(progressing.get("message")))
    pauses = status.get("pauseConditions")
    if isinstance(pauses, list) and pauses and isinstance(pauses[0], dict):
        return HealthResult(S, text(pauses[0].get("reason")))
    if get(obj, "spec.paused") is True or status.get("controllerPause"):
        return HealthResult(S, "Rollout is paused")
    replicas = as_int(get(obj, "spec.replicas"), 1) if get(obj, "spec.replicas") is not None else 1
    updated = as_int(status.get("updatedReplicas"))
    available = as_int(status.get("availableReplicas"))
    prefix = "Waiting for roll out to finish: "
    if updated < replicas:
        return HealthResult(P, prefix + "More replicas need to be updated")
    if as_int(status.get("replicas")) > updated:
        return HealthResult(P, prefix + "old replicas are pending termination")
    if available < updated:
        return HealthResult(P, prefix + "updated replicas are still becoming available")
    if get(obj, "spec.strategy.blueGreen") is not None:
        active = get(obj, "status.blueGreen.activeSelector") or status.get("activeSelector")
        if active and active != status.get("currentPodHash"):
            return HealthResult(P, prefix + "switching active service to updated service")
    elif get(obj, "spec.strategy.canary") is not None:
        stable = get(obj, "status.canary.stableRS") or status.get("stableRS")
        if stable and stable != status.get("currentPodHash"):
            return HealthResult(P, prefix + "waiting for all steps to complete")
    return HealthResult(H, "")


RULES[("argoproj.io", "Rollout")] = [argo_rollout]


# --- Karmada ---------------------------------------------------------------------------------

def karmada_binding(obj: KubeObject) -> HealthResult:
    """A binding is as healthy as its copies in member clusters; all must be applied."""
    insufficient = HealthResult(P, "Current resource status is insufficient")
    clusters = get(obj, "spec.clusters")
    aggregated = [a for a in get(obj, "status.aggregatedStatus") or [] if isinstance(a, dict)]
    if not aggregated or (isinstance(clusters, list) and len(aggregated) < len(clusters)):
        return insufficient
    for entry in aggregated:
        if entry.get("applied") is not True or entry.get("health") == "Unhealthy":
            return HealthResult(D, "Current resource status is unhealthy")
    return HealthResult(H, "")


RULES[("work.karmada.io", "ResourceBinding")] = [karmada_binding]
RULES[("work.karmada.io", "ClusterResourceBinding")] = [karmada_binding]


# --- OpenKruise workloads ----------------------------------------------------------------------

def kruise_workload(noun: str, ready_field: str, want_field: str) -> Step:
    """CloneSet, Advanced StatefulSet and Advanced DaemonSet: paused or held by a partition is a
    deliberate stop (Suspended); fewer updated-and-ready pods than wanted is Degraded."""
    def check(obj: KubeObject) -> HealthResult:
        status = obj.get("status")
        if not isinstance(status, dict) or not status or _numeric_behind(obj):
            return HealthResult(P, "Waiting for initialization")
        strategy = get(obj, "spec.updateStrategy")
        strategy = strategy if isinstance(strategy, dict) else {}
        nested = strategy.get("rollingUpdate")
        rolling: dict[str, object] = nested if isinstance(nested, dict) else strategy
        if rolling.get("paused") is True or strategy.get("paused") is True:
            return HealthResult(S, f"{noun} is paused")
        if as_int(rolling.get("partition")) > 0:
            return HealthResult(S, f"{noun} needs manual intervention")
        want = as_int(status.get(want_field))
        ready = as_int(status.get(ready_field))
        if want == 0:
            return HealthResult(P, "Waiting for initialization")
        if ready < want:
            return HealthResult(D, "Some pods are not ready or available" if noun == "Daemonset"
                                else "Some replicas are not ready or available")
        return HealthResult(H, f"All {noun} workloads are ready and updated")
    return check


RULES[("apps.kruise.io", "CloneSet")] = [kruise_workload("Cloneset", "updatedAvailableReplicas", "replicas")]
RULES[("apps.kruise.io", "StatefulSet")] = [kruise_workload("Statefulset", "updatedAvailableReplicas", "replicas")]
RULES[("apps.kruise.io", "DaemonSet")] = [kruise_workload("Daemonset", "numberAvailable", "desiredNumberScheduled")]
RULES[("apps.kruise.io", "BroadcastJob")] = [
    {"suspended": "spec.paused", "message": "BroadcastJob is Paused"},
    {"phase": {"completed": "Healthy", "failed": "Degraded", "running": "Progressing", "paused": "Suspended"},
     "message": "BroadcastJob {value}"},
    default("Progressing", "BroadcastJob is still running"),
]
RULES[("apps.kruise.io", "AdvancedCronJob")] = [
    {"suspended": "spec.paused", "message": "AdvancedCronJob is Paused"},
    {"field": "status.active", "health": "Progressing", "message": "AdvancedCronJobs has active jobs"},
    {"field": "status.lastScheduleTime", "health": "Healthy", "message": "AdvancedCronJobs has run successfully"},
    default("Degraded", "AdvancedCronJobs has not run successfully"),
]


# --- Numaplane -------------------------------------------------------------------------------

def numaplane_rollout(obj: KubeObject) -> HealthResult:
    status = obj.get("status")
    if not isinstance(status, dict) or not status or _numeric_behind(obj):
        return HealthResult(P, "Update in progress")
    if status.get("phase") == "Failed":
        return HealthResult(D, text(status.get("message")))
    if status.get("upgradeInProgress") or status.get("phase") == "Pending":
        return HealthResult(P, "Update in progress")
    paused = next((c for c in conditions(obj) if text(c.get("type")).endswith("PausingOrPaused")
                   and _cstatus(c) == "True"), None)
    if paused is not None:
        return HealthResult(H, text(paused.get("message")))
    upgrade = condition(obj, "ProgressiveUpgradeSucceeded")
    if upgrade is not None and _cstatus(upgrade) == "False":
        return HealthResult(D, "Progressive upgrade failed")
    healthy = condition(obj, "ChildResourcesHealthy")
    if healthy is not None and _cstatus(healthy) == "False":
        if healthy.get("reason") == "Progressing":
            return HealthResult(P, "Child Progressing")
        return HealthResult(D, text(healthy.get("message")))
    if healthy is not None and _cstatus(healthy) != "True":
        return HealthResult(P, text(healthy.get("message")))
    return HealthResult(H, "")


for _k in ("ISBServiceRollout", "MonoVertexRollout", "NumaflowControllerRollout", "PipelineRollout"):
    RULES[("numaplane.numaproj.io", _k)] = [numaplane_rollout]


# --- assorted operators ------------------------------------------------------------------------

RULES[("tower.ansible.com", "AnsibleJob")] = [
    no_status("Progressing", "Waiting for AnsibleJob"),
    {"phase": {"successful": "Healthy", "failed": "Degraded", "error": "Degraded", "canceled": "Degraded",
               "new": "Progressing", "pending": "Progressing", "running": "Progressing",
               "waiting": "Progressing"},
     "field": "status.ansibleJobResult.status", "message": "{value} job - {.status.ansibleJobResult.url}"},
    default("Progressing", "Waiting for AnsibleJob"),
]

_MINIO_PROGRESS = ("Provisioning", "Waiting", "Updating", "Restarting", "Decommissioning", "Adding",
                   "Expanding", "Initializing", "Creating")
RULES[("minio.min.io", "Tenant")] = [
    no_status("Progressing", "No status info available"),
    {"field": "status.currentState", "equals": "Initialized", "health": "Healthy", "message": "{value}"},
    lambda obj: (HealthResult(P, text(get(obj, "status.currentState")))
                 if text(get(obj, "status.currentState")).startswith(_MINIO_PROGRESS)
                 or text(get(obj, "status.currentState")).startswith("<") else None),
    {"field": "status.currentState", "present": True, "health": "Degraded", "message": "{value}"},
    default("Progressing", "No status info available"),
]

RULES[("proclaim.dogmatiq.io", "DNSSDServiceInstance")] = [
    cond("Adopted", "False", "Degraded"),
    cond("Advertised", "False", "Degraded"),
    cond("Discoverable", "Unknown", "Unknown"),
    cond("Discoverable", "False", "Progressing"),
    cond("Discoverable", "True", "Healthy"),
    default("Progressing", "Waiting for DNS-SD advertisement"),
]


def olm_subscription(obj: KubeObject) -> HealthResult:
    """OLM Subscription: failing conditions first, then a pending install plan or unpacking."""
    conds = conditions(obj)
    lines = [f"{i}: {text(c.get('type'))} | {text(c.get('status'))}" for i, c in enumerate(conds, 1)]
    state = text(get(obj, "status.state"))
    lines.append(f".status.state is '{state}'" if state else ".status.state not yet known")
    message = "".join(line + "\n" for line in lines)
    true = {text(c.get("type")) for c in conds if _cstatus(c) == "True"}
    if true & {"CatalogSourcesUnhealthy", "InstallPlanFailed", "ResolutionFailed"}:
        return HealthResult(D, message)
    if "BundleUnpacking" in true:
        return HealthResult(P, message)
    pending = condition(obj, "InstallPlanPending")
    if pending is not None and _cstatus(pending) == "True" and pending.get("reason") != "RequiresApproval":
        return HealthResult(P, message)
    if "InstallPlanMissing" in true or state in ("AtLatestKnown", "UpgradePending", "UpgradeAvailable"):
        return HealthResult(H, message)
    return HealthResult(P, message)


RULES[("operators.coreos.com", "Subscription")] = [olm_subscription]


@dataclass(frozen=True)
class PromoterWords:
    """How GitOps Promoter's own health checks word one kind's states (Argo CD ships them)."""

    noun: str                  # "Initializing <noun>"
    spec_noun: str             # "Waiting for <spec_noun> spec update to be observed"
    failed: str                # "<failed>: <Ready message>" on a reconciliation error
    no_ready: str              # no Ready condition yet
    not_ready: str = ""        # "<not_ready> (<reason>): <message>" for Ready False with another reason
    unknown: str = ""          # "<unknown> (<reason>): <message>" for Ready Unknown
    branches: str = ""         # "<branches> pending|failed for branch(es): ..." (commit status gates)
    passed: str = ""           # "... <passed> for N environment(s)"


PROMOTER: dict[str, PromoterWords] = {
    "ArgoCDCommitStatus": PromoterWords("Argo CD commit status", "Argo CD commit status",
                                        "Argo CD commit status reconciliation failed", "Argo CD commit status is not ready yet"),
    "ChangeTransferPolicy": PromoterWords("change transfer policy", "change transfer policy",
                                          "Change transfer policy reconciliation failed",
                                          "Change transfer policy is not ready yet"),
    "ClusterScmProvider": PromoterWords("cluster SCM provider", "ClusterScmProvider", "Cluster SCM provider validation failed",
                                        "ClusterScmProvider Ready condition is missing",
                                        unknown="Cluster SCM provider readiness unknown"),
    "CommitStatus": PromoterWords("commit status", "commit status", "Commit status reconciliation failed",
                                  "Commit status is not ready yet"),
    "GitCommitStatus": PromoterWords("git commit validation", "GitCommitStatus", "Git commit validation failed",
                                     "GitCommitStatus Ready condition is missing",
                                     not_ready="Git commit validation not ready",
                                     unknown="Git commit validation status unknown",
                                     branches="Git commit validation", passed="Git commit validation passed"),
    "GitRepository": PromoterWords("Git repository", "GitRepository", "Git repository validation failed",
                                   "GitRepository Ready condition is missing", unknown="Git repository readiness unknown"),
    "PromotionStrategy": PromoterWords("promotion strategy", "promotion strategy",
                                       "Promotion strategy reconciliation failed", "Promotion strategy is not ready yet"),
    "PullRequest": PromoterWords("pull request", "pull request", "Pull request reconciliation failed",
                                 "Pull request is not ready yet"),
    "ScmProvider": PromoterWords("SCM provider", "ScmProvider", "SCM provider validation failed",
                                 "ScmProvider Ready condition is missing", unknown="SCM provider readiness unknown"),
    "TimedCommitStatus": PromoterWords("timed commit gate", "TimedCommitStatus", "Timed commit gate failed",
                                       "TimedCommitStatus Ready condition is missing",
                                       branches="Timed commit gate", passed="Timed commit gate satisfied"),
    "WebRequestCommitStatus": PromoterWords("web request commit validation", "WebRequestCommitStatus",
                                            "Web request commit validation failed",
                                            "WebRequestCommitStatus Ready condition is missing",
                                            not_ready="Web request commit validation not ready",
                                            branches="Web request validation", passed="Web request validation passed"),
}


def _commit_statuses(statuses: object) -> str:
    """``1 pending, 0 successful, 1 failed. Pending commit statuses: a. Failed commit statuses: b. ``"""
    items = [s for s in statuses or [] if isinstance(s, dict)] if isinstance(statuses, list) else []
    by_phase: dict[str, list[str]] = {"pending": [], "success": [], "failure": []}
    for item in items:
        by_phase.setdefault(text(item.get("phase")), []).append(text(item.get("key")))
    out = f"{len(by_phase['pending'])} pending, {len(by_phase['success'])} successful, {len(by_phase['failure'])} failed. "
    if by_phase["pending"]:
        out += f"Pending commit statuses: {', '.join(by_phase['pending'])}. "
    if by_phase["failure"]:
        out += f"Failed commit statuses: {', '.join(by_phase['failure'])}. "
    return out


def _promotion(envs: list[dict[str, object]], strategy: bool) -> HealthResult:
    """Environments of a PromotionStrategy, or the one a ChangeTransferPolicy manages."""
    proposed_shas = set()
    for env in envs:
        where = f" in environment '{text(env.get('branch'))}'" if strategy else ""
        active = text(get(env, "active.dry.sha"))
        proposed = text(get(env, "proposed.dry.sha"))
        if not active:
            return HealthResult(P, f"The active commit DRY SHA is missing or empty{where}.")
        if not proposed:
            return HealthResult(P, f"The proposed commit DRY SHA is missing or empty{where}.")
        proposed_shas.add(proposed)
        if proposed != active:
            hydrated = text(get(env, "proposed.note.drySha")) or proposed
            env_name = f" for environment '{text(env.get('branch'))}'" if strategy else ""
            message = (f"Promotion in progress{env_name} from '{active[:7]}' to '{proposed[:7]}': "
                       f"{_commit_statuses(get(env, 'proposed.commitStatuses'))}")
            if strategy:
                message += f"Hydrator has processed dry commit '{hydrated[:7]}'. "
            return HealthResult(P, message)
    if len(proposed_shas) > 1:
        return HealthResult(P, "Not all environments have the same proposed commit SHA. "
                               "This likely means the hydrator has not run for all environments yet.")
    first = envs[0]
    active = text(get(first, "active.dry.sha"))
    if strategy:
        hydrated = text(get(first, "proposed.note.drySha")) or text(get(first, "proposed.dry.sha"))
        return HealthResult(H, f"All environments are up-to-date on commit '{active[:7]}'. "
                               f"Hydrator has processed dry commit '{hydrated[:7]}'.")
    statuses = get(first, "active.commitStatuses")
    if any(isinstance(s, dict) and s.get("phase") != "success" for s in statuses or []):
        return HealthResult(H, "Environment is up-to-date, but there are non-successful active commit statuses: "
                               + _commit_statuses(statuses))
    return HealthResult(H, f"Environment is up-to-date on commit {active[:7]}.")


def promoter(obj: KubeObject) -> HealthResult:
    """GitOps Promoter (promoter.argoproj.io): the Ready condition, then what each kind promotes.

    A strategy or policy whose proposed dry commit differs from the active one is still being
    promoted, and a commit-status gate reports per environment branch.
    """
    kind = text(obj.get("kind"))
    words = PROMOTER[kind]
    # Upper-case the first letter only: the nouns carry names ("SCM", "Argo CD") that must keep their case.
    noun = words.noun[:1].upper() + words.noun[1:]
    status = obj.get("status")
    if not isinstance(status, dict):
        return HealthResult(P, f"Initializing {words.noun}")
    generation = get(obj, "metadata.generation")
    if any(not _current(c, generation) for c in conditions(obj)):
        return HealthResult(P, f"Waiting for {words.spec_noun} spec update to be observed")
    ready = condition(obj, "Ready")
    if ready is None:
        return HealthResult(P, words.no_ready)
    reason, message = text(ready.get("reason")), text(ready.get("message"))
    if _cstatus(ready) == "False":
        if reason == "ReconciliationError" or not reason:
            return HealthResult(D, f"{words.failed}: {message}")
        return HealthResult(D, f"{words.not_ready or words.failed} ({reason}): {message}")
    if _cstatus(ready) != "True":
        return HealthResult(P, f"{words.unknown or noun + ' readiness unknown'} ({reason}): {message}")
    if kind == "ArgoCDCommitStatus":
        apps = status.get("applicationsSelected")
        if isinstance(apps, list) and not apps:
            return HealthResult(D, "Argo CD commit status has no applications configured")
        count = len(apps) if isinstance(apps, list) else 0
        return HealthResult(H, f"Argo CD commit status is healthy and is tracking {count} applications")
    if kind == "PromotionStrategy":
        envs = [e for e in status.get("environments") or [] if isinstance(e, dict)]
        if not envs:
            return HealthResult(D, "Promotion strategy has no environments configured")
        return _promotion(envs, strategy=True)
    if kind == "ChangeTransferPolicy":
        return _promotion([status], strategy=False)
    if kind == "CommitStatus":
        return HealthResult(H, f"Commit status for commit {text(status.get('sha'))} reports {text(status.get('phase'))}")
    if kind == "PullRequest":
        if status.get("id") and status.get("state"):
            return HealthResult(H, f"Pull request is {text(status['state'])} as PR {text(status['id'])}")
        return HealthResult(H, "Pull request is healthy")
    if words.branches:
        envs = [e for e in status.get("environments") or [] if isinstance(e, dict)]
        for phase, health, verb in (("failure", D, "failed"), ("pending", P, "pending")):
            branches = [text(e.get("branch")) for e in envs if e.get("phase") == phase]
            if branches:
                return HealthResult(health, f"{words.branches} {verb} for branch(es): {', '.join(branches)}")
        if not envs:
            return HealthResult(H, f"{noun} reconciled")
        return HealthResult(H, f"{words.passed} for {len(envs)} environment(s)")
    return HealthResult(H, f"{noun} is ready")


for _k in PROMOTER:
    RULES[("promoter.argoproj.io", _k)] = [promoter]


def otel_collector(obj: KubeObject) -> HealthResult:
    counts = text(get(obj, "status.scale.statusReplicas"))
    if not counts:
        if get(obj, "status.version") is not None:
            return HealthResult(H, "Collector is running in sidecar mode")
        return HealthResult(P, "Waiting for the collector to report status")
    ready, _, want = counts.partition("/")
    have, need = as_int(ready), as_int(want)
    if need == 0:
        return HealthResult(H, f"DaemonSet has no eligible nodes ({counts})")
    if have >= need:
        return HealthResult(H, "All replicas are ready")
    if have == 0:
        return HealthResult(D, "No replicas are ready")
    return HealthResult(P, "Replicas are starting up")


RULES[("opentelemetry.io", "OpenTelemetryCollector")] = [otel_collector]

RULES[("kubevirt.io", "VirtualMachine")] = [
    {"phase": {"Stopped": "Suspended", "Paused": "Suspended", "Running": "Healthy", "Starting": "Progressing",
               "Provisioning": "Progressing", "Migrating": "Progressing", "Stopping": "Progressing",
               "Terminating": "Progressing", "ErrorUnschedulable": "Degraded", "ErrImagePull": "Degraded",
               "ImagePullBackOff": "Degraded", "CrashLoopBackOff": "Degraded", "DataVolumeError": "Degraded",
               "ErrorPvcNotFound": "Degraded"},
     "field": "status.printableStatus", "message": "{value}"},
    conventional,
]
RULES[("kubevirt.io", "VirtualMachineInstance")] = [
    cond("Paused", "True", "Suspended"),
    {"phase": {"Succeeded": "Suspended", "Running": "Healthy", "Failed": "Degraded", "Pending": "Progressing",
               "Scheduling": "Progressing", "Scheduled": "Progressing", "Unknown": "Unknown"},
     "message": "{value}"},
    conventional,
]
RULES[("metrics.keptn.sh", "KeptnMetric")] = [
    {"field": "status.errMsg", "health": "Degraded", "message": "KeptnMetric is degraded"},
    {"field": "status.value", "health": "Healthy", "message": "KeptnMetric is healthy"},
    default("Progressing", "KeptnMetric is progressing"),
]
def percona_xtradb(obj: KubeObject) -> HealthResult:
    """Percona XtraDB Cluster: the state, with how many nodes are ready and the operator's messages."""
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return HealthResult(P, "Waiting for status")
    nodes = f"{text(status.get('ready'))}/{text(status.get('size'))} node(s) are ready"
    state = text(status.get("state"))
    if state in ("ready", "initializing"):
        return HealthResult(H if state == "ready" else P, nodes)
    if state == "stopping":
        return HealthResult(D, f"Cluster is stopping ({nodes})")
    if state == "paused":
        return HealthResult(U, "Cluster is paused")
    if state == "error":
        messages = status.get("message")
        detail = "; ".join(map(text, messages)) if isinstance(messages, list) else text(messages)
        return HealthResult(D, f"Cluster is on error: {detail}" if detail else "Cluster is on error")
    return HealthResult(U, f"Cluster status is unknown ({state or 'no state'})")


RULES[("pxc.percona.com", "PerconaXtraDBCluster")] = [percona_xtradb]


def elasticsearch(obj: KubeObject) -> HealthResult:
    status = obj.get("status")
    if not isinstance(status, dict) or not status.get("health"):
        return HealthResult(U, "Elasticsearch Cluster status is unknown")
    health, phase = text(status.get("health")), text(status.get("phase"))
    if health == "red":
        return HealthResult(D, "Elasticsearch Cluster status is Red")
    if health == "yellow":
        return HealthResult(P, "Elasticsearch Cluster status is Yellow")
    if phase and phase != "Ready":
        return HealthResult(P, f"Elasticsearch phase is {phase}")
    want = sum(as_int(n.get("count")) for n in get(obj, "spec.nodeSets") or [] if isinstance(n, dict))
    if want and as_int(status.get("availableNodes")) < want:
        return HealthResult(P, f"The desired amount of availableNodes is {want} but the current amount is "
                               f"{as_int(status.get('availableNodes'))}")
    if health == "green":
        return HealthResult(H, "Elasticsearch Cluster status is Green")
    return HealthResult(U, "Elasticsearch Cluster status is unknown")


RULES[("elasticsearch.k8s.elastic.co", "Elasticsearch")] = [elasticsearch]


def kserve(obj: KubeObject) -> HealthResult | None:
    transition = text(get(obj, "status.modelStatus.transitionStatus"))
    if transition in ("BlockedByFailedLoad", "InvalidSpec"):
        return HealthResult(D, f"0: transitionStatus | {transition}")
    if transition == "InProgress":
        return HealthResult(P, f"0: transitionStatus | {transition}")
    return None


RULES[("serving.kserve.io", "InferenceService")] = [cond("Stopped", "True", "Suspended",
                                                         "InferenceService is Stopped"), kserve, conventional]
RULES[("postgresql.cnpg.io", "Cluster")] = [
    lambda obj: (HealthResult(S, "Cluster reconciliation is suspended")
                 if mapping(obj, "metadata.annotations").get("cnpg.io/reconciliationLoop") == "disabled"
                 else None),
    cond("cnpg.io/hibernation", "True", "Suspended", "Cluster has been hibernated"),
    cond("Ready", "True", "Healthy", "{.status.phase}"),
    lambda obj: (HealthResult(D, text(get(obj, "status.phase")))
                 if "fail" in text(get(obj, "status.phase")).lower() else None),
    {"default": "Progressing", "message": "{.status.phase}"},
]


# --- Crossplane, Config Connector, ACK -----------------------------------------------------------

_UP_TO_DATE = no_status("Healthy", "Resource is up-to-date.")
WILDCARDS.extend([
    ("*.crossplane.io", "*", [_UP_TO_DATE, conventional]),
    ("*.upbound.io", "*", [_UP_TO_DATE, conventional]),
    ("*.cnrm.cloud.google.com", "*", [
        {"generation": True, "message": "Update in progress"},
        cond("Ready", "False", "Suspended", "Dependency not ready", reason="DependencyNotReady"),
        cond("Ready", "False", "Degraded", "Dependency not found", reason="DependencyNotFound"),
        cond("Ready", "False", "Progressing", "Update in progress", reason="Updating"),
        {"field": "status.healthy", "equals": "true", "health": "Healthy", "message": "{.kind} is healthy"},
        {"field": "status.healthy", "equals": "false", "health": "Degraded", "message": "{.kind} is not healthy"},
        conventional]),
])


def crd(obj: KubeObject) -> HealthResult:
    conds = conditions(obj)
    if not conds:
        return HealthResult(P, "Status conditions not found")
    by_type = {text(c.get("type")): c for c in conds}
    terminating = by_type.get("Terminating")
    if terminating is not None and _cstatus(terminating) == "True":
        return HealthResult(P, f"CRD is terminating: {text(terminating.get('message'))}")
    names = by_type.get("NamesAccepted")
    if names is not None and _cstatus(names) == "False":
        return HealthResult(D, f"CRD names have not been accepted: {text(names.get('message'))}")
    violations = by_type.get("NonStructuralSchema")
    if violations is not None and _cstatus(violations) == "True":
        return HealthResult(D, f"Schema violations found: {text(violations.get('message'))}")
    established = by_type.get("Established")
    if established is not None and _cstatus(established) == "False":
        if established.get("reason") == "Installing":
            return HealthResult(P, "CRD is being installed")
        return HealthResult(D, "CRD is not established")
    return HealthResult(H, "CRD is healthy")


RULES[("apiextensions.k8s.io", "CustomResourceDefinition")] = [crd]
_ANALYSIS_PHASES = {
    "Successful": (H, "Analysis run completed successfully"), "Failed": (D, "Analysis run failed"),
    "Error": (D, "Analysis run had an error"), "Inconclusive": (U, "Analysis run was inconclusive"),
    "Running": (P, "Analysis run is running"), "Pending": (P, "Analysis run is running"),
}


def analysis_run(obj: KubeObject) -> HealthResult | None:
    """Argo Rollouts AnalysisRun: the phase, in words, unless the controller wrote why."""
    verdict = _ANALYSIS_PHASES.get(text(get(obj, "status.phase")))
    if verdict is None:
        return None
    return HealthResult(verdict[0], text(get(obj, "status.message")) or verdict[1])


RULES[("argoproj.io", "AnalysisRun")] = [
    no_status("Progressing", "Waiting for analysis run to finish: status has not been reconciled."),
    analysis_run,
    default("Progressing", "Analysis run is running"),
]
RULES[("argoproj.io", "Experiment")] = [
    no_status("Progressing", "Waiting for experiment to finish: status has not been reconciled."),
    {"field": "status.phase", "equals": "Successful", "health": "Healthy", "message": "Experiment is successful"},
    {"field": "status.phase", "equals": "Failed", "health": "Degraded", "message": "Experiment has failed"},
    {"field": "status.phase", "equals": "Error", "health": "Degraded", "message": "Experiment had an error"},
    {"field": "status.phase", "equals": "Running", "health": "Progressing", "message": "Experiment is running"},
    {"field": "status.phase", "equals": "Pending", "health": "Progressing", "message": "Experiment is pending"},
    default("Progressing", "Experiment is running"),
]
RULES[("argoproj.io", "CronWorkflow")] = [
    cond("SpecError", "True", "Degraded"),
    cond("SubmissionError", "True", "Degraded"),
    cond("Completed", "True", "Healthy"),
    default("Healthy", "CronWorkflow is healthy."),
]
RULES[("argoproj.io", "ApplicationSet")] = [
    no_status("Progressing", "Waiting for the status to be reported"),
    cond("ErrorOccurred", "True", "Degraded"),
    cond("ResourcesUpToDate", "False", "Degraded"),
    cond("RolloutProgressing", "True", "Progressing"),
    cond("ResourcesUpToDate", "True", "Healthy"),
    default("Progressing", "Waiting for the status to be reported"),
]
RULES[("cdi.kubevirt.io", "DataVolume")] = [
    {"phase": {"Succeeded": "Healthy", "Failed": "Degraded"}, "message": "{value}"},
    cond("Running", "False", "Degraded", reason="Error"),
    {"field": "status.phase", "present": True, "health": "Progressing", "message": "{.status.phase}"},
    default("Progressing", "Waiting for the status to be reported"),
]
RULES[("cluster.x-k8s.io", "MachineHealthCheck")] = [
    lambda obj: (None if get(obj, "status.expectedMachines") is None else
                 HealthResult(H if as_int(get(obj, "status.currentHealthy")) >= as_int(get(obj, "status.expectedMachines"))
                              else D, "")),
    conventional,
]
RULES[("cluster.x-k8s.io", "MachineDeployment")] = [
    {"suspended": "spec.paused", "message": "MachineDeployment is paused"},
    GENERATION,
    {"phase": {"Failed": "Degraded", "ScalingUp": "Progressing", "ScalingDown": "Progressing",
               "Running": "Healthy"}, "message": "MachineDeployment is {value}"},
    conventional,
]


def _strimzi() -> list[Step]:
    return [cond("NotReady", "True", "Degraded"), cond("Ready", "True", "Healthy", ""),
            cond("Ready", "False", "Degraded"), default("Progressing", "")]


for _k in ("Kafka", "KafkaBridge", "KafkaConnect", "KafkaConnector", "KafkaTopic", "KafkaUser"):
    RULES[("kafka.strimzi.io", _k)] = _strimzi()


def condition_table(obj: KubeObject) -> str:
    return "".join(f"{i}: {text(c.get('type'))} | {text(c.get('status'))}\n"
                   for i, c in enumerate(conditions(obj), 1))


def knative_operator(obj: KubeObject) -> HealthResult:
    table = condition_table(obj)
    ready = condition(obj, "Ready")
    if ready is None or _cstatus(ready) in ("False", "Unknown"):
        return HealthResult(P, table)
    if _cstatus(ready) == "True":
        return HealthResult(H, table)
    return HealthResult(D, table)


RULES[("operator.knative.dev", "KnativeServing")] = [knative_operator]
RULES[("operator.knative.dev", "KnativeEventing")] = [knative_operator]
_MARIADB: list[Step] = [cond("Ready", "True", "Healthy"), cond("Ready", "False", "Degraded", reason="Failed"),
                        cond("Ready", "False", "Progressing"),
                        default("Progressing", "Waiting for MariaDB")]
RULES[("k8s.mariadb.com", "MariaDB")] = _MARIADB
RULES[("mariadb.mmontes.io", "MariaDB")] = _MARIADB
RULES[("k8s.mariadb.com", "SqlJob")] = [cond("Complete", "True", "Degraded", "{reason} Failed", reason="JobFailed"),
                                        conventional]
RULES[("policy", "PodDisruptionBudget")] = [
    cond("DisruptionAllowed", "True", "Healthy", "PodDisruptionBudget has {reason}"),
    cond("DisruptionAllowed", "False", "Degraded", "PodDisruptionBudget has {reason}", reason="SyncFailed"),
    cond("DisruptionAllowed", "False", "Progressing", "PodDisruptionBudget has {reason}"),
    default("Progressing", "Waiting for status"),
]


def openshift_route(obj: KubeObject) -> HealthResult:
    ingress = [i for i in get(obj, "status.ingress") or [] if isinstance(i, dict)]
    admitted = [c for i in ingress for c in conditions(i, "conditions") if c.get("type") == "Admitted"]
    if not admitted:
        return HealthResult(P, "Route is still getting admitted")
    if any(_cstatus(c) == "False" for c in admitted):
        return HealthResult(D, "Route is degraded")
    if all(_cstatus(c) == "True" for c in admitted):
        return HealthResult(H, "Route is healthy")
    return HealthResult(P, "Route is still getting admitted")


RULES[("route.openshift.io", "Route")] = [openshift_route]
for _k in ("VolumeSnapshot", "VolumeSnapshotContent"):
    RULES[("snapshot.storage.k8s.io", _k)] = [
        {"field": "status.error", "health": "Degraded", "message": "{.status.error.message}"},
        {"field": "status.readyToUse", "equals": "true", "health": "Healthy", "message": "Ready to use"},
        default("Progressing", "Waiting for status"),
    ]
RULES[("spot.io", "SpotDeployment")] = [argo_rollout]


# --- NetApp Astra ------------------------------------------------------------------------------

def _astra(kind: str) -> list[Step]:
    return [
        no_status("Progressing", "No status available"),
        {"phase": {"Completed": "Healthy", "completed": "Healthy", "available": "Healthy",
                   "Failed": "Degraded", "failed": "Degraded", "Error": "Degraded",
                   "Running": "Progressing"},
         "field": "status.state", "message": kind + " {value}"},
        conventional,
    ]


for _k in ("AppVault", "Backup", "ExecHooksRun", "ResourceBackup", "ResticVolumeBackup", "Snapshot"):
    RULES[("astra.netapp.io", _k)] = _astra(_k)
RULES[("astra.netapp.io", "ExecHook")] = [
    {"field": "spec.enabled", "equals": "true", "health": "Healthy", "message": "ExecHook enabled"},
    {"field": "spec.enabled", "equals": "false", "health": "Suspended", "message": "ExecHook disabled"},
    default("Progressing", "No status available"),
]
RULES[("astra.netapp.io", "Schedule")] = [
    {"field": "status.lastScheduleTime", "health": "Healthy",
     "message": "Protection policy lastScheduleTime: {value}"},
    default("Healthy", "Protection policy not yet executed"),
]

# --- Gardener, OpenKruise Game, Open Cluster Management, Numaflow --------------------------------

RULES[("core.gardener.cloud", "Shoot")] = [
    lambda obj: {
        "healthy": HealthResult(H, "Component state: Healthy"),
        "unhealthy": HealthResult(D, "Component state: Unhealthy"),
        "progressing": HealthResult(P, "Component state: Update in progress"),
        "unknown": HealthResult(U, "Component state: Unknown"),
    }.get(text(mapping(obj, "metadata.labels").get("shoot.gardener.cloud/status")).lower()),
    conventional,
]
RULES[("game.kruise.io", "GameServer")] = [
    no_status("Unknown", "Waiting for GameServer to be ready"),
    cond("Ready", "False", "Degraded", "Pod is not ready: {reason}", **{"in": "status.podStatus.conditions"}),
    {"field": "status.currentState", "equals": "Ready", "health": "Healthy", "message": "GameServer is ready"},
    {"field": "status.currentState", "in": ["NotReady", "Crash"], "health": "Degraded",
     "message": "GameServer is {value}"},
    default("Progressing", "GameServer is {.status.currentState}"),
]


def _game_server_set(obj: KubeObject) -> HealthResult | None:
    rolling = mapping(obj, "spec.updateStrategy.rollingUpdate")
    if rolling.get("paused") is True:
        return HealthResult(S, "GameServerSet is paused")
    if as_int(rolling.get("partition")) > 0:
        return HealthResult(S, f"Partition={as_int(rolling.get('partition'))}, waiting for manual intervention")
    return None


RULES[("game.kruise.io", "GameServerSet")] = [_game_server_set, conventional]


def ocm_policy(obj: KubeObject) -> HealthResult:
    status = obj.get("status")
    if get(obj, "spec.disabled") is True:
        return HealthResult(H, "Policy is disabled")
    if not isinstance(status, dict) or not status:
        return HealthResult(P, "Waiting for the status to be reported")
    compliant = status.get("compliant")
    if compliant is None:
        if status.get("placement"):
            return HealthResult(H, "No clusters match this policy")
        return HealthResult(P, "Waiting for the status to be reported")
    if compliant == "Compliant":
        return HealthResult(H, "All clusters are compliant" if status.get("status") is not None
                            else "All templates are compliant")
    if compliant == "NonCompliant":
        rows = status.get("status") or status.get("details") or []
        names = [text(r.get("clustername") or get(r, "templateMeta.name")) for r in rows
                 if isinstance(r, dict) and r.get("compliant") == "NonCompliant"]
        what = "clusters" if status.get("status") is not None else "templates"
        return HealthResult(D, f"NonCompliant {what}: {', '.join(names)}")
    return HealthResult(P, "Waiting for the status to be reported")


RULES[("policy.open-cluster-management.io", "Policy")] = [ocm_policy]


def _evaluated_generation(obj: KubeObject) -> HealthResult | None:
    seen = get(obj, "status.lastEvaluatedGeneration")
    if isinstance(seen, int) and seen < as_int(get(obj, "metadata.generation")):
        return HealthResult(P, "Waiting for the status to be updated")
    if get(obj, "kind") == "OperatorPolicy" and condition(obj, "Compliant") is None:
        return HealthResult(P, "Waiting for the compliance condition")
    return None


for _k in ("ConfigurationPolicy", "OperatorPolicy", "CertificatePolicy"):
    RULES[("policy.open-cluster-management.io", _k)] = [_evaluated_generation, conventional]


def numaflow(obj: KubeObject) -> HealthResult | None:
    labels = mapping(obj, "metadata.labels")
    if labels.get("numaplane.numaproj.io/progressive-result-state") == "failed":
        return HealthResult(D, "Failed progressive upgrade")
    if get(obj, "status.phase") == "Paused":
        return None
    for c in conditions(obj):
        if text(c.get("type")).endswith("Healthy") and _cstatus(c) == "False":
            return HealthResult(D, "Subresources are unhealthy")
    return None


for _k in ("InterStepBufferService", "MonoVertex", "Pipeline", "Vertex"):
    RULES[("numaflow.numaproj.io", _k)] = [numaflow, conventional]


# --- more operators --------------------------------------------------------------------------------

RULES[("rollouts.kruise.io", "Rollout")] = [
    GENERATION,
    {"phase": {"Disabled": "Degraded", "Terminating": "Degraded"}, "message": "Rollout is Disabled or Terminating"},
    {"field": "status.canaryStatus.currentStepState", "equals": "StepPaused", "health": "Suspended",
     "message": "Rollout is Paused need manual intervention"},
    {"phase": {"Healthy": "Healthy", "Progressing": "Progressing", "Initial": "Progressing"},
     "message": "{.status.message}"},
    default("Progressing", "Waiting for rollout"),
]
RULES[("networking.gke.io", "ManagedCertificate")] = [
    lambda obj: (HealthResult(D, "At least one certificate has failed to be provisioned")
                 if any(text(d.get("status")).startswith("Failed") for d in get(obj, "status.domainStatus") or []
                        if isinstance(d, dict)) else None),
    {"field": "status.certificateStatus", "equals": "Active", "health": "Healthy",
     "message": "All certificates are active"},
    default("Progressing", "Waiting for certificate to be provisioned"),
]
RULES[("platform.confluent.io", "Connector")] = [
    lambda obj: (HealthResult(D, "Connector has failed tasks")
                 if as_int(get(obj, "status.failedTasksCount")) > 0 else None),
    {"field": "status.connectorState", "equals": "FAILED", "health": "Degraded", "message": "Connector is failed"},
    conventional,
]
RULES[("source.toolkit.fluxcd.io", "HelmRepository")] = [
    {"field": "spec.type", "equals": "oci", "health": "Healthy",
     "message": "Helm repositories of type 'oci' do not contain any information in the status."},
    conventional,
]
RULES[("keda.sh", "ScaledJob")] = [cond("Ready", "Unknown", "Degraded", reason="PartialTriggerError"), conventional]


def grafana(obj: KubeObject) -> HealthResult | None:
    status = obj.get("status")
    if not isinstance(status, dict):
        return None
    if status.get("NoMatchingInstances"):
        return HealthResult(D, "can't find matching grafana instance")
    if status.get("stageStatus") == "failed":
        return HealthResult(D, f"Failed at stage {text(status.get('stage'))}")
    if "stage" in status and status.get("stage") != "complete":
        return HealthResult(P, text(status.get("stage")))
    if not conditions(obj) and status.get("lastResync"):
        return HealthResult(H, "")
    return None


for _k in ("Grafana", "GrafanaDashboard", "GrafanaDatasource", "GrafanaFolder"):
    RULES[("grafana.integreatly.org", _k)] = [grafana, conventional]
RULES[("cloudfront.aws.crossplane.io", "Distribution")] = [
    cond("Synced", "False", "Suspended", "{reason}", reason="ReconcilePaused"),
    cond("Synced", "False", "Degraded"),
    cond("Ready", "True", "Healthy", "Distribution is available"),
    default("Progressing", "Waiting for distribution to be available"),
]

RULES[("external-secrets.io", "ClusterExternalSecret")] = [
    cond("NotReady", "True", "Degraded", "one or more namespaces failed"),
    cond("Ready", "True", "Healthy", ""),
    cond("PartiallyReady", "True", "Degraded", "one or more namespaces failed"),
    conventional,
]
RULES[("core.humio.com", "HumioCluster")] = [
    {"field": "status.state", "equals": "Running", "health": "Healthy", "message": "Cluster is in a healthy running state"},
    {"field": "status.state", "equals": "Restarting", "health": "Progressing", "message": "Cluster pods are being restarted"},
    {"field": "status.state", "equals": "Upgrading", "health": "Progressing", "message": "Cluster pods are being upgraded"},
    {"field": "status.state", "equals": "Pending", "health": "Progressing",
     "message": "Cluster is waiting on resources to be provisioned"},
    {"field": "status.message", "present": True, "health": "Degraded", "message": "{value}"},
    {"field": "status.state", "equals": "ConfigError", "health": "Degraded",
     "message": "User-provided cluster specification resulted in a configuration error"},
    {"phase": {"Unknown": "Unknown"}, "field": "status.state", "message": "Component state: {value}."},
    conventional,
]
RULES[("openfaas.com", "Function")] = [cond("Healthy", "False", "Suspended", "No replicas available",
                                            reason="ReplicaAvailable"), conventional]
RULES[("nmstate.io", "NodeNetworkConfigurationPolicy")] = [cond("Ignored", "True", "Suspended", "{reason}"),
                                                           conventional]
RULES[("psmdb.percona.com", "PerconaServerMongoDB")] = [
    {"field": "status.state", "present": False, "health": "Unknown",
     "message": "{.status.ready}/{.status.size} node(s) are ready"},
    {"phase": {"ready": "Healthy", "initializing": "Progressing", "stopping": "Progressing", "paused": "Suspended",
               "error": "Degraded"},
     "field": "status.state", "message": "{.status.ready}/{.status.size} node(s) are ready"},
    conventional,
]
RULES[("trident.netapp.io", "TridentBackendConfig")] = [
    {"field": "status.lastOperationStatus", "in": ["Progressing", "Pending"], "health": "Progressing",
     "message": "Waiting for backend creation"},
    {"field": "status.lastOperationStatus", "equals": "Failed", "health": "Degraded", "message": "{.status.message}"},
    conventional,
]
RULES[("core.spinkube.dev", "SpinApp")] = [
    no_status("Progressing", "Waiting for status to be available"),
    cond("Progressing", "False", "Degraded", reason="ProgressDeadlineExceeded"),
    cond("Progressing", "True", "Progressing"),
    cond("Available", "True", "Healthy",
         "Application is healthy with {.status.readyReplicas}/{.spec.replicas} replicas ready"),
    default("Progressing", "Waiting for status to be available"),
]
RULES[("metrics.keptn.sh", "Analysis")] = [
    {"field": "status.pass", "equals": "true", "health": "Healthy", "message": "Analysis is healthy"},
    {"field": "status.warning", "equals": "true", "health": "Healthy", "message": "Analysis is healthy with warnings"},
    {"field": "status.state", "equals": "Completed", "health": "Degraded", "message": "Analysis is degraded"},
    default("Progressing", "Analysis is progressing"),
]
RULES[("beat.k8s.elastic.co", "Beat")] = [
    {"phase": {"green": "Healthy", "yellow": "Progressing", "red": "Degraded"}, "field": "status.health",
     "message": "Elastic Beat status is {value}"},
    {"field": "status.health", "present": True, "health": "Unknown", "message": "Elastic Beat status is unknown"},
    {"field": "status.expectedNodes", "health": "Progressing", "message": "Elastic Beat phase is progressing"},
    default("Unknown", "Elastic Beat status is unknown"),
]

RULES[("karpenter.sh", "NodeClaim")] = [cond("Disrupting", "True", "Suspended", "TTL expired", reason="Expired"),
                                       conventional]
RULES[("iammanager.keikoproj.io", "Iamrole")] = [
    {"field": "status.errorDescription", "health": "Degraded",
     "message": "Failed to reconcile the Iamrole for role '{.status.roleName}': {value}"},
    conventional,
]
RULES[("ceph.rook.io", "CephCluster")] = [
    {"field": "status.ceph.health", "in": ["HEALTH_WARN", "HEALTH_ERR"], "health": "Degraded",
     "message": "Ceph health is {value}"},
    conventional,
]
RULES[("stacks.crossplane.io", "ClusterStackInstall")] = [
    cond("Ready", "True", "Healthy", "Resource is available for use", **{"in": "status.conditionedStatus.conditions"}),
    conventional,
]


# --- kinds whose conditions do not follow the conventions ------------------------------------

def spark_application(obj: KubeObject) -> HealthResult:
    """Spark operator: the application state in words, and the driver's error when it failed."""
    verdict = conventional(obj)
    state = text(get(obj, "status.applicationState.state"))
    if verdict.status is D:
        return HealthResult(D, text(get(obj, "status.applicationState.errorMessage")) or verdict.message)
    if state:
        return HealthResult(verdict.status, "SparkApplication is " + state.replace("_", " ").title())
    return verdict


def flagger_canary(obj: KubeObject) -> HealthResult:
    """Flagger Canary: the phase, the traffic weight while analysing, and the Promoted condition's words."""
    verdict = conventional(obj)
    phase = text(get(obj, "status.phase"))
    promoted = condition(obj, "Promoted")
    if not phase or promoted is None:
        return verdict
    weight = f"Canary Weight: {text(get(obj, 'status.canaryWeight'))} % --- " if phase == "Progressing" else ""
    return HealthResult(verdict.status, f"{phase} --- {weight}{text(promoted.get('message'))}")


RULES[("sparkoperator.k8s.io", "SparkApplication")] = [spark_application]
RULES[("flagger.app", "Canary")] = [flagger_canary]


def deployment_config(obj: KubeObject) -> HealthResult:
    """OpenShift DeploymentConfig: the Progressing condition's reason says whether the latest
    replication controller rolled out; availability alone does not (a DeploymentConfig scaled to
    zero is unavailable yet fully rolled out)."""
    if not isinstance(obj.get("status"), dict) or not obj["status"]:
        return HealthResult(P, "Waiting for the controller to report status")
    progressing, available = condition(obj, "Progressing"), condition(obj, "Available")
    if progressing is not None and _cstatus(progressing) == "True" \
            and progressing.get("reason") == "NewReplicationControllerAvailable":
        return HealthResult(H, "replication controller successfully rolled out")
    if available is not None and _cstatus(available) == "False":
        return HealthResult(D, "Deployment config is degraded")
    return HealthResult(P, "replication controller is waiting for pods to run")


def camel_integration(obj: KubeObject) -> HealthResult:
    """Camel K: conditions for the deployment strategies not in use are False by design, so only
    the phase and the Ready condition count."""
    phase = text(get(obj, "status.phase"))
    ready = condition(obj, "Ready")
    if phase == "Error" or (ready is not None and _cstatus(ready) == "False" and ready.get("reason") == "Error"):
        return HealthResult(D, text((ready or {}).get("message")) or "Integration is in phase Error")
    if phase == "Running" and ready is not None and _cstatus(ready) == "True":
        return HealthResult(H, "")
    return HealthResult(P, "Waiting for Integration")


def rook_cassandra(obj: KubeObject) -> HealthResult:
    """Rook Cassandra reports members and ready members per rack, and no conditions."""
    racks = get(obj, "status.racks")
    if isinstance(racks, dict) and racks and all(
            isinstance(r, dict) and as_int(r.get("readyMembers")) >= as_int(r.get("members")) for r in racks.values()):
        return HealthResult(H, "")
    return HealthResult(P, "Waiting for Cassandra Cluster")


def threescale(obj: KubeObject) -> HealthResult:
    """3scale operator kinds: the conventions, Argo CD's wording, and ``Waiting`` (an account
    waiting for an administrator's approval) as a deliberate pause."""
    kind = text(obj.get("kind"))
    waiting = condition(obj, "Waiting")
    if waiting is not None and _cstatus(waiting) == "True":
        return HealthResult(S, text(waiting.get("message")) or f"3scale {kind} is waiting for admin approval")
    verdict = conventional(obj)
    if verdict.status is H:
        return HealthResult(H, f"3scale {kind} is {'synced' if kind in ('Backend', 'Product') else 'ready'}")
    if verdict.status is P and not conditions(obj):
        return HealthResult(P, f"Waiting for 3scale {kind} status...")
    return verdict


def capi_cluster(obj: KubeObject) -> HealthResult:
    """Cluster API Cluster: the phase leads. Ready is True early in provisioning, so only a
    ``Provisioned`` cluster is running; a False condition is a failure only at severity Error."""
    if get(obj, "spec.paused") is True:
        return HealthResult(S, "Cluster is paused")
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return HealthResult(P, "Waiting for clusters")
    if status.get("failureMessage") or status.get("failureReason"):
        return HealthResult(D, text(status.get("failureMessage") or status.get("failureReason")))
    ready = condition(obj, "Ready")
    phase = text(status.get("phase"))
    if ready is not None and _cstatus(ready) == "False" and (ready.get("severity") == "Error" or phase == "Failed"):
        return HealthResult(D, text(ready.get("message") or ready.get("reason")))
    if phase == "Failed":
        return HealthResult(D, "Cluster failed")
    if phase == "Provisioned" and (ready is None or _cstatus(ready) == "True"):
        return HealthResult(H, "Cluster is running")
    return HealthResult(P, "Waiting for clusters")


def aws_managed_control_plane(obj: KubeObject) -> HealthResult:
    """EKS control plane (Cluster API AWS): an upgrade in flight is Progressing although Ready
    stays True, and ``status.ready`` and the Ready condition can disagree while it settles."""
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return HealthResult(P, "Waiting for the control plane to report status")
    if status.get("failureMessage") or status.get("failureReason"):
        return HealthResult(D, text(status.get("failureMessage") or status.get("failureReason")))
    if _numeric_behind(obj):
        return HealthResult(P, "Waiting for the control plane spec to be reconciled")
    conds = conditions(obj)
    errors = [c for c in conds if c.get("severity") == "Error" and _cstatus(c) == "False"]
    if errors:
        return HealthResult(D, " ".join(text(c.get("message") or c.get("reason")) for c in errors))
    updating = condition(obj, "EKSControlPlaneUpdating")
    if updating is not None and _cstatus(updating) == "True":
        return HealthResult(P, "EKS control plane is updating")
    ready = condition(obj, "Ready")
    if ready is not None and _cstatus(ready) == "True" and status.get("ready") is True:
        return HealthResult(H, "Control plane is ready")
    if status.get("ready") is False:
        return HealthResult(P, "Control plane is not ready (.status.ready is false)")
    return HealthResult(P, "Control plane is not ready")


def flink_deployment(obj: KubeObject) -> HealthResult:
    """Apache Flink operator: the job manager deployment status, the reconciliation error, and a
    job the user suspended (``spec.job.state: suspended``)."""
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return HealthResult(P, "Waiting for deploying")
    error = get(obj, "status.reconciliationStatus.error")
    deployment = text(status.get("jobManagerDeploymentStatus"))
    if error or deployment == "ERROR":
        return HealthResult(D, text(error) or "Job manager deployment failed")
    if text(get(obj, "spec.job.state")).lower() == "suspended":
        return HealthResult(S, "Flink job is suspended")
    if deployment == "READY":
        return HealthResult(H, "")
    return HealthResult(P, "Waiting for deploying")


def kruise_game_server(obj: KubeObject) -> HealthResult | None:
    """OpenKruise Game: a GameServer whose pod has a failing condition is not serving, whatever
    its state says."""
    for c in conditions(obj, "status.podStatus.conditions"):
        if _cstatus(c) == "False":
            return HealthResult(D, f"Pod is not ready: {text(c.get('type'))}")
    return None


def keycloak(obj: KubeObject) -> HealthResult:
    """Keycloak operator: Ready is False throughout a rolling update, which is progress."""
    conds = conditions(obj)
    if not conds:
        return HealthResult(P, "Waiting for Keycloak status conditions to exist")
    errors = condition(obj, "HasErrors")
    if errors is not None and _cstatus(errors) == "True":
        return HealthResult(D, f"Has Errors: {text(errors.get('message'))}")
    rolling = condition(obj, "RollingUpdate")
    if rolling is not None and _cstatus(rolling) == "True":
        return HealthResult(P, "")
    ready = condition(obj, "Ready")
    if ready is not None and _cstatus(ready) == "True":
        return HealthResult(H, "")
    if ready is not None and _cstatus(ready) == "False":
        return HealthResult(D, f"Not Ready: {text(ready.get('message'))}")
    return HealthResult(P, "Waiting for Keycloak to be ready")


_CRUISE_CONTROL_OK = ("Succeeded", "Ready")


def banzai_kafka_cluster(obj: KubeObject) -> HealthResult:
    """Banzai Cloud (Koperator) KafkaCluster: cluster state, per-broker configuration sync and
    Cruise Control. ``ClusterRunning`` alone is not healthy while a broker's config is out of sync."""
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return HealthResult(P, "Waiting for KafkaCluster")
    state = text(status.get("state"))
    if state == "ClusterReconciling":
        return HealthResult(P, "Kafka Cluster is Reconciling.")
    if state == "ClusterRollingUpgrading":
        return HealthResult(P, "Kafka Cluster is Rolling Upgrading.")
    if state != "ClusterRunning":
        return HealthResult(P, "Waiting for KafkaCluster")
    brokers = [b for b in (status.get("brokersState") or {}).values() if isinstance(b, dict)]
    for broker in brokers:
        cruise = text(get(broker, "gracefulActionState.cruiseControlState"))
        if broker.get("configurationState") == "ConfigOutOfSync" or (cruise and not cruise.endswith(_CRUISE_CONTROL_OK)
                                                                      and "Fail" in cruise):
            return HealthResult(D, "Broker Config is out of Sync or CruiseControlState is not Ready")
    if status.get("cruiseControlTopicStatus") == "CruiseControlTopicReady":
        return HealthResult(H, "Kafka Brokers, CruiseControl and cluster are in Healthy State.")
    return HealthResult(P, "Waiting for KafkaCluster")


def contour_http_proxy(obj: KubeObject) -> HealthResult:
    """Contour HTTPProxy: a parent proxy whose only errors are about its inclusions is healthy,
    because each included proxy is an object of its own, health-checked on its own."""
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return HealthResult(P, "Waiting for status")
    if status.get("currentStatus") == "NotReconciled":
        return HealthResult(P, text(status.get("description")) or "Waiting for controller")
    valid = condition(obj, "Valid")
    generation = get(obj, "metadata.generation")
    if valid is None:
        return HealthResult(P, "Waiting for status")
    if not _current(valid, generation):
        return HealthResult(P, "Waiting for status")
    if _cstatus(valid) == "True":
        return HealthResult(H, text(valid.get("message")) or "Valid HTTPProxy")
    errors = [e for e in valid.get("errors") or [] if isinstance(e, dict)]
    if get(obj, "spec.includes") and errors and all(e.get("type") == "IncludeError" for e in errors):
        return HealthResult(H, "HTTPProxy inclusions cannot be health checked")
    return HealthResult(D, text(valid.get("message") or valid.get("reason")))


def gateway_route(obj: KubeObject) -> HealthResult:
    """Gateway API routes: one status entry per parent. An entry whose conditions describe an older
    generation belongs to a parentRef since removed from the spec (controllers leave it behind),
    so it is ignored as long as a current one exists."""
    kind = text(obj.get("kind"))
    parents = [p for p in get(obj, "status.parents") or [] if isinstance(p, dict)]
    if not parents:
        return HealthResult(P, f"Waiting for {kind} status")
    generation = get(obj, "metadata.generation")
    current = [(text(get(p, "parentRef.name")), [c for c in conditions(p, "conditions") if _current(c, generation)])
               for p in parents]
    current = [(name, conds) for name, conds in current if conds]
    if not current:
        return HealthResult(P, "Waiting for the latest generation to be observed")
    for name, conds in current:
        for c in conds:
            if _cstatus(c) == "False" and not _is_progress(c):
                return HealthResult(D, f"Parent {name}: {text(c.get('message')) or 'Failed condition: ' + text(c.get('type'))}")
    for name, conds in current:
        for c in conds:
            if _cstatus(c) != "True":
                return HealthResult(P, f"Parent {name}: {text(c.get('message') or c.get('reason'))}")
    return HealthResult(H, f"{kind} is healthy")


def policy_attachment(*, judged_by_every_ancestor: bool) -> Step:
    """Gateway API policy attachment: one status per ancestor gateway, each of which must accept
    the policy, and any condition an ancestor reports False is a failure.

    ``judged_by_every_ancestor`` (Gateway API's own BackendTLSPolicy): an ancestor listed with no
    conditions has yet to judge the policy, so it is still progressing. Airlock's controllers list
    ancestors that never report conditions, which therefore do not count.
    """

    def check(obj: KubeObject) -> HealthResult:
        kind = text(obj.get("kind"))
        ancestors = [a for a in get(obj, "status.ancestors") or [] if isinstance(a, dict)]
        if not ancestors:
            return HealthResult(P, f"Waiting for {kind} status")
        generation = get(obj, "metadata.generation")
        for ancestor in ancestors:
            name = text(get(ancestor, "ancestorRef.name"))
            conds = conditions(ancestor, "conditions")
            if not conds and judged_by_every_ancestor:
                return HealthResult(P, f"Waiting for {kind} status")
            if any(not _current(c, generation) for c in conds):
                return HealthResult(P, f"Waiting for Ancestor {name} to update {kind} status")
            failed = next((c for c in conds if _cstatus(c) == "False"), None)
            if failed is not None:
                return HealthResult(D, f"Ancestor {name}: {text(failed.get('message') or failed.get('reason'))}")
            accepted = next((c for c in conds if c.get("type") == "Accepted"), None)
            if conds and (accepted is None or _cstatus(accepted) != "True"):
                return HealthResult(D, f"Ancestor {name}: {kind} is not accepted")
        return HealthResult(H, f"{kind} is healthy")

    return check


RULES[("apps.openshift.io", "DeploymentConfig")] = [deployment_config]
RULES[("camel.apache.org", "Integration")] = [camel_integration]
RULES[("cassandra.rook.io", "Cluster")] = [rook_cassandra]
for _k in ("ActiveDoc", "Application", "ApplicationAuth", "Backend", "CustomPolicyDefinition", "DeveloperAccount",
           "DeveloperUser", "OpenAPI", "Product", "ProxyConfigPromote", "Tenant"):
    RULES[("capabilities.3scale.net", _k)] = [threescale]
RULES[("cluster.x-k8s.io", "Cluster")] = [capi_cluster]
RULES[("controlplane.cluster.x-k8s.io", "AWSManagedControlPlane")] = [aws_managed_control_plane]
RULES[("flink.apache.org", "FlinkDeployment")] = [flink_deployment]
RULES.extend_front(("game.kruise.io", "GameServer"), [kruise_game_server])
RULES[("k8s.keycloak.org", "Keycloak")] = [keycloak]
RULES[("kafka.banzaicloud.io", "KafkaCluster")] = [banzai_kafka_cluster]
RULES[("projectcontour.io", "HTTPProxy")] = [contour_http_proxy]
for _k in ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute"):
    RULES[("gateway.networking.k8s.io", _k)] = [gateway_route]
RULES[("gateway.networking.k8s.io", "BackendTLSPolicy")] = [policy_attachment(judged_by_every_ancestor=True)]
WILDCARDS.append(("microgateway.airlock.com", "*", [policy_attachment(judged_by_every_ancestor=False)]))


# --- everything else ---------------------------------------------------------------------------

#: Kinds whose operators follow the common conventions closely enough for ``conventional``, and
#: that have no rule of their own (above, or among the core checks): registering one twice raises.
CONVENTIONAL: dict[str, tuple[str, ...]] = {
    'acid.zalan.do': ('postgresql',),
    'addons.cluster.x-k8s.io': ('ClusterResourceSet',),
    'apps.3scale.net': ('APIManager',),
    'argoproj.io': ('EventBus',),
    'astra.netapp.io': ('Application',),
    'bitnami.com': ('SealedSecret',),
    'ceph.rook.io': ('CephObjectStore',),
    'cert-manager.io': ('Certificate', 'ClusterIssuer', 'Issuer',),
    'certmanager.k8s.io': ('Certificate', 'Issuer',),
    'clickhouse-keeper.altinity.com': ('ClickHouseKeeperInstallation',),
    'clickhouse.altinity.com': ('ClickHouseInstallation',),
    'cluster.x-k8s.io': ('Machine', 'MachinePool',),
    'coralogix.com': ('Alert', 'RecordingRuleGroupSet',),
    'datadoghq.com': ('DatadogMetric',),
    'db.atlasgo.io': ('AtlasMigration', 'AtlasSchema',),
    'external-secrets.io': ('ClusterSecretStore', 'ExternalSecret', 'PushSecret', 'SecretStore',),
    'gateway.networking.k8s.io': ('Gateway', 'GatewayClass',),
    'helm.toolkit.fluxcd.io': ('HelmRelease',),
    'iam.aws.crossplane.io': ('Policy', 'Role', 'RolePolicyAttachment',),
    'image.toolkit.fluxcd.io': ('ImagePolicy', 'ImageRepository', 'ImageUpdateAutomation',),
    'install.istio.io': ('IstioOperator',),
    'jaegertracing.io': ('Jaeger',),
    'k8s.mariadb.com': ('Backup', 'Database', 'Grant', 'User',),
    'karpenter.k8s.aws': ('EC2NodeClass',),
    'karpenter.sh': ('NodePool',),
    'keda.sh': ('ScaledObject',),
    'kiali.io': ('Kiali',),
    'kubernetes-client.io': ('ExternalSecret',),
    'kustomize.toolkit.fluxcd.io': ('Kustomization',),
    'kyverno.io': ('Policy',),
    'lifecycle.keptn.sh': (
        'KeptnAppVersion', 'KeptnEvaluation', 'KeptnTask', 'KeptnWorkloadInstance', 'KeptnWorkloadVersion',
    ),
    'logstash.k8s.elastic.co': ('Logstash',),
    'monitoring.coreos.com': ('Prometheus',),
    'notification.toolkit.fluxcd.io': ('Receiver',),
    'objectbucket.io': ('ObjectBucketClaim',),
    'ocs.openshift.io': ('StorageCluster',),
    'onepassword.com': ('OnePasswordItem',),
    'operator.openshift.io': ('IngressController',),
    'pkg.crossplane.io': ('Provider',),
    'platform.confluent.io': ('Connect', 'ControlCenter', 'Kafka', 'KsqlDB', 'SchemaRegistry', 'Zookeeper',),
    'projectcontour.io': ('ExtensionService',),
    'pulumi.com': ('Stack',),
    'rds.aws.crossplane.io': ('DBCluster', 'DBInstance',),
    'route53.aws.crossplane.io': ('ResourceRecordSet',),
    's3.aws.crossplane.io': ('Bucket',),
    'services.cloud.sap.com': ('ServiceBinding', 'ServiceInstance',),
    'serving.knative.dev': ('Service',),
    'solr.apache.org': ('SolrCloud',),
    'source.toolkit.fluxcd.io': ('Bucket', 'GitRepository', 'HelmChart', 'OCIRepository',),
    'trident.netapp.io': ('TridentOrchestrator',),
    'zookeeper.pravega.io': ('ZookeeperCluster',),
}
for _group, _kinds in CONVENTIONAL.items():
    for _kind in _kinds:
        RULES[(_group, _kind)] = [conventional]
WILDCARDS.extend((group, "*", [conventional]) for group in (
    "*.services.k8s.aws", "*.kubitus-project.gitlab.io", "operator.victoriametrics.com"))
