"""Beside its message, a verdict carries a short reason code (as kstatus's ``tooFewReady``): what
a dashboard groups objects by and an alert rule matches on, without parsing sentences."""

from __future__ import annotations

from exporter.health import HealthEngine
from exporter.model import Health


def deployment(**status: object) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "generation": 2},
            "spec": {"replicas": 3}, "status": {"observedGeneration": 2, **status}}


def test_a_rollout_short_of_available_replicas_says_too_few_available() -> None:
    verdict = HealthEngine().assess(deployment(replicas=3, updatedReplicas=3, availableReplicas=1))
    assert verdict is not None and (verdict.status, verdict.reason) == (Health.PROGRESSING, "tooFewAvailable")


def test_a_rollout_past_its_deadline_says_so() -> None:
    stuck = deployment(updatedReplicas=1, conditions=[
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}])
    verdict = HealthEngine().assess(stuck)
    assert verdict is not None and (verdict.status, verdict.reason) == (Health.DEGRADED, "progressDeadlineExceeded")


def test_a_controller_behind_the_spec_says_generation_not_observed() -> None:
    behind = deployment(observedGeneration=1)
    verdict = HealthEngine().assess(behind)
    assert verdict is not None and verdict.reason == "generationNotObserved"


def test_a_crash_looping_container_gives_the_kubelet_s_own_reason() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"restartPolicy": "Always"},
           "status": {"phase": "Running", "containerStatuses": [
               {"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m"}}}]}}
    verdict = HealthEngine().assess(pod)
    assert verdict is not None and (verdict.status, verdict.reason) == (Health.DEGRADED, "CrashLoopBackOff")


def test_a_custom_resource_read_by_its_conditions_gives_the_condition_s_reason() -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
              "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "QuotaExceeded",
                                         "message": "no quota"}]}}
    verdict = HealthEngine().assess(widget)
    assert verdict is not None and verdict.reason == "QuotaExceeded"


def test_a_condition_without_a_reason_is_named_by_type_and_status() -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
              "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    verdict = HealthEngine().assess(widget)
    assert verdict is not None and (verdict.status, verdict.reason) == (Health.HEALTHY, "ReadyTrue")


def test_the_reason_code_does_not_change_what_counts_as_the_same_verdict() -> None:
    a = HealthEngine().assess(deployment(replicas=3, updatedReplicas=3, availableReplicas=3))
    assert a is not None and a.reason == "rolledOut"
    from dataclasses import replace
    assert replace(a, reason="other") == a


def test_an_operator_s_resource_read_by_convention_gives_its_failing_condition_s_reason() -> None:
    sealed = {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "s"},
              "status": {"conditions": [{"type": "Synced", "status": "False", "reason": "ErrUnsealFailed",
                                         "message": "no key could decrypt secret"}]}}
    verdict = HealthEngine().assess(sealed)
    assert verdict is not None and (verdict.status, verdict.reason) == (Health.DEGRADED, "ErrUnsealFailed")


def test_a_status_word_becomes_a_code_named_by_its_field() -> None:
    cluster = {"apiVersion": "acid.zalan.do/v1", "kind": "postgresql", "metadata": {"name": "db"},
               "status": {"PostgresClusterStatus": "SyncFailed"}}
    verdict = HealthEngine().assess(cluster)
    assert verdict is not None and verdict.status is Health.DEGRADED
    assert verdict.reason == "PostgresClusterStatusSyncFailed"
