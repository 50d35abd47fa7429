"""Observability: Prometheus Operator, OpenTelemetry, Grafana, Humio, Coralogix, Datadog, Jaeger, Kiali
and Elastic Beats and Logstash."""

from __future__ import annotations

from collections.abc import Sequence

from exporter.health.crds.common import Rules, conventional, default, no_status
from exporter.health.paths import as_int, conditions, get, text
from exporter.health.rules import Step
from exporter.model import Health, HealthResult, KubeObject

RULES = Rules()
WILDCARDS: list[tuple[str, str, Sequence[Step]]] = []


HUMIO: list[Step] = [
    no_status("Progressing", "Update in progress"),
    {"phase": {"Exists": "Healthy", "NotFound": "Missing", "ConfigError": "Degraded", "Unknown": "Unknown"},
     "field": "status.state", "message": "Component state: {value}."},
    default("Progressing", "Update in progress"),
]

for _k in ("HumioAction", "HumioAlert", "HumioIngestToken", "HumioParser", "HumioRepository", "HumioView"):
    RULES[("core.humio.com", _k)] = HUMIO

def otel_collector(obj: KubeObject) -> HealthResult:
    counts = text(get(obj, "status.scale.statusReplicas"))
    if not counts:
        if get(obj, "status.version") is not None:
            return HealthResult(Health.HEALTHY, "Collector is running in sidecar mode")
        return HealthResult(Health.PROGRESSING, "Waiting for the collector to report status")
    ready, _, want = counts.partition("/")
    have, need = as_int(ready), as_int(want)
    if need == 0:
        return HealthResult(Health.HEALTHY, f"DaemonSet has no eligible nodes ({counts})")
    if have >= need:
        return HealthResult(Health.HEALTHY, "All replicas are ready")
    if have == 0:
        return HealthResult(Health.DEGRADED, "No replicas are ready")
    return HealthResult(Health.PROGRESSING, "Replicas are starting up")

RULES[("opentelemetry.io", "OpenTelemetryCollector")] = [otel_collector]

def grafana(obj: KubeObject) -> HealthResult | None:
    status = obj.get("status")
    if not isinstance(status, dict):
        return None
    if status.get("NoMatchingInstances"):
        return HealthResult(Health.DEGRADED, "can't find matching grafana instance")
    if status.get("stageStatus") == "failed":
        return HealthResult(Health.DEGRADED, f"Failed at stage {text(status.get('stage'))}")
    if "stage" in status and status.get("stage") != "complete":
        return HealthResult(Health.PROGRESSING, text(status.get("stage")))
    if not conditions(obj) and status.get("lastResync"):
        return HealthResult(Health.HEALTHY, "")
    return None

for _k in ("Grafana", "GrafanaDashboard", "GrafanaDatasource", "GrafanaFolder"):
    RULES[("grafana.integreatly.org", _k)] = [grafana, conventional]

RULES[("core.humio.com", "HumioCluster")] = [
    {"field": "status.state", "equals": "Running", "health": "Healthy", "message": "Cluster is in a healthy running state"},
    {"field": "status.state", "equals": "Restarting", "health": "Progressing", "message": "Cluster pods are being restarted"},
    {"field": "status.state", "equals": "Upgrading", "health": "Progressing", "message": "Cluster pods are being upgraded"},
    {"field": "status.state", "equals": "Pending", "health": "Progressing",
     "message": "Cluster is waiting on resources to be provisioned"},
    {"field": "status.message", "present": True, "health": "Degraded", "message": "{value}"},
    {"field": "status.state", "equals": "ConfigError", "health": "Degraded",
     "message": "User-provided cluster specification resulted in a configuration error"},
    {"phase": {"Unknown": "Unknown"}, "field": "status.state", "message": "Component state: {value}."},
    conventional,
]

RULES[("beat.k8s.elastic.co", "Beat")] = [
    {"phase": {"green": "Healthy", "yellow": "Progressing", "red": "Degraded"}, "field": "status.health",
     "message": "Elastic Beat status is {value}"},
    {"field": "status.health", "present": True, "health": "Unknown", "message": "Elastic Beat status is unknown"},
    {"field": "status.expectedNodes", "health": "Progressing", "message": "Elastic Beat phase is progressing"},
    default("Unknown", "Elastic Beat status is unknown"),
]


def prometheus_operator(obj: KubeObject) -> HealthResult | None:
    """The Prometheus Operator's kinds (``Prometheus``, ``Alertmanager``, ``ThanosRuler``,
    ``PrometheusAgent``, and any it adds) share one status shape: an ``Available`` condition whose
    status may also be ``Degraded`` (some replicas unavailable), and ``Reconciled``. Its
    configuration kinds (``ServiceMonitor``, ``PrometheusRule`` ...) report no status: no verdict.
    Operator docs: "Prometheus Operator API", ``ConditionStatus`` (True, Degraded, False, Unknown)."""
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return None
    available = next((c for c in conditions(obj) if c.get("type") == "Available"), None)
    if available is not None and available.get("status") == "Degraded":
        return HealthResult(Health.DEGRADED, text(available.get("message")) or f"{text(obj.get('kind'))} is degraded")
    return conventional(obj)


# One rule for the whole group: Prometheus keeps its listing in CONVENTIONAL (Argo CD's cases), the
# others (Alertmanager, ThanosRuler, PrometheusAgent, and kinds the operator adds later) take this.
WILDCARDS.append(("monitoring.coreos.com", "*", [prometheus_operator]))
