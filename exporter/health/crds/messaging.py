"""Messaging: RabbitMQ, Strimzi and Banzai Kafka, Confluent."""

from __future__ import annotations

from collections.abc import Sequence

from exporter.health.crds.common import Rules, cond, conventional, default, no_status
from exporter.health.paths import as_int, get, text
from exporter.health.rules import Step
from exporter.model import Health, HealthResult, KubeObject

RULES = Rules()
WILDCARDS: list[tuple[str, str, Sequence[Step]]] = []


def _rabbit(noun: str) -> list[Step]:
    return [
        cond("Ready", "True", "Healthy", f"RabbitMQ {noun} ready"),
        cond("Ready", "False", "Degraded", f"RabbitMQ {noun} failed to be created or updated"),
        default("Unknown", f"RabbitMQ {noun} status is unknown"),
    ]

for _k in ("Binding", "Exchange", "Permission", "Policy", "Queue", "Shovel", "User", "Vhost"):
    RULES[("rabbitmq.com", _k)] = _rabbit(_k.lower())

RULES[("rabbitmq.com", "RabbitmqCluster")] = [
    no_status("Progressing", "Waiting for RabbitMQ Operator"),
    cond("ReconcileSuccess", "False", "Degraded"),
    cond("ClusterAvailable", "Unknown", "Progressing", "Waiting for RabbitMQ cluster readiness"),
    cond("AllReplicasReady", "False", "Progressing", "Waiting for RabbitMQ cluster formation"),
    cond("ClusterAvailable", "False", "Progressing", "Waiting for RabbitMQ cluster formation"),
    cond("AllReplicasReady", "True", "Healthy", "RabbitMQ cluster ready"),
    default("Progressing", "Waiting for RabbitMQ cluster readiness"),
]

def _strimzi() -> list[Step]:
    return [cond("NotReady", "True", "Degraded"), cond("Ready", "True", "Healthy", ""),
            cond("Ready", "False", "Degraded"), default("Progressing", "")]

for _k in ("Kafka", "KafkaBridge", "KafkaConnect", "KafkaConnector", "KafkaTopic", "KafkaUser"):
    RULES[("kafka.strimzi.io", _k)] = _strimzi()

RULES[("platform.confluent.io", "Connector")] = [
    lambda obj: (HealthResult(Health.DEGRADED, "Connector has failed tasks")
                 if as_int(get(obj, "status.failedTasksCount")) > 0 else None),
    {"field": "status.connectorState", "equals": "FAILED", "health": "Degraded", "message": "Connector is failed"},
    conventional,
]

_CRUISE_CONTROL_OK = ("Succeeded", "Ready")

def banzai_kafka_cluster(obj: KubeObject) -> HealthResult:
    """Banzai Cloud (Koperator) KafkaCluster: cluster state, per-broker configuration sync and
    Cruise Control. ``ClusterRunning`` alone is not healthy while a broker's config is out of sync."""
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return HealthResult(Health.PROGRESSING, "Waiting for KafkaCluster")
    state = text(status.get("state"))
    if state == "ClusterReconciling":
        return HealthResult(Health.PROGRESSING, "Kafka Cluster is Reconciling.")
    if state == "ClusterRollingUpgrading":
        return HealthResult(Health.PROGRESSING, "Kafka Cluster is Rolling Upgrading.")
    if state != "ClusterRunning":
        return HealthResult(Health.PROGRESSING, "Waiting for KafkaCluster")
    brokers = [b for b in (status.get("brokersState") or {}).values() if isinstance(b, dict)]
    for broker in brokers:
        cruise = text(get(broker, "gracefulActionState.cruiseControlState"))
        if broker.get("configurationState") == "ConfigOutOfSync" or (cruise and not cruise.endswith(_CRUISE_CONTROL_OK)
                                                                      and "Fail" in cruise):
            return HealthResult(Health.DEGRADED, "Broker Config is out of Sync or CruiseControlState is not Ready")
    if status.get("cruiseControlTopicStatus") == "CruiseControlTopicReady":
        return HealthResult(Health.HEALTHY, "Kafka Brokers, CruiseControl and cluster are in Healthy State.")
    return HealthResult(Health.PROGRESSING, "Waiting for KafkaCluster")

RULES[("kafka.banzaicloud.io", "KafkaCluster")] = [banzai_kafka_cluster]
