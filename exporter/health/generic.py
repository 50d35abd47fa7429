"""Fallback health for custom resources that no check covers.

Most controllers written since kstatus and the Flux toolkit report the same three conditions:
``Ready``, ``Stalled`` and ``Reconciling``, plus ``status.observedGeneration``. Reading them gives
an honest verdict for kinds nobody wrote a check for. An object without a status, or whose status
speaks none of these, gets no verdict (None) rather than a guess: a wrong "Healthy" hides an
outage and a wrong "Degraded" pages someone at night.
"""

from __future__ import annotations

from exporter.health.paths import condition, generation_behind, text
from exporter.model import Health, HealthResult, KubeObject


def assess(obj: KubeObject) -> HealthResult | None:
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return None
    stalled = condition(obj, "Stalled")
    if stalled is not None and stalled.get("status") == "True":
        return HealthResult(Health.DEGRADED, text(stalled.get("message")))
    if generation_behind(obj):
        return HealthResult(Health.PROGRESSING, "Waiting for the controller to observe the latest generation")
    reconciling = condition(obj, "Reconciling")
    if reconciling is not None and reconciling.get("status") == "True":
        return HealthResult(Health.PROGRESSING, text(reconciling.get("message")))
    ready = condition(obj, "Ready")
    if ready is None:
        return None
    message = text(ready.get("message"))
    if ready.get("status") == "True":
        return HealthResult(Health.HEALTHY, message)
    if ready.get("status") == "False":
        return HealthResult(Health.DEGRADED, message)
    return HealthResult(Health.PROGRESSING, message)
