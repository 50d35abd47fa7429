"""Cluster and platform lifecycle: Cluster API, Gardener, Karmada, Open Cluster Management, OLM,
OpenShift, Istio and Knative operators, NMState."""

from __future__ import annotations

from collections.abc import Sequence

from exporter.health.crds.common import (
    GENERATION,
    Rules,
    cond,
    condition_status,
    conventional,
    numeric_behind,
)
from exporter.health.paths import as_int, condition, conditions, get, mapping, text
from exporter.health.rules import Step
from exporter.model import Health, HealthResult, KubeObject

RULES = Rules()
WILDCARDS: list[tuple[str, str, Sequence[Step]]] = []


def karmada_binding(obj: KubeObject) -> HealthResult:
    """A binding is as healthy as its copies in member clusters; all must be applied."""
    insufficient = HealthResult(Health.PROGRESSING, "Current resource status is insufficient")
    clusters = get(obj, "spec.clusters")
    aggregated = [a for a in get(obj, "status.aggregatedStatus") or [] if isinstance(a, dict)]
    if not aggregated or (isinstance(clusters, list) and len(aggregated) < len(clusters)):
        return insufficient
    for entry in aggregated:
        if entry.get("applied") is not True or entry.get("health") == "Unhealthy":
            return HealthResult(Health.DEGRADED, "Current resource status is unhealthy")
    return HealthResult(Health.HEALTHY, "")

RULES[("work.karmada.io", "ResourceBinding")] = [karmada_binding]

RULES[("work.karmada.io", "ClusterResourceBinding")] = [karmada_binding]

def olm_subscription(obj: KubeObject) -> HealthResult:
    """OLM Subscription: failing conditions first, then a pending install plan or unpacking."""
    conds = conditions(obj)
    lines = [f"{i}: {text(c.get('type'))} | {text(c.get('status'))}" for i, c in enumerate(conds, 1)]
    state = text(get(obj, "status.state"))
    lines.append(f".status.state is '{state}'" if state else ".status.state not yet known")
    message = "".join(line + "\n" for line in lines)
    true = {text(c.get("type")) for c in conds if condition_status(c) == "True"}
    if true & {"CatalogSourcesUnhealthy", "InstallPlanFailed", "ResolutionFailed"}:
        return HealthResult(Health.DEGRADED, message)
    if "BundleUnpacking" in true:
        return HealthResult(Health.PROGRESSING, message)
    pending = condition(obj, "InstallPlanPending")
    if pending is not None and condition_status(pending) == "True" and pending.get("reason") != "RequiresApproval":
        return HealthResult(Health.PROGRESSING, message)
    if "InstallPlanMissing" in true or state in ("AtLatestKnown", "UpgradePending", "UpgradeAvailable"):
        return HealthResult(Health.HEALTHY, message)
    return HealthResult(Health.PROGRESSING, message)

RULES[("operators.coreos.com", "Subscription")] = [olm_subscription]

RULES[("cluster.x-k8s.io", "MachineHealthCheck")] = [
    lambda obj: (None if get(obj, "status.expectedMachines") is None else
                 HealthResult(Health.HEALTHY if as_int(get(obj, "status.currentHealthy")) >= as_int(get(obj, "status.expectedMachines"))
                              else Health.DEGRADED, "")),
    conventional,
]

RULES[("cluster.x-k8s.io", "MachineDeployment")] = [
    {"suspended": "spec.paused", "message": "MachineDeployment is paused"},
    GENERATION,
    {"phase": {"Failed": "Degraded", "ScalingUp": "Progressing", "ScalingDown": "Progressing",
               "Running": "Healthy"}, "message": "MachineDeployment is {value}"},
    conventional,
]

def condition_table(obj: KubeObject) -> str:
    return "".join(f"{i}: {text(c.get('type'))} | {text(c.get('status'))}\n"
                   for i, c in enumerate(conditions(obj), 1))

