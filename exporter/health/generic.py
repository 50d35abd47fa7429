"""Fallback health for custom resources that no check covers, read the way their operators write
status: kstatus's and the Flux toolkit's conditions (``Ready``, ``Stalled``, ``Reconciling`` with a
``reason``), conditions of either polarity wherever they sit (``EtcdClusterHealthy=False`` is
Degraded, ``Progressing=True`` is work under way), ``observedGeneration``, and, failing those, a
state word or the replica counters, all from the tables of :mod:`exporter.health.words`.
``docs/health.md`` lists the order the rules are applied in (``assess`` follows it step by step).

An object without a status, or whose status speaks none of these, gets no verdict (None) rather
than a guess: a wrong "Healthy" hides an outage and a wrong "Degraded" pages someone at night. Every
verdict's message names the condition, field or counter it was read from.
"""

from __future__ import annotations

import re
from typing import Any

from exporter.health.paths import as_int, condition_code, conditions, generation_behind, get, text, value_code
from exporter.health.words import (
    COLOUR_WORDS,
    DEGRADED_WORDS,
    DONE_REASONS,
    HEALTHY_WORDS,
    PAUSED_WORDS,
    PROGRESS_PHASE_WORDS,
    is_negative,
    is_positive,
    is_progress,
)
from exporter.model import Health, HealthResult, KubeObject

#: Words of a condition's reason (CamelCase split into words) that name a failure.
FAILURE_WORDS = frozenset({
    "fail", "failed", "failing", "failure", "failures", "error", "errors", "errored", "invalid", "rejected",
    "denied", "forbidden", "unauthorized", "conflict", "conflicting", "exceeded", "expired", "refused",
    "unhealthy", "degraded", "crash", "crashed", "aborted", "stalled", "unschedulable", "evicted",
    "timeout", "broken", "misconfigured", "unsupported", "unresolved", "unreachable",
})
#: Word pairs that name a failure where the words alone do not (``TimedOut``, ``BackOff``).
FAILURE_PHRASES = frozenset({("timed", "out"), ("back", "off"), ("not", "found"), ("not", "healthy")})
#: Reasons that say work is still under way, for the record: Ready=False with any reason that is
#: not a failure is Progressing, these included.
PROGRESS_WORDS = frozenset({
    "pending", "progressing", "reconciling", "notready", "waiting", "creating", "updating", "initializing",
    "provisioning", "inprogress", "starting", "deploying", "scaling", "installing", "upgrading",
})
#: Condition types that, when True, mean the object is paused on purpose.
PAUSE_CONDITIONS = ("Paused", "Suspended", "Cordoned", "Stopped", "Hibernated")

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


def all_conditions(obj: KubeObject) -> list[dict[str, Any]]:
    """Every condition the status holds, where operators put them: ``status.conditions``, the
    conditions of a nested block (``status.v1beta2.conditions``, one level down) and a single
    ``status.condition`` object."""
    status = obj.get("status")
    if not isinstance(status, dict):
        return []
    found = conditions(obj)
    for key, block in status.items():
        if key != "conditions" and isinstance(block, dict) and isinstance(block.get("conditions"), list):
            found += [c for c in block["conditions"] if isinstance(c, dict)]
    single = status.get("condition")
    if isinstance(single, dict) and single.get("type"):
        found.append(single)
    return found


def _status_of(cond: dict[str, Any]) -> str:
    value = cond.get("status")
    return ("True" if value else "False") if isinstance(value, bool) else text(value)


def _by_polarity(obj: KubeObject, conds: list[dict[str, Any]]) -> HealthResult | None:
    """Negative conditions that hold, then positive ones: any one not holding decides (a failing
    sub-resource is not hidden behind a top-level ``Ready=True``), all holding is Healthy."""
    for cond in conds:
        if is_negative(text(cond.get("type"))) and _status_of(cond) == "True":
            return HealthResult(Health.DEGRADED, _described(cond), reason=condition_code(cond))
    for cond in conds:
        if is_progress(text(cond.get("type"))) and _status_of(cond) == "True" \
                and not text(cond.get("reason")).endswith(DONE_REASONS):
            return HealthResult(Health.PROGRESSING, _described(cond), reason=condition_code(cond))
    positive = [c for c in conds if is_positive(text(c.get("type")))]
    for cond in positive:
        if _stale(obj, cond):
            return _from_readiness(obj, cond)
    failing = [c for c in positive if _status_of(c) == "False"]
    for cond in failing:
        if names_failure(text(cond.get("reason"))):
            return HealthResult(Health.DEGRADED, _described(cond), reason=condition_code(cond))
    for cond in failing + [c for c in positive if _status_of(c) != "True"]:
        return HealthResult(Health.PROGRESSING, _described(cond), reason=condition_code(cond))
    if positive:
        ready = next((c for c in positive if c.get("type") == "Ready"), positive[0])
        return HealthResult(Health.HEALTHY, _described(ready), reason=condition_code(ready))
    return None


