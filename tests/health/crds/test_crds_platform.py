"""Health of custom resources, cluster API, Gardener, OpenShift and other platform operators. One behaviour per test."""

from __future__ import annotations

from crd_objects import c, obj

from exporter.health import assess
from exporter.model import Health, HealthResult


def dc(*conditions: dict) -> dict:
    return obj("apps.openshift.io/v1", "DeploymentConfig", {"conditions": list(conditions)})


ROLLED_OUT = c("Progressing", "True", reason="NewReplicationControllerAvailable")


def test_deployment_config_rolled_out_to_zero_replicas_is_healthy() -> None:
    assert assess(dc(ROLLED_OUT, c("Available", "False"))) == \
        HealthResult(Health.HEALTHY, "replication controller successfully rolled out")


def test_deployment_config_available_but_still_rolling_out_is_progressing() -> None:
    result = assess(dc(c("Available", "True"), c("Progressing", "True", reason="ReplicationControllerUpdated")))
    assert result == HealthResult(Health.PROGRESSING, "replication controller is waiting for pods to run")


def test_deployment_config_unavailable_during_a_rollout_is_degraded() -> None:
    assert assess(dc(c("Available", "False"), c("Progressing", "Unknown"))).status is Health.DEGRADED


def capi(phase: str, *conditions: dict) -> dict:
    return obj("cluster.x-k8s.io/v1beta1", "Cluster", {"phase": phase, "conditions": list(conditions)})


def test_capi_cluster_still_provisioning_is_progressing_although_ready() -> None:
    assert assess(capi("Provisioning", c("Ready", "True"))) == HealthResult(Health.PROGRESSING, "Waiting for clusters")


def test_capi_cluster_provisioned_and_ready_is_running() -> None:
    assert assess(capi("Provisioned", c("Ready", "True"))) == HealthResult(Health.HEALTHY, "Cluster is running")


def test_capi_cluster_not_ready_at_severity_error_is_degraded_and_at_info_progressing() -> None:
    failing = c("Ready", "False", severity="Error", message="quota exceeded")
    assert assess(capi("Provisioning", failing)) == HealthResult(Health.DEGRADED, "quota exceeded")
    assert assess(capi("Provisioning", c("Ready", "False", severity="Info"))).status is Health.PROGRESSING


def eks(ready: bool, *conditions: dict) -> dict:
    return obj("controlplane.cluster.x-k8s.io/v1beta2", "AWSManagedControlPlane",
               {"ready": ready, "conditions": list(conditions)})


def test_eks_control_plane_upgrading_is_progressing_while_ready() -> None:
    plane = eks(True, c("Ready", "True"), c("EKSControlPlaneUpdating", "True"))
    assert assess(plane) == HealthResult(Health.PROGRESSING, "EKS control plane is updating")


def test_eks_control_plane_ready_is_healthy() -> None:
    assert assess(eks(True, c("Ready", "True"))) == HealthResult(Health.HEALTHY, "Control plane is ready")
