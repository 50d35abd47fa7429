"""Fallback health for custom resources that no check covers, read the way kstatus reads them.

Most controllers written since kstatus and the Flux toolkit report their state in conditions
(``Ready``, ``Stalled``, ``Reconciling``, each with a ``reason``) and ``observedGeneration``.
Reading them with the conventions those projects document gives an honest verdict for kinds
nobody wrote a check for, in this order:

1. a pause condition (``Paused``, ``Suspended``, ``Cordoned``) that is True: **Suspended**;
2. ``Stalled=True``: **Degraded** (kstatus: the controller gave up);
3. ``status.observedGeneration`` behind ``metadata.generation``: **Progressing**;
4. ``Reconciling=True``: **Progressing**;
5. the ``Ready`` condition (else ``Available``): a condition written for an older generation (its
   own ``observedGeneration``) says nothing about the current spec, so **Progressing**; True is
   **Healthy**; False is **Degraded** only when its reason names a failure (:data:`FAILURE_WORDS`),
   otherwise **Progressing** (``Pending``, ``Reconciling``, ``NotReady``: work under way);
   Unknown is **Progressing**;
6. ``Succeeded``/``Complete`` True: **Healthy**; ``Failed`` True: **Degraded**.

An object without a status, or whose status speaks none of these, gets no verdict (None) rather
than a guess: a wrong "Healthy" hides an outage and a wrong "Degraded" pages someone at night. Every
verdict's message names the condition and reason it was read from.
"""

from __future__ import annotations

import re
from typing import Any

from exporter.health.paths import as_int, condition, condition_code, generation_behind, get, text
from exporter.model import Health, HealthResult, KubeObject

#: Words of a condition's reason (CamelCase split into words) that name a failure.
FAILURE_WORDS = frozenset({
    "fail", "failed", "failing", "failure", "failures", "error", "errors", "errored", "invalid", "rejected",
    "denied", "forbidden", "unauthorized", "conflict", "conflicting", "exceeded", "expired", "refused",
    "unhealthy", "degraded", "crash", "crashed", "aborted", "stalled", "unschedulable", "evicted",
    "timeout", "broken", "misconfigured", "unsupported", "unresolved", "unreachable",
})
#: Word pairs that name a failure where the words alone do not (``TimedOut``, ``BackOff``).
FAILURE_PHRASES = frozenset({("timed", "out"), ("back", "off"), ("not", "found")})
#: Reasons that say work is still under way, for the record: Ready=False with any reason that is
#: not a failure is Progressing, these included.
PROGRESS_WORDS = frozenset({
    "pending", "progressing", "reconciling", "notready", "waiting", "creating", "updating", "initializing",
    "provisioning", "inprogress", "starting", "deploying", "scaling", "installing", "upgrading",
})
#: Condition types that, when True, mean the object is paused on purpose.
PAUSE_CONDITIONS = ("Paused", "Suspended", "Cordoned")

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def reason_words(reason: str) -> list[str]:
    """``ReconciliationFailed`` -> ``["reconciliation", "failed"]``; also splits on ``_``, ``-``, spaces."""
    return [w.lower() for w in _WORD.findall(reason or "")]


def names_failure(reason: str) -> bool:
    """Whether a condition's reason names a failure (see :data:`FAILURE_WORDS`)."""
    words = reason_words(reason)
    return any(w in FAILURE_WORDS for w in words) or any(pair in FAILURE_PHRASES for pair in zip(words, words[1:], strict=False))


def _described(cond: dict[str, Any]) -> str:
    """``Ready=False (ReconciliationFailed): message``: the condition a verdict was read from."""
    reason = text(cond.get("reason"))
    head = f"{text(cond.get('type'))}={text(cond.get('status'))}" + (f" ({reason})" if reason else "")
    message = text(cond.get("message"))
    return f"{head}: {message}" if message else head


def _stale(obj: KubeObject, cond: dict[str, Any]) -> bool:
    """A condition written for an older generation of the object than the current one."""
    observed, generation = cond.get("observedGeneration"), get(obj, "metadata.generation")
    return observed is not None and generation is not None and as_int(observed) < as_int(generation)


def _from_readiness(obj: KubeObject, cond: dict[str, Any]) -> HealthResult:
    if _stale(obj, cond):
        return HealthResult(Health.PROGRESSING, f"{_described(cond)} (written for generation "
                            f"{as_int(cond.get('observedGeneration'))}; the object is at generation "
                            f"{as_int(get(obj, 'metadata.generation'))})", reason="conditionNotCurrent")
    status = cond.get("status")
    if status == "True":
        return HealthResult(Health.HEALTHY, _described(cond), reason=condition_code(cond))
    if status == "False" and names_failure(text(cond.get("reason"))):
        return HealthResult(Health.DEGRADED, _described(cond), reason=condition_code(cond))
    return HealthResult(Health.PROGRESSING, _described(cond), reason=condition_code(cond))


def assess(obj: KubeObject) -> HealthResult | None:
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return None
    for type_ in PAUSE_CONDITIONS:
        paused = condition(obj, type_)
        if paused is not None and paused.get("status") == "True":
            return HealthResult(Health.SUSPENDED, _described(paused), reason=condition_code(paused))
    stalled = condition(obj, "Stalled")
    if stalled is not None and stalled.get("status") == "True":
        return HealthResult(Health.DEGRADED, _described(stalled), reason=condition_code(stalled))
    if generation_behind(obj):
        return HealthResult(Health.PROGRESSING, "Waiting for the controller to observe the latest generation",
                            reason="generationNotObserved")
    reconciling = condition(obj, "Reconciling")
    if reconciling is not None and reconciling.get("status") == "True":
        return HealthResult(Health.PROGRESSING, _described(reconciling), reason=condition_code(reconciling))
    for type_ in ("Ready", "Available"):
        cond = condition(obj, type_)
        if cond is not None:
            return _from_readiness(obj, cond)
    for type_, health in (("Failed", Health.DEGRADED), ("Succeeded", Health.HEALTHY), ("Complete", Health.HEALTHY)):
        cond = condition(obj, type_)
        if cond is not None and cond.get("status") == "True":
            return HealthResult(health, _described(cond), reason=condition_code(cond))
    return None
