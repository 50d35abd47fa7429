"""Core kinds, one behaviour per test, with small inline objects."""

from __future__ import annotations

import json

import pytest

from exporter.health import assess
from exporter.model import Health, HealthResult


def deployment(**status: object) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "generation": 2},
            "spec": {"replicas": 3}, "status": {"observedGeneration": 2, **status}}


def pod(policy: str = "Always", annotations: dict | None = None, **status: object) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": annotations or {}},
            "spec": {"restartPolicy": policy}, "status": status}


READY = [{"type": "Ready", "status": "True"}]
BACKOFF = [{"name": "app", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "no such image"}}}]


def test_any_object_being_deleted_is_progressing_pending_deletion() -> None:
    obj = deployment(updatedReplicas=3, replicas=3, availableReplicas=3)
    obj["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    assert assess(obj) == HealthResult(Health.PROGRESSING, "Pending deletion")


def test_fully_rolled_out_deployment_is_healthy() -> None:
    assert assess(deployment(updatedReplicas=3, replicas=3, availableReplicas=3)).status is Health.HEALTHY


def test_paused_deployment_is_suspended() -> None:
    obj = deployment(updatedReplicas=3, replicas=3, availableReplicas=3)
    obj["spec"]["paused"] = True
    assert assess(obj).status is Health.SUSPENDED


def test_deployment_past_progress_deadline_is_degraded_with_its_name() -> None:
    obj = deployment(updatedReplicas=1, conditions=[{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}])
    result = assess(obj)
    assert result.status is Health.DEGRADED and '"web"' in result.message


def test_deployment_with_unobserved_generation_is_progressing() -> None:
    obj = deployment(updatedReplicas=3, replicas=3, availableReplicas=3, observedGeneration=1)
    assert assess(obj).status is Health.PROGRESSING


def test_statefulset_waiting_for_ready_pods_is_progressing() -> None:
    obj = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"generation": 1}, "spec": {"replicas": 3},
           "status": {"observedGeneration": 1, "readyReplicas": 1}}
    assert assess(obj).message == "Waiting for 2 pods to be ready..."


def test_pod_in_image_pull_backoff_is_degraded_with_the_container_message() -> None:
    result = assess(pod(phase="Pending", containerStatuses=BACKOFF))
    assert result.status is Health.DEGRADED and result.message == "no such image"


def test_run_once_pod_in_backoff_is_not_degraded_so_hooks_can_recover() -> None:
    assert assess(pod("Never", phase="Pending", containerStatuses=BACKOFF)).status is Health.PROGRESSING


def test_ignore_restart_policy_annotation_treats_run_once_pod_like_a_service() -> None:
    annotations = {"argocd.argoproj.io/ignore-restart-policy": "true"}
    assert assess(pod("Never", annotations, phase="Running", conditions=READY)).status is Health.HEALTHY


def test_ignore_restart_policy_annotation_does_not_apply_to_hooks() -> None:
    annotations = {"argocd.argoproj.io/ignore-restart-policy": "true", "argocd.argoproj.io/hook": "PostSync"}
    assert assess(pod("Never", annotations, phase="Running", conditions=READY)).status is Health.PROGRESSING


def test_failed_pod_reports_the_failing_container_exit_code() -> None:
    statuses = [{"name": "app", "state": {"terminated": {"exitCode": 3}}}]
    result = assess(pod("Never", phase="Failed", containerStatuses=statuses))
    assert result.status is Health.DEGRADED and result.message == 'container "app" failed with exit code 3'


def test_pvc_phases() -> None:
    def pvc(phase: str) -> Health:
        return assess({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "status": {"phase": phase}}).status
    assert (pvc("Bound"), pvc("Pending"), pvc("Lost")) == (Health.HEALTHY, Health.PROGRESSING, Health.DEGRADED)


def test_load_balancer_service_without_address_is_progressing() -> None:
    svc = {"apiVersion": "v1", "kind": "Service", "spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {}}}
    assert assess(svc).status is Health.PROGRESSING
    svc["status"]["loadBalancer"]["ingress"] = [{"ip": "10.0.0.1"}]
    assert assess(svc).status is Health.HEALTHY


def test_ingress_without_address_is_progressing() -> None:
    ing = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "status": {"loadBalancer": {}}}
    assert assess(ing).status is Health.PROGRESSING