def _word_health(key: str, value: str) -> Health | None:
    """What one status word says by the tables, or None for a word they lack."""
    word = value.lower().replace("_", "").replace("-", "").replace(" ", "")
    if key.lower().endswith("health") and word in COLOUR_WORDS:
        return Health(COLOUR_WORDS[word])
    for words, health in ((DEGRADED_WORDS, Health.DEGRADED), (PAUSED_WORDS, Health.SUSPENDED),
                          (HEALTHY_WORDS, Health.HEALTHY), (PROGRESS_PHASE_WORDS, Health.PROGRESSING)):
        if word in words:
            return health
    return Health.DEGRADED if word.endswith("failed") else None


def _words(status: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, word) of the status fields that carry a state word, most telling first: ``phase``,
    ``state``, ``health``, a string ``status``, the ``*Status``/``*State``/``*Phase`` fields, then
    the same fields one block down (``status.cluster.status``)."""
    first = [(k, status[k]) for k in ("phase", "state", "health", "status") if isinstance(status.get(k), str)]
    suffixed = sorted((k, v) for k, v in status.items() if isinstance(v, str) and k not in ("phase", "state", "health",
                      "status") and k.endswith(("Status", "State", "Phase")))
    nested = [(f"{k}.{inner}", block[inner]) for k, block in sorted(status.items()) if isinstance(block, dict)
              for inner in ("status", "phase", "state") if isinstance(block.get(inner), str)]
    return [(k, v) for k, v in first + suffixed + nested if v]


def _word_verdict(status: dict[str, Any]) -> HealthResult | None:
    """A state word from the tables of :mod:`exporter.health.words`; a word they lack says nothing."""
    for key, value in _words(status):
        health = _word_health(key.rpartition(".")[2], value)
        if health is not None:
            message = f"{key}: {value}" + (f": {text(status.get('message'))}" if status.get("message") else "")
            return HealthResult(health, message, reason=value_code(key.replace(".", "_"), value))
    return None


def _replica_verdict(obj: KubeObject, status: dict[str, Any]) -> HealthResult | None:
    """``readyReplicas`` (else ``availableReplicas``) against the replicas asked for."""
    wanted = get(obj, "spec.replicas", status.get("replicas"))
    ready = status.get("readyReplicas", status.get("availableReplicas"))
    if not isinstance(wanted, int) or isinstance(wanted, bool) or not isinstance(ready, int):
        return None
    if ready >= wanted:
        return HealthResult(Health.HEALTHY, f"{ready} of {wanted} replicas ready", reason="replicasReady")
    return HealthResult(Health.PROGRESSING, f"Waiting for replicas: {ready} of {wanted} ready", reason="tooFewReady")


def assess(obj: KubeObject) -> HealthResult | None:
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return None
    for field in ("suspend", "paused", "pause"):
        if get(obj, f"spec.{field}") is True:
            return HealthResult(Health.SUSPENDED, f"spec.{field} is true", reason=field)
    conds = all_conditions(obj)
    for cond in conds:
        if text(cond.get("type")) in PAUSE_CONDITIONS and _status_of(cond) == "True":
            return HealthResult(Health.SUSPENDED, _described(cond), reason=condition_code(cond))
    for cond in conds:
        if text(cond.get("type")) == "Stalled" and _status_of(cond) == "True":
            return HealthResult(Health.DEGRADED, _described(cond), reason=condition_code(cond))
    if generation_behind(obj):
        return HealthResult(Health.PROGRESSING, "Waiting for the controller to observe the latest generation",
                            reason="generationNotObserved")
    for cond in conds:
        if text(cond.get("type")) == "Reconciling" and _status_of(cond) == "True":
            return HealthResult(Health.PROGRESSING, _described(cond), reason=condition_code(cond))
    failure = status.get("failureMessage") or status.get("failureReason")
    if isinstance(failure, str) and failure:
        return HealthResult(Health.DEGRADED, failure, reason="failure")
    return _by_polarity(obj, conds) or _word_verdict(status) or _replica_verdict(obj, status)
