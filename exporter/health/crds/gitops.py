"""GitOps sources and secrets: Flux, Pulumi, External Secrets, 1Password, Sealed Secrets and Kyverno."""

from __future__ import annotations

from collections.abc import Sequence

from exporter.health.crds.common import Rules, cond, conventional
from exporter.health.rules import Step

RULES = Rules()
WILDCARDS: list[tuple[str, str, Sequence[Step]]] = []


RULES[("source.toolkit.fluxcd.io", "HelmRepository")] = [
    {"field": "spec.type", "equals": "oci", "health": "Healthy",
     "message": "Helm repositories of type 'oci' do not contain any information in the status."},
    conventional,
]

RULES[("external-secrets.io", "ClusterExternalSecret")] = [
    cond("NotReady", "True", "Degraded", "one or more namespaces failed"),
    cond("Ready", "True", "Healthy", ""),
    cond("PartiallyReady", "True", "Degraded", "one or more namespaces failed"),
    conventional,
]