def knative_operator(obj: KubeObject) -> HealthResult:
    table = condition_table(obj)
    ready = condition(obj, "Ready")
    if ready is None or condition_status(ready) in ("False", "Unknown"):
        return HealthResult(Health.PROGRESSING, table)
    if condition_status(ready) == "True":
        return HealthResult(Health.HEALTHY, table)
    return HealthResult(Health.DEGRADED, table)

RULES[("operator.knative.dev", "KnativeServing")] = [knative_operator]

RULES[("operator.knative.dev", "KnativeEventing")] = [knative_operator]

def openshift_route(obj: KubeObject) -> HealthResult:
    ingress = [i for i in get(obj, "status.ingress") or [] if isinstance(i, dict)]
    admitted = [c for i in ingress for c in conditions(i, "conditions") if c.get("type") == "Admitted"]
    if not admitted:
        return HealthResult(Health.PROGRESSING, "Route is still getting admitted")
    if any(condition_status(c) == "False" for c in admitted):
        return HealthResult(Health.DEGRADED, "Route is degraded")
    if all(condition_status(c) == "True" for c in admitted):
        return HealthResult(Health.HEALTHY, "Route is healthy")
    return HealthResult(Health.PROGRESSING, "Route is still getting admitted")

RULES[("route.openshift.io", "Route")] = [openshift_route]

RULES[("core.gardener.cloud", "Shoot")] = [
    lambda obj: {
        "healthy": HealthResult(Health.HEALTHY, "Component state: Healthy"),
        "unhealthy": HealthResult(Health.DEGRADED, "Component state: Unhealthy"),
        "progressing": HealthResult(Health.PROGRESSING, "Component state: Update in progress"),
        "unknown": HealthResult(Health.UNKNOWN, "Component state: Unknown"),
    }.get(text(mapping(obj, "metadata.labels").get("shoot.gardener.cloud/status")).lower()),
    conventional,
]

def ocm_policy(obj: KubeObject) -> HealthResult:
    status = obj.get("status")
    if get(obj, "spec.disabled") is True:
        return HealthResult(Health.HEALTHY, "Policy is disabled")
    if not isinstance(status, dict) or not status:
        return HealthResult(Health.PROGRESSING, "Waiting for the status to be reported")
    compliant = status.get("compliant")
    if compliant is None:
        if status.get("placement"):
            return HealthResult(Health.HEALTHY, "No clusters match this policy")
        return HealthResult(Health.PROGRESSING, "Waiting for the status to be reported")
    if compliant == "Compliant":
        return HealthResult(Health.HEALTHY, "All clusters are compliant" if status.get("status") is not None
                            else "All templates are compliant")
    if compliant == "NonCompliant":
        rows = status.get("status") or status.get("details") or []
        names = [text(r.get("clustername") or get(r, "templateMeta.name")) for r in rows
                 if isinstance(r, dict) and r.get("compliant") == "NonCompliant"]
        what = "clusters" if status.get("status") is not None else "templates"
        return HealthResult(Health.DEGRADED, f"NonCompliant {what}: {', '.join(names)}")
    return HealthResult(Health.PROGRESSING, "Waiting for the status to be reported")

RULES[("policy.open-cluster-management.io", "Policy")] = [ocm_policy]

def _evaluated_generation(obj: KubeObject) -> HealthResult | None:
    seen = get(obj, "status.lastEvaluatedGeneration")
    if isinstance(seen, int) and seen < as_int(get(obj, "metadata.generation")):
        return HealthResult(Health.PROGRESSING, "Waiting for the status to be updated")
    if get(obj, "kind") == "OperatorPolicy" and condition(obj, "Compliant") is None:
        return HealthResult(Health.PROGRESSING, "Waiting for the compliance condition")
    return None

for _k in ("ConfigurationPolicy", "OperatorPolicy", "CertificatePolicy"):
    RULES[("policy.open-cluster-management.io", _k)] = [_evaluated_generation, conventional]

RULES[("nmstate.io", "NodeNetworkConfigurationPolicy")] = [cond("Ignored", "True", "Suspended", "{reason}"),
                                                           conventional]

