"""Conformance cases where this engine deliberately disagrees with Argo CD, and why.

Keys are case inputs relative to the conformance folder (``crd/<group>/<Kind>/testdata/x.yaml``);
values give our status and the reason. The conformance test prints this table and does not count
these cases as failures.
"""

from __future__ import annotations

DELIBERATE: dict[str, tuple[str, str]] = {
    "crd/batch/CronJob/testdata/suspended.yaml": (
        "Suspended",
        "A CronJob with spec.suspend is intentionally paused, which is what Suspended means for a "
        "Deployment or Job too; Argo CD calls it Healthy.",
    ),
}

_SUSPENDED_FLINK_JOB = (
    "The FlinkDeployment has spec.job.state: suspended, a job its owner paused on purpose: Suspended, "
    "as for a suspended Job or CronJob, so that it is neither counted healthy nor alerted on. "
    "Argo CD calls it Healthy."
)
for _input in (
    "flink.apache.org/FlinkDeployment/testdata/healthy_suspended_v0.1.x.yaml",
    "flink.apache.org/FlinkDeployment/testdata/healthy_suspended_v1.x.yaml",
):
    DELIBERATE[f"crd/{_input}"] = ("Suspended", _SUSPENDED_FLINK_JOB)

_PENDING_DELETION = (
    "The object has metadata.deletionTimestamp. Argo CD's CRD tests run the Lua check alone, but "
    "Argo CD itself (like this engine) reports any object being deleted as Progressing, "
    '"Pending deletion", before any kind-specific check.'
)
for _input in (
    "astra.netapp.io/ResticVolumeBackup/testdata/degraded.yaml",
    "kafka.strimzi.io/KafkaBridge/testdata/degraded.yaml",
    "kafka.strimzi.io/KafkaBridge/testdata/healthy.yaml",
    "kafka.strimzi.io/KafkaConnect/testdata/degraded.yaml",
    "kafka.strimzi.io/KafkaConnect/testdata/healthy.yaml",
    "kafka.strimzi.io/KafkaConnector/testdata/degraded.yaml",
    "kafka.strimzi.io/KafkaConnector/testdata/healthy.yaml",
    "kubevirt.io/VirtualMachineInstance/testdata/suspended_succeeded.yaml",
):
    DELIBERATE[f"crd/{_input}"] = ("Progressing", _PENDING_DELETION)


#: Deliberate differences from Argo CD on objects its conformance cases do not cover: a name for
#: the case, then (Argo CD's status, ours, why). Each has a test built from the description.
OUTSIDE_CONFORMANCE: dict[str, tuple[str, str, str]] = {
    "batch/Job with a Failed=False condition": (
        "Degraded", "Progressing",
        "Argo CD counts any condition of type Failed as a failure, whatever its status; the Job API "
        "sets Failed=True when a Job fails, and a False condition is no failure (some controllers and "
        "tools write Failed=False while the Job runs). Only True conditions count here.",
    ),
    "policy/PodDisruptionBudget with DisruptionAllowed=False (InsufficientPods) alone": (
        "Healthy", "Progressing",
        "Fewer healthy pods than the budget wants means evictions are blocked until pods come up: "
        "work under way, not healthy. A SyncFailed condition beside it is Degraded, as in Argo CD.",
    ),
    "flink.apache.org/FlinkDeployment with status.lifecycleState ROLLING_BACK": (
        "Healthy", "Progressing",
        "The Flink operator is rolling back to the last stable spec (its docs: lifecycle state "
        "ROLLING_BACK); the job is not where the spec says until ROLLED_BACK.",
    ),
    "flink.apache.org/FlinkDeployment suspended in the spec, lifecycleState still UPGRADING": (
        "Healthy", "Progressing",
        "spec.job.state: suspended asks the operator to suspend; until the lifecycle state says "
        "SUSPENDED the job is still being stopped.",
    ),
}
