"""Shared pieces of the CRD health rules: step builders, the rule table type, and the conventional
reading of conditions and status words that many operators follow."""

from __future__ import annotations

from collections.abc import Sequence

from exporter.health.paths import condition_code, conditions, get, text, value_code
from exporter.health.rules import Step
from exporter.health.words import (
    DEGRADED_WORDS,
    HEALTHY_WORDS,
    NEGATIVE_CONDITIONS,
    PAUSED_WORDS,
    POSITIVE_CONDITIONS,
)
from exporter.model import Health, HealthResult, KubeObject


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

class Rules(dict[tuple[str, str], Sequence[Step]]):
    """The rule table: a (group, kind) registered twice is a mistake (the second would silently win),
    so it raises instead."""

    def __setitem__(self, key: tuple[str, str], steps: Sequence[Step]) -> None:
        if key in self:
            raise KeyError(f"health rule for {key[0]}/{key[1]} is registered twice")
        super().__setitem__(key, steps)

    def extend_front(self, key: tuple[str, str], steps: Sequence[Step]) -> None:
        """Put ``steps`` before a registered rule's own (a deliberate refinement, not a duplicate)."""
        super().__setitem__(key, [*steps, *self[key]])

# The shared tables (:mod:`exporter.health.words`); conventional kinds also read a colour or a
# boolean ``status``/``healthy`` field as a word.
_GOOD_WORDS = HEALTHY_WORDS | {"green", "true"}
_BAD_WORDS = DEGRADED_WORDS | {"red", "false"}
_PAUSED_WORDS = PAUSED_WORDS
_BAD_CONDITIONS = NEGATIVE_CONDITIONS
_PAUSE_CONDITIONS = ("Paused", "Stopped", "Suspended", "cnpg.io/hibernation")
_GOOD_SUFFIXES = POSITIVE_CONDITIONS

_PROGRESS_REASONS = ("creat", "updat", "pending", "progress", "reconcil", "wait", "initializ", "install",
                     "provision", "deploy", "scaling", "starting", "unknown", "clon", "transfer", "running", "init")

def numeric_behind(obj: KubeObject) -> bool:
    """observedGeneration behind generation, when both are numbers (some controllers store hashes)."""
    observed, generation = get(obj, "status.observedGeneration"), get(obj, "metadata.generation")
    if not isinstance(observed, int) or not isinstance(generation, int) or isinstance(observed, bool):
        return False
    return observed < generation

def is_current(c: dict[str, object], generation: object) -> bool:
    """A condition written for the object's latest generation (or one that does not say)."""
    seen = c.get("observedGeneration")
    return not (isinstance(seen, int) and isinstance(generation, int) and seen < generation)

def is_progress_condition(c: dict[str, object]) -> bool:
    reason = text(c.get("reason")).lower()
    return any(word in reason for word in _PROGRESS_REASONS) and "fail" not in reason and "error" not in reason

def condition_status(c: dict[str, object]) -> str:
    """Condition status normalised: some manifests write an unquoted YAML boolean."""
    value = c.get("status")
    if isinstance(value, bool):
        return "True" if value else "False"
    return text(value).capitalize()

def _word(value: object) -> str:
    return text(value).lower().replace("_", "").replace("-", "").replace(" ", "")