def deployment_config(obj: KubeObject) -> HealthResult:
    """OpenShift DeploymentConfig: the Progressing condition's reason says whether the latest
    replication controller rolled out; availability alone does not (a DeploymentConfig scaled to
    zero is unavailable yet fully rolled out)."""
    if not isinstance(obj.get("status"), dict) or not obj["status"]:
        return HealthResult(Health.PROGRESSING, "Waiting for the controller to report status")
    progressing, available = condition(obj, "Progressing"), condition(obj, "Available")
    if progressing is not None and condition_status(progressing) == "True" \
            and progressing.get("reason") == "NewReplicationControllerAvailable":
        return HealthResult(Health.HEALTHY, "replication controller successfully rolled out")
    if available is not None and condition_status(available) == "False":
        return HealthResult(Health.DEGRADED, "Deployment config is degraded")
    return HealthResult(Health.PROGRESSING, "replication controller is waiting for pods to run")

def capi_cluster(obj: KubeObject) -> HealthResult:
    """Cluster API Cluster: the phase leads. Ready is True early in provisioning, so only a
    ``Provisioned`` cluster is running; a False condition is a failure only at severity Error."""
    if get(obj, "spec.paused") is True:
        return HealthResult(Health.SUSPENDED, "Cluster is paused")
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return HealthResult(Health.PROGRESSING, "Waiting for clusters")
    if status.get("failureMessage") or status.get("failureReason"):
        return HealthResult(Health.DEGRADED, text(status.get("failureMessage") or status.get("failureReason")))
    ready = condition(obj, "Ready")
    phase = text(status.get("phase"))
    if ready is not None and condition_status(ready) == "False" and (ready.get("severity") == "Error" or phase == "Failed"):
        return HealthResult(Health.DEGRADED, text(ready.get("message") or ready.get("reason")))
    if phase == "Failed":
        return HealthResult(Health.DEGRADED, "Cluster failed")
    if phase == "Provisioned" and (ready is None or condition_status(ready) == "True"):
        return HealthResult(Health.HEALTHY, "Cluster is running")
    return HealthResult(Health.PROGRESSING, "Waiting for clusters")

def aws_managed_control_plane(obj: KubeObject) -> HealthResult:
    """EKS control plane (Cluster API AWS): an upgrade in flight is Progressing although Ready
    stays True, and ``status.ready`` and the Ready condition can disagree while it settles."""
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return HealthResult(Health.PROGRESSING, "Waiting for the control plane to report status")
    if status.get("failureMessage") or status.get("failureReason"):
        return HealthResult(Health.DEGRADED, text(status.get("failureMessage") or status.get("failureReason")))
    if numeric_behind(obj):
        return HealthResult(Health.PROGRESSING, "Waiting for the control plane spec to be reconciled")
    conds = conditions(obj)
    errors = [c for c in conds if c.get("severity") == "Error" and condition_status(c) == "False"]
    if errors:
        return HealthResult(Health.DEGRADED, " ".join(text(c.get("message") or c.get("reason")) for c in errors))
    updating = condition(obj, "EKSControlPlaneUpdating")
    if updating is not None and condition_status(updating) == "True":
        return HealthResult(Health.PROGRESSING, "EKS control plane is updating")
    ready = condition(obj, "Ready")
    if ready is not None and condition_status(ready) == "True" and status.get("ready") is True:
        return HealthResult(Health.HEALTHY, "Control plane is ready")
    if status.get("ready") is False:
        return HealthResult(Health.PROGRESSING, "Control plane is not ready (.status.ready is false)")
    return HealthResult(Health.PROGRESSING, "Control plane is not ready")

RULES[("apps.openshift.io", "DeploymentConfig")] = [deployment_config]

RULES[("cluster.x-k8s.io", "Cluster")] = [capi_cluster]

RULES[("controlplane.cluster.x-k8s.io", "AWSManagedControlPlane")] = [aws_managed_control_plane]
