"""Health of custom resources, application runtimes: Camel K, Flink, Keycloak, 3scale and friends. One behaviour per test."""

from __future__ import annotations

from crd_objects import c, obj

from exporter.health import assess
from exporter.model import Health, HealthResult

UNUSED_STRATEGY = c("CronJobAvailable", "False", message="different controller strategy used (knative-service)")


def test_camel_integration_ignores_conditions_of_unused_deployment_strategies() -> None:
    status = {"phase": "Running", "conditions": [UNUSED_STRATEGY, c("Ready", "True")]}
    assert assess(obj("camel.apache.org/v1", "Integration", status)) == HealthResult(Health.HEALTHY, "")


def test_camel_integration_deploying_is_progressing() -> None:
    status = {"phase": "Deploying", "conditions": [UNUSED_STRATEGY]}
    assert assess(obj("camel.apache.org/v1", "Integration", status)) == \
        HealthResult(Health.PROGRESSING, "Waiting for Integration")


def test_camel_integration_in_error_carries_the_ready_message() -> None:
    status = {"phase": "Error", "conditions": [c("Ready", "False", reason="Error", message="back-off 40s")]}
    assert assess(obj("camel.apache.org/v1", "Integration", status)) == HealthResult(Health.DEGRADED, "back-off 40s")


def test_3scale_account_waiting_for_approval_is_suspended() -> None:
    status = {"conditions": [c("Waiting", "True", message="waiting for admin approval")]}
    assert assess(obj("capabilities.3scale.net/v1beta1", "DeveloperAccount", status)) == \
        HealthResult(Health.SUSPENDED, "waiting for admin approval")


def test_3scale_ready_kind_says_so_in_argo_cds_words() -> None:
    status = {"conditions": [c("Ready", "True")]}
    assert assess(obj("capabilities.3scale.net/v1beta1", "Tenant", status)) == \
        HealthResult(Health.HEALTHY, "3scale Tenant is ready")


def test_flink_job_suspended_by_its_owner_is_suspended() -> None:
    flink = obj("flink.apache.org/v1beta1", "FlinkDeployment",
                {"jobManagerDeploymentStatus": "MISSING", "jobStatus": {"state": "SUSPENDED"}},
                spec={"job": {"state": "suspended"}})
    assert assess(flink) == HealthResult(Health.SUSPENDED, "Flink job is suspended")


def test_flink_reconciliation_error_is_degraded_with_the_error() -> None:
    flink = obj("flink.apache.org/v1beta1", "FlinkDeployment",
                {"jobManagerDeploymentStatus": "ERROR", "reconciliationStatus": {"error": "bad memory config"}})
    assert assess(flink) == HealthResult(Health.DEGRADED, "bad memory config")


def test_keycloak_not_ready_during_a_rolling_update_is_progressing() -> None:
    status = {"conditions": [c("Ready", "False", message="Waiting for more replicas"), c("HasErrors", "False"),
                             c("RollingUpdate", "True")]}
    assert assess(obj("k8s.keycloak.org/v2alpha1", "Keycloak", status)).status is Health.PROGRESSING


def test_keycloak_with_errors_is_degraded() -> None:
    status = {"conditions": [c("Ready", "False"), c("HasErrors", "True", message="CrashLoopBackOff")]}
    assert assess(obj("k8s.keycloak.org/v2alpha1", "Keycloak", status)) == \
        HealthResult(Health.DEGRADED, "Has Errors: CrashLoopBackOff")
