"""The words operators write into a status, and what they mean: one table each, shared by the
rules for conventional kinds (:mod:`exporter.health.crds.common`) and the fallback for kinds
nobody wrote a rule for (:mod:`exporter.health.generic`). ``docs/health.md`` lists them; a test
keeps that page in step.
"""

from __future__ import annotations

#: ``status.phase``/``state``/``*Status`` words that mean the object does what it should.
HEALTHY_WORDS = frozenset({
    "ready", "running", "succeeded", "successful", "success", "complete", "completed", "active", "available",
    "bound", "healthy", "deployed", "established", "synced", "done", "provisioned", "created", "exists", "ok",
    "up", "enabled", "online", "accepted", "initialized", "operational", "applied", "installed", "reconciled",
    "uptodate", "valid", "compliant", "readytouse",
})
#: Words that mean it does not, and needs someone.
DEGRADED_WORDS = frozenset({
    "failed", "failure", "error", "errored", "degraded", "crashloopbackoff", "unhealthy", "invalid", "rejected",
    "lost", "configerror", "reconcilefailed", "down", "updatefailed", "createfailed", "syncfailed", "expired",
    "notfound", "noncompliant", "partiallyfailed", "failedvalidation", "unavailable", "abnormal", "offline",
})
#: Words that mean it is stopped on purpose.
PAUSED_WORDS = frozenset({"paused", "suspended", "stopped", "disabled", "halted", "hibernated", "hibernating"})
#: Words that mean work is under way (the fallback reads only these as Progressing).
PROGRESS_PHASE_WORDS = frozenset({
    "pending", "creating", "provisioning", "initializing", "initialising", "starting", "updating", "upgrading",
    "scaling", "deploying", "installing", "reconciling", "progressing", "waiting", "inprogress", "restoring",
    "resizing", "migrating", "settingup", "rollingupdate", "rollout", "notready", "unknown", "processing",
})
#: A ``status.health`` colour, as Elasticsearch and its operators write it.
COLOUR_WORDS = {"green": "Healthy", "yellow": "Progressing", "red": "Degraded"}

#: Condition types (and type suffixes: ``EtcdClusterHealthy``, ``ControlPlaneReady``) whose True
#: is good news: False or Unknown is a problem or work under way.
POSITIVE_CONDITIONS = ("Ready", "Synced", "Synchronized", "Applied", "Available", "Healthy", "Successful",
                       "Succeeded", "Complete", "Completed", "Established", "Deployed", "Accepted", "Programmed",
                       "Bound", "Valid", "Promoted", "Reconciled", "Installed", "UpToDate", "Compliant",
                       "Discoverable", "ResourcesApplied", "ResolvedRefs")
#: Condition types whose True is bad news.
NEGATIVE_CONDITIONS = frozenset({
    "Failed", "Failure", "Error", "Degraded", "Stalled", "InvalidSpec", "Invalid", "ReconcileError", "SpecError",
    "SubmissionError", "NotReady", "HasErrors", "Orphan", "ErrorOccurred", "Terminal", "ACK.Terminal",
    "ReconcileFailed", "Fallback", "FetchFailed",
})
#: Type suffixes of the same polarity (``BackupFailed``, ``ReplicationDegraded``).
NEGATIVE_SUFFIXES = ("Failed", "Failure", "Error", "Errors", "Degraded", "Stalled", "Unhealthy", "Unavailable",
                     ".Terminal")


#: Condition types whose True means work under way (the Available/Progressing/Degraded triple of
#: OpenShift-style operators, and ``Pending``), unless their reason says the work is done.
PROGRESS_CONDITIONS = ("Progressing", "Pending")
#: Reason endings that say a Progressing condition's work is done (``NewReplicaSetAvailable``).
DONE_REASONS = ("Available", "AsExpected", "Complete", "Completed", "Succeeded", "Successful", "Ready")


def is_progress(type_: str) -> bool:
    return type_.endswith(PROGRESS_CONDITIONS)


def is_positive(type_: str) -> bool:
    """``Ready``, ``ControlPlaneReady``, ``EtcdClusterHealthy``; not ``NotReady`` or ``Unavailable``."""
    return type_.endswith(POSITIVE_CONDITIONS) and not is_negative(type_)


def is_negative(type_: str) -> bool:
    return type_ in NEGATIVE_CONDITIONS or type_.endswith(NEGATIVE_SUFFIXES)