def test_suspended_job_is_suspended() -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job",
           "status": {"conditions": [{"type": "Suspended", "status": "True", "message": "Job suspended"}]}}
    assert assess(job).status is Health.SUSPENDED


def test_failed_job_is_degraded_with_the_condition_message() -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job",
           "status": {"conditions": [{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}]}}
    assert assess(job) is not None and assess(job).message == "BackoffLimitExceeded"


def test_hpa_failing_condition_wins_over_an_earlier_healthy_one() -> None:
    conds = [{"type": "AbleToScale", "status": "True", "reason": "SucceededGetScale"},
             {"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric", "message": "no metrics"}]
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "status": {"conditions": conds}}
    assert assess(hpa).status is Health.DEGRADED


def test_hpa_v1_reads_conditions_from_the_annotation() -> None:
    conds = [{"type": "AbleToScale", "status": "True", "reason": "SucceededRescale", "message": "scaled"}]
    hpa = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
           "metadata": {"annotations": {"autoscaling.alpha.kubernetes.io/conditions": json.dumps(conds)}}}
    assert assess(hpa).status is Health.HEALTHY


def test_apiservice_unavailable_is_progressing_with_reason_and_message() -> None:
    api = {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "status": {"conditions": [
        {"type": "Available", "status": "False", "reason": "MissingEndpoints", "message": "no endpoints"}]}}
    assert assess(api).message == "MissingEndpoints: no endpoints"


def test_unknown_kind_without_status_gets_no_verdict() -> None:
    assert assess({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {}}) is None


def test_unknown_kind_with_ready_false_for_a_failure_reason_is_degraded() -> None:
    obj = {"apiVersion": "example.com/v1", "kind": "Widget",
           "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "AuthenticationFailed",
                                      "message": "bad credentials"}]}}
    assert assess(obj).status is Health.DEGRADED


def test_unknown_kind_with_stale_observed_generation_is_progressing() -> None:
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"generation": 3},
           "status": {"observedGeneration": 2, "conditions": [{"type": "Ready", "status": "True"}]}}
    assert assess(obj).status is Health.PROGRESSING


def test_garbage_object_never_raises() -> None:
    weird = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": "x", "spec": [], "status": "y"}
    assert assess(weird) is not None


def test_wildcard_crd_rule_covers_every_kind_in_a_provider_group() -> None:
    bucket = {"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket", "status": {"conditions": [
        {"type": "Ready", "status": "True", "reason": "Available"},
        {"type": "Synced", "status": "False", "reason": "ReconcileError", "message": "access denied"}]}}
    assert assess(bucket) == HealthResult(Health.DEGRADED, "access denied")


def test_argo_rollout_paused_by_a_step_is_suspended_with_the_pause_reason() -> None:
    rollout = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"generation": 2},
               "spec": {"replicas": 1}, "status": {"observedGeneration": "2",
                                                   "pauseConditions": [{"reason": "CanaryPauseStep"}]}}
    assert assess(rollout) == HealthResult(Health.SUSPENDED, "CanaryPauseStep")


def test_argo_application_has_no_builtin_check_like_in_argo_cd() -> None:
    app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "status": {"health": {"status": "Degraded"}}}
    assert assess(app) is None


@pytest.mark.parametrize("api_version, kind", [
    ("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("apps/v1", "DaemonSet"), ("apps/v1", "ReplicaSet"),
    ("v1", "Pod"), ("v1", "Service"), ("batch/v1", "Job"), ("batch/v1", "CronJob"),
    ("autoscaling/v1", "HorizontalPodAutoscaler"), ("argoproj.io/v1alpha1", "Rollout"),
    ("kafka.strimzi.io/v1beta2", "Kafka"), ("s3.aws.upbound.io/v1beta1", "Bucket"),
])
@pytest.mark.parametrize("junk", ["text", 3, [1, "a"], {"conditions": "x", "replicas": "many"}])
def test_checks_read_malformed_fields_without_failing(api_version: str, kind: str, junk: object) -> None:
    obj = {"apiVersion": api_version, "kind": kind, "metadata": {"annotations": junk, "generation": junk},
           "spec": {"replicas": junk, "updateStrategy": junk, "strategy": junk}, "status": junk}
    result = assess(obj)
    assert result is None or not result.message.startswith("health check failed")
