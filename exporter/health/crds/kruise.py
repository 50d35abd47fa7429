"""OpenKruise workloads, games and rollouts."""

from __future__ import annotations

import math
from collections.abc import Sequence

from exporter.health.crds.common import (
    GENERATION,
    Rules,
    cond,
    condition_status,
    conventional,
    default,
    no_status,
    numeric_behind,
)
from exporter.health.paths import as_int, conditions, get, mapping, text
from exporter.health.rules import Step
from exporter.model import Health, HealthResult, KubeObject

RULES = Rules()
WILDCARDS: list[tuple[str, str, Sequence[Step]]] = []


def _partition(value: object, replicas: int) -> int:
    """Pods a partition holds back: a count, or a percentage of replicas rounded up (Kruise docs,
    CloneSet "Partition": "it can be an absolute number or a percentage")."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            percent = float(value.strip()[:-1])
        except ValueError:
            return 0
        return math.ceil(replicas * percent / 100)
    return as_int(value)


def kruise_workload(noun: str, ready_field: str, want_field: str) -> Step:
    """CloneSet, Advanced StatefulSet and Advanced DaemonSet: paused or held by a partition is a
    deliberate stop (Suspended); fewer updated-and-ready pods than wanted is Degraded."""
    def check(obj: KubeObject) -> HealthResult:
        status = obj.get("status")
        if not isinstance(status, dict) or not status or numeric_behind(obj):
            return HealthResult(Health.PROGRESSING, "Waiting for initialization")
        strategy = get(obj, "spec.updateStrategy")
        strategy = strategy if isinstance(strategy, dict) else {}
        nested = strategy.get("rollingUpdate")
        rolling: dict[str, object] = nested if isinstance(nested, dict) else strategy
        if rolling.get("paused") is True or strategy.get("paused") is True:
            return HealthResult(Health.SUSPENDED, f"{noun} is paused")
        if _partition(rolling.get("partition"), as_int(get(obj, "spec.replicas"), 1)) > 0:
            return HealthResult(Health.SUSPENDED, f"{noun} needs manual intervention")
        want = as_int(status.get(want_field))
        ready = as_int(status.get(ready_field))
        if want == 0:
            return HealthResult(Health.PROGRESSING, "Waiting for initialization")
        if ready < want:
            return HealthResult(Health.DEGRADED, "Some pods are not ready or available" if noun == "Daemonset"
                                else "Some replicas are not ready or available")
        return HealthResult(Health.HEALTHY, f"All {noun} workloads are ready and updated")
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
        return HealthResult(Health.SUSPENDED, "GameServerSet is paused")
    if as_int(rolling.get("partition")) > 0:
        return HealthResult(Health.SUSPENDED, f"Partition={as_int(rolling.get('partition'))}, waiting for manual intervention")
    return None

RULES[("game.kruise.io", "GameServerSet")] = [_game_server_set, conventional]

RULES[("rollouts.kruise.io", "Rollout")] = [
    GENERATION,
    {"phase": {"Disabled": "Degraded", "Terminating": "Degraded"}, "message": "Rollout is Disabled or Terminating"},
    {"field": "status.canaryStatus.currentStepState", "equals": "StepPaused", "health": "Suspended",
     "message": "Rollout is Paused need manual intervention"},
    {"phase": {"Healthy": "Healthy", "Progressing": "Progressing", "Initial": "Progressing"},
     "message": "{.status.message}"},
    default("Progressing", "Waiting for rollout"),
]

def kruise_game_server(obj: KubeObject) -> HealthResult | None:
    """OpenKruise Game: a GameServer whose pod has a failing condition is not serving, whatever
    its state says."""
    for c in conditions(obj, "status.podStatus.conditions"):
        if condition_status(c) == "False":
            return HealthResult(Health.DEGRADED, f"Pod is not ready: {text(c.get('type'))}")
    return None

RULES.extend_front(("game.kruise.io", "GameServer"), [kruise_game_server])
