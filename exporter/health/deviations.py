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
