"""Health of custom resources, openKruise. One behaviour per test."""

from __future__ import annotations

from crd_objects import c, obj

from exporter.health import assess
from exporter.model import Health, HealthResult


def test_game_server_with_a_failing_pod_condition_is_degraded_whatever_its_state() -> None:
    server = obj("game.kruise.io/v1alpha1", "GameServer",
                 {"currentState": "Ready", "podStatus": {"conditions": [c("Ready", "True"), c("KruisePodReady", "False")]}})
    assert assess(server) == HealthResult(Health.DEGRADED, "Pod is not ready: KruisePodReady")
