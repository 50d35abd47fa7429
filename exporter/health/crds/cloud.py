"""Cloud resources: Crossplane and Upbound, Config Connector, Karpenter and other cloud controllers."""

from __future__ import annotations

from collections.abc import Sequence

from exporter.health.crds.common import Rules, cond, conventional, default, no_status
from exporter.health.paths import get, text
from exporter.health.rules import Step
from exporter.model import Health, HealthResult

RULES = Rules()
WILDCARDS: list[tuple[str, str, Sequence[Step]]] = []


_UP_TO_DATE = no_status("Healthy", "Resource is up-to-date.")

WILDCARDS.extend([
    ("*.crossplane.io", "*", [_UP_TO_DATE, conventional]),
    ("*.upbound.io", "*", [_UP_TO_DATE, conventional]),
    ("*.cnrm.cloud.google.com", "*", [
        {"generation": True, "message": "Update in progress"},
        cond("Ready", "False", "Suspended", "Dependency not ready", reason="DependencyNotReady"),
        cond("Ready", "False", "Degraded", "Dependency not found", reason="DependencyNotFound"),
        cond("Ready", "False", "Progressing", "Update in progress", reason="Updating"),
        {"field": "status.healthy", "equals": "true", "health": "Healthy", "message": "{.kind} is healthy"},
        {"field": "status.healthy", "equals": "false", "health": "Degraded", "message": "{.kind} is not healthy"},
        conventional]),
])

RULES[("networking.gke.io", "ManagedCertificate")] = [
    lambda obj: (HealthResult(Health.DEGRADED, "At least one certificate has failed to be provisioned")
                 if any(text(d.get("status")).startswith("Failed") for d in get(obj, "status.domainStatus") or []
                        if isinstance(d, dict)) else None),
    {"field": "status.certificateStatus", "equals": "Active", "health": "Healthy",
     "message": "All certificates are active"},
    default("Progressing", "Waiting for certificate to be provisioned"),
]

RULES[("cloudfront.aws.crossplane.io", "Distribution")] = [
    cond("Synced", "False", "Suspended", "{reason}", reason="ReconcilePaused"),
    cond("Synced", "False", "Degraded"),
    cond("Ready", "True", "Healthy", "Distribution is available"),
    default("Progressing", "Waiting for distribution to be available"),
]

RULES[("karpenter.sh", "NodeClaim")] = [cond("Disrupting", "True", "Suspended", "TTL expired", reason="Expired"),
                                       conventional]

RULES[("iammanager.keikoproj.io", "Iamrole")] = [
    {"field": "status.errorDescription", "health": "Degraded",
     "message": "Failed to reconcile the Iamrole for role '{.status.roleName}': {value}"},
    conventional,
]

RULES[("stacks.crossplane.io", "ClusterStackInstall")] = [
    cond("Ready", "True", "Healthy", "Resource is available for use", **{"in": "status.conditionedStatus.conditions"}),
    conventional,
]
