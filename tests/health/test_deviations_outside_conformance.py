"""Deliberate differences from Argo CD on objects outside its conformance cases, each one built from
its entry in ``deviations.OUTSIDE_CONFORMANCE`` and checked against the engine, citing the operator's
own documentation for our side."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.health import assess
from exporter.health.deviations import OUTSIDE_CONFORMANCE
from exporter.model import Health

CASES: dict[str, dict[str, Any]] = {
    "batch/Job with a Failed=False condition": {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"}, "spec": {},
        "status": {"active": 1, "conditions": [{"type": "Failed", "status": "False", "reason": "Running"}]}},
    "policy/PodDisruptionBudget with DisruptionAllowed=False (InsufficientPods) alone": {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"},
        "spec": {"minAvailable": 3}, "status": {"currentHealthy": 2, "desiredHealthy": 3, "conditions": [
            {"type": "DisruptionAllowed", "status": "False", "reason": "InsufficientPods"}]}},
    "flink.apache.org/FlinkDeployment with status.lifecycleState ROLLING_BACK": {
        "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment", "metadata": {"name": "etl"},
        "spec": {"job": {"state": "running"}},
        "status": {"jobManagerDeploymentStatus": "READY", "lifecycleState": "ROLLING_BACK"}},
    "flink.apache.org/FlinkDeployment suspended in the spec, lifecycleState still UPGRADING": {
        "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment", "metadata": {"name": "etl"},
        "spec": {"job": {"state": "suspended"}},
        "status": {"jobManagerDeploymentStatus": "READY", "lifecycleState": "UPGRADING"}},
}


def test_every_documented_deviation_has_a_case_here():
    assert set(CASES) == set(OUTSIDE_CONFORMANCE)


@pytest.mark.parametrize("name", sorted(OUTSIDE_CONFORMANCE))
def test_the_engine_gives_the_documented_verdict(name):
    argo, ours, reason = OUTSIDE_CONFORMANCE[name]
    assert argo != ours and reason
    assert assess(CASES[name]).status is Health(ours)


def test_a_flink_deployment_without_status_waits_for_the_flink_operator():
    result = assess({"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment", "metadata": {"name": "etl"},
                     "spec": {}})
    assert (result.status, result.message) == (Health.PROGRESSING, "Waiting for the Flink operator to deploy the job")


def test_a_flink_job_the_operator_finished_suspending_is_suspended():
    result = assess({**CASES["flink.apache.org/FlinkDeployment suspended in the spec, lifecycleState still UPGRADING"],
                     "status": {"jobManagerDeploymentStatus": "READY", "lifecycleState": "SUSPENDED"}})
    assert result.status is Health.SUSPENDED


@pytest.mark.parametrize("conditions", ["not a list", [{"type": "Complete", "status": "True"}, "garbage"]])
def test_a_job_with_malformed_conditions_is_unknown_not_a_guess(conditions):
    result = assess({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {},
                     "status": {"conditions": conditions}})
    assert (result.status, result.message) == (Health.UNKNOWN, "status.conditions is not a list of conditions")


@pytest.mark.parametrize(("partition", "health"), [("20%", Health.SUSPENDED), ("0%", Health.HEALTHY),
                                                   (2, Health.SUSPENDED), ("0", Health.HEALTHY)])
def test_a_kruise_partition_may_be_a_percentage_of_replicas(partition, health):
    """OpenKruise docs, CloneSet "Partition": an absolute number or a percentage of replicas."""
    cloneset = {"apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet", "metadata": {"name": "c", "generation": 1},
                "spec": {"replicas": 5, "updateStrategy": {"partition": partition}},
                "status": {"observedGeneration": 1, "replicas": 5, "updatedAvailableReplicas": 5}}
    assert assess(cloneset).status is health
