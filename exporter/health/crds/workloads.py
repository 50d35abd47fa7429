"""Applications and runtimes: CRDs themselves, Knative and KServe serving, Spark, Flink, Keycloak, Camel K,
3scale, KEDA, KubeVirt, OpenFaaS, SpinKube, Ansible and PodDisruptionBudgets."""

from __future__ import annotations

from collections.abc import Sequence

from exporter.health.crds.common import (
    Rules,
    cond,
    condition_status,
    conventional,
    default,
    no_status,
)
from exporter.health.paths import condition, conditions, get, text
from exporter.health.rules import Step
from exporter.model import Health, HealthResult, KubeObject

RULES = Rules()
WILDCARDS: list[tuple[str, str, Sequence[Step]]] = []


RULES[("tower.ansible.com", "AnsibleJob")] = [
    no_status("Progressing", "Waiting for AnsibleJob"),
    {"phase": {"successful": "Healthy", "failed": "Degraded", "error": "Degraded", "canceled": "Degraded",
               "new": "Progressing", "pending": "Progressing", "running": "Progressing",
               "waiting": "Progressing"},
     "field": "status.ansibleJobResult.status", "message": "{value} job - {.status.ansibleJobResult.url}"},
    default("Progressing", "Waiting for AnsibleJob"),
]

RULES[("proclaim.dogmatiq.io", "DNSSDServiceInstance")] = [
    cond("Adopted", "False", "Degraded"),
    cond("Advertised", "False", "Degraded"),
    cond("Discoverable", "Unknown", "Unknown"),
    cond("Discoverable", "False", "Progressing"),
    cond("Discoverable", "True", "Healthy"),
    default("Progressing", "Waiting for DNS-SD advertisement"),
]

RULES[("kubevirt.io", "VirtualMachine")] = [
    {"phase": {"Stopped": "Suspended", "Paused": "Suspended", "Running": "Healthy", "Starting": "Progressing",
               "Provisioning": "Progressing", "Migrating": "Progressing", "Stopping": "Progressing",
               "Terminating": "Progressing", "ErrorUnschedulable": "Degraded", "ErrImagePull": "Degraded",
               "ImagePullBackOff": "Degraded", "CrashLoopBackOff": "Degraded", "DataVolumeError": "Degraded",
               "ErrorPvcNotFound": "Degraded"},
     "field": "status.printableStatus", "message": "{value}"},
    conventional,
]

RULES[("kubevirt.io", "VirtualMachineInstance")] = [
    cond("Paused", "True", "Suspended"),
    {"phase": {"Succeeded": "Suspended", "Running": "Healthy", "Failed": "Degraded", "Pending": "Progressing",
               "Scheduling": "Progressing", "Scheduled": "Progressing", "Unknown": "Unknown"},
     "message": "{value}"},
    conventional,
]

def kserve(obj: KubeObject) -> HealthResult | None:
    transition = text(get(obj, "status.modelStatus.transitionStatus"))
    if transition in ("BlockedByFailedLoad", "InvalidSpec"):
        return HealthResult(Health.DEGRADED, f"0: transitionStatus | {transition}")
    if transition == "InProgress":
        return HealthResult(Health.PROGRESSING, f"0: transitionStatus | {transition}")
    return None

RULES[("serving.kserve.io", "InferenceService")] = [cond("Stopped", "True", "Suspended",
                                                         "InferenceService is Stopped"), kserve, conventional]

def crd(obj: KubeObject) -> HealthResult:
    conds = conditions(obj)
    if not conds:
        return HealthResult(Health.PROGRESSING, "Status conditions not found")
    by_type = {text(c.get("type")): c for c in conds}
    terminating = by_type.get("Terminating")
    if terminating is not None and condition_status(terminating) == "True":
        return HealthResult(Health.PROGRESSING, f"CRD is terminating: {text(terminating.get('message'))}")
    names = by_type.get("NamesAccepted")
    if names is not None and condition_status(names) == "False":
        return HealthResult(Health.DEGRADED, f"CRD names have not been accepted: {text(names.get('message'))}")
    violations = by_type.get("NonStructuralSchema")
    if violations is not None and condition_status(violations) == "True":
        return HealthResult(Health.DEGRADED, f"Schema violations found: {text(violations.get('message'))}")
    established = by_type.get("Established")
    if established is not None and condition_status(established) == "False":
        if established.get("reason") == "Installing":
            return HealthResult(Health.PROGRESSING, "CRD is being installed")
        return HealthResult(Health.DEGRADED, "CRD is not established")
    return HealthResult(Health.HEALTHY, "CRD is healthy")

RULES[("apiextensions.k8s.io", "CustomResourceDefinition")] = [crd]

RULES[("policy", "PodDisruptionBudget")] = [
    cond("DisruptionAllowed", "True", "Healthy", "PodDisruptionBudget has {reason}"),
    cond("DisruptionAllowed", "False", "Degraded", "PodDisruptionBudget has {reason}", reason="SyncFailed"),
    cond("DisruptionAllowed", "False", "Progressing", "PodDisruptionBudget has {reason}"),
    default("Progressing", "Waiting for status"),
]

RULES[("keda.sh", "ScaledJob")] = [cond("Ready", "Unknown", "Degraded", reason="PartialTriggerError"), conventional]

RULES[("openfaas.com", "Function")] = [cond("Healthy", "False", "Suspended", "No replicas available",
                                            reason="ReplicaAvailable"), conventional]