def _conditions_verdict(conds: list[dict[str, object]]) -> HealthResult | None:
    for c in conds:
        if text(c.get("type")) in _PAUSE_CONDITIONS and condition_status(c) == "True":
            return HealthResult(Health.SUSPENDED, text(c.get("message") or c.get("reason") or c.get("type")), reason=condition_code(c))
    for c in conds:
        kind = text(c.get("type"))
        if condition_status(c) == "True" and (kind in _BAD_CONDITIONS or kind.endswith(".Terminal")):
            return HealthResult(Health.DEGRADED, text(c.get("message") or c.get("reason")), reason=condition_code(c))
    for c in conds:
        if text(c.get("type")) == "Issuing" and condition_status(c) == "True":
            return HealthResult(Health.PROGRESSING, text(c.get("message") or c.get("reason")), reason=condition_code(c))
        if text(c.get("reason")).endswith("Paused") and condition_status(c) == "False":
            return HealthResult(Health.SUSPENDED, text(c.get("reason")), reason=condition_code(c))
    good = [c for c in conds if text(c.get("type")).endswith(_GOOD_SUFFIXES)]
    failing = [c for c in good if condition_status(c) == "False"]
    for c in failing:
        if not is_progress_condition(c) and (c.get("reason") or c.get("message")):
            return HealthResult(Health.DEGRADED, text(c.get("message") or c.get("reason")), reason=condition_code(c))
    for c in conds:
        if text(c.get("type")) == "Reconciling" and condition_status(c) == "True":
            return HealthResult(Health.PROGRESSING, text(c.get("message") or c.get("reason")), reason=condition_code(c))
    for c in failing:
        return HealthResult(Health.PROGRESSING, text(c.get("message") or c.get("reason")), reason=condition_code(c))
    for c in good:
        if condition_status(c) != "True":
            return HealthResult(Health.PROGRESSING, text(c.get("message") or c.get("reason")), reason=condition_code(c))
    if good:
        ready = next((c for c in good if c.get("type") == "Ready"), good[0])
        return HealthResult(Health.HEALTHY, text(ready.get("message") or ready.get("reason")), reason=condition_code(ready))
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
        return HealthResult(Health.PROGRESSING, "Waiting for the controller to report status", reason="noStatus")
    if get(obj, "spec.suspend") is True or get(obj, "spec.paused") is True:
        return HealthResult(Health.SUSPENDED, "Paused", reason="paused")
    if numeric_behind(obj):
        return HealthResult(Health.PROGRESSING, "Waiting for the latest generation to be observed", reason="generationNotObserved")
    if status.get("failureMessage") or status.get("failureReason"):
        return HealthResult(Health.DEGRADED, text(status.get("failureMessage") or status.get("failureReason")), reason="failure")
    generation = get(obj, "metadata.generation")
    if not all(is_current(c, generation) for c in conditions(obj)):
        return HealthResult(Health.PROGRESSING, "Waiting for the latest generation to be observed", reason="generationNotObserved")
    verdict = _conditions_verdict(conditions(obj))
    if verdict is not None and verdict.status is not Health.HEALTHY:
        return verdict
    environments = [e for e in status.get("environments") or [] if isinstance(e, dict)]
    phases = {text(e.get("phase")).lower(): text(e.get("branch")) for e in environments}
    if "failure" in phases or "failed" in phases:
        return HealthResult(Health.DEGRADED, "Failed for branch(es): " + phases.get("failure", phases.get("failed", "")), reason="environmentFailed")
    if "pending" in phases:
        return HealthResult(Health.PROGRESSING, "Pending for branch(es): " + phases["pending"], reason="environmentPending")
    nested: list[dict[str, object]] = []
    for key in ("parents", "ancestors", "listeners"):
        for parent in status.get(key) or []:
            if isinstance(parent, dict):
                nested.extend(conditions(parent, "conditions"))
    if nested:
        if not all(is_current(c, generation) for c in nested):
            return HealthResult(Health.PROGRESSING, "Waiting for the latest generation to be observed", reason="generationNotObserved")
        inner = _conditions_verdict(nested)
        if inner is not None and (verdict is None or inner.status is not Health.HEALTHY):
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
            return HealthResult(Health.HEALTHY, "All replicas are ready", reason="replicasReady")
        return HealthResult(Health.PROGRESSING, f"Waiting for replicas to be ready: {ready} of {replicas}", reason="tooFewReady")
    if status.get("readyToUse") is True:
        return HealthResult(Health.HEALTHY, "Ready to use", reason="readyToUse")
    first = ("phase", "state", "status", "compliant")
    for key, value in sorted(status.items(), key=lambda kv: (kv[0] not in first, first.index(kv[0])
                                                              if kv[0] in first else 0)):
        verdict = _status_word(status, key, value)
        if verdict is not None:
            return verdict
    return HealthResult(Health.PROGRESSING, "Waiting for the controller to report status", reason="noStatus")

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
    code = value_code(key, value)
    if word in _BAD_WORDS:
        return HealthResult(Health.DEGRADED, message, reason=code)
    if word in _PAUSED_WORDS:
        return HealthResult(Health.SUSPENDED, message, reason=code)
    if word in _GOOD_WORDS:
        return HealthResult(Health.HEALTHY, message, reason=code)
    if lowered in ("phase", "state", "status", "health") or lowered.endswith(("phase", "state")):
        return HealthResult(Health.PROGRESSING, message, reason=code)
    return None