RULES[("core.spinkube.dev", "SpinApp")] = [
    no_status("Progressing", "Waiting for status to be available"),
    cond("Progressing", "False", "Degraded", reason="ProgressDeadlineExceeded"),
    cond("Progressing", "True", "Progressing"),
    cond("Available", "True", "Healthy",
         "Application is healthy with {.status.readyReplicas}/{.spec.replicas} replicas ready"),
    default("Progressing", "Waiting for status to be available"),
]

def spark_application(obj: KubeObject) -> HealthResult:
    """Spark operator: the application state in words, and the driver's error when it failed."""
    verdict = conventional(obj)
    state = text(get(obj, "status.applicationState.state"))
    if verdict.status is Health.DEGRADED:
        return HealthResult(Health.DEGRADED, text(get(obj, "status.applicationState.errorMessage")) or verdict.message)
    if state:
        return HealthResult(verdict.status, "SparkApplication is " + state.replace("_", " ").title())
    return verdict

RULES[("sparkoperator.k8s.io", "SparkApplication")] = [spark_application]

def camel_integration(obj: KubeObject) -> HealthResult:
    """Camel K: conditions for the deployment strategies not in use are False by design, so only
    the phase and the Ready condition count."""
    phase = text(get(obj, "status.phase"))
    ready = condition(obj, "Ready")
    if phase == "Error" or (ready is not None and condition_status(ready) == "False" and ready.get("reason") == "Error"):
        return HealthResult(Health.DEGRADED, text((ready or {}).get("message")) or "Integration is in phase Error")
    if phase == "Running" and ready is not None and condition_status(ready) == "True":
        return HealthResult(Health.HEALTHY, "")
    return HealthResult(Health.PROGRESSING, "Waiting for Integration")

def threescale(obj: KubeObject) -> HealthResult:
    """3scale operator kinds: the conventions, Argo CD's wording, and ``Waiting`` (an account
    waiting for an administrator's approval) as a deliberate pause."""
    kind = text(obj.get("kind"))
    waiting = condition(obj, "Waiting")
    if waiting is not None and condition_status(waiting) == "True":
        return HealthResult(Health.SUSPENDED, text(waiting.get("message")) or f"3scale {kind} is waiting for admin approval")
    verdict = conventional(obj)
    if verdict.status is Health.HEALTHY:
        return HealthResult(Health.HEALTHY, f"3scale {kind} is {'synced' if kind in ('Backend', 'Product') else 'ready'}")
    if verdict.status is Health.PROGRESSING and not conditions(obj):
        return HealthResult(Health.PROGRESSING, f"Waiting for 3scale {kind} status...")
    return verdict

#: Flink operator lifecycle states that are work under way (Flink Kubernetes Operator docs,
#: "Custom Resource Overview", ResourceLifecycleState): never Healthy or Suspended yet.
_FLINK_UNDER_WAY = {"CREATED", "DEPLOYED", "UPGRADING", "ROLLING_BACK"}


def flink_deployment(obj: KubeObject) -> HealthResult:
    """Apache Flink operator: the reconciliation error, the lifecycle state, the job manager
    deployment status, and a job the user suspended (``spec.job.state: suspended``). A rollback in
    progress, or a suspension the operator has not finished, is Progressing."""
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return HealthResult(Health.PROGRESSING, "Waiting for the Flink operator to deploy the job")
    error = get(obj, "status.reconciliationStatus.error")
    deployment = text(status.get("jobManagerDeploymentStatus"))
    lifecycle = text(status.get("lifecycleState")).upper()
    if error or deployment == "ERROR" or lifecycle == "FAILED":
        return HealthResult(Health.DEGRADED, text(error) or "Job manager deployment failed")
    if lifecycle == "ROLLING_BACK":
        return HealthResult(Health.PROGRESSING, "Rolling back to the last stable spec")
    if text(get(obj, "spec.job.state")).lower() == "suspended":
        if lifecycle in _FLINK_UNDER_WAY:
            return HealthResult(Health.PROGRESSING, "Suspending the Flink job")
        return HealthResult(Health.SUSPENDED, "Flink job is suspended")
    if deployment == "READY":
        return HealthResult(Health.HEALTHY, "")
    return HealthResult(Health.PROGRESSING, "Waiting for deploying")

def keycloak(obj: KubeObject) -> HealthResult:
    """Keycloak operator: Ready is False throughout a rolling update, which is progress."""
    conds = conditions(obj)
    if not conds:
        return HealthResult(Health.PROGRESSING, "Waiting for Keycloak status conditions to exist")
    errors = condition(obj, "HasErrors")
    if errors is not None and condition_status(errors) == "True":
        return HealthResult(Health.DEGRADED, f"Has Errors: {text(errors.get('message'))}")
    rolling = condition(obj, "RollingUpdate")
    if rolling is not None and condition_status(rolling) == "True":
        return HealthResult(Health.PROGRESSING, "")
    ready = condition(obj, "Ready")
    if ready is not None and condition_status(ready) == "True":
        return HealthResult(Health.HEALTHY, "")
    if ready is not None and condition_status(ready) == "False":
        return HealthResult(Health.DEGRADED, f"Not Ready: {text(ready.get('message'))}")
    return HealthResult(Health.PROGRESSING, "Waiting for Keycloak to be ready")

RULES[("camel.apache.org", "Integration")] = [camel_integration]

for _k in ("ActiveDoc", "Application", "ApplicationAuth", "Backend", "CustomPolicyDefinition", "DeveloperAccount",
           "DeveloperUser", "OpenAPI", "Product", "ProxyConfigPromote", "Tenant"):
    RULES[("capabilities.3scale.net", _k)] = [threescale]

RULES[("flink.apache.org", "FlinkDeployment")] = [flink_deployment]

RULES[("k8s.keycloak.org", "Keycloak")] = [keycloak]
