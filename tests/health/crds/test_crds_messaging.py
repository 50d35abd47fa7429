"""Health of custom resources, kafka and other messaging operators. One behaviour per test."""

from __future__ import annotations

from crd_objects import obj

from exporter.health import assess
from exporter.model import Health


def kafka(config_state: str, topic: str = "CruiseControlTopicReady") -> dict:
    broker = {"configurationState": config_state, "gracefulActionState": {"cruiseControlState": "GracefulUpscaleSucceeded"}}
    return obj("kafka.banzaicloud.io/v1beta1", "KafkaCluster",
               {"state": "ClusterRunning", "brokersState": {"0": broker}, "cruiseControlTopicStatus": topic})


def test_banzai_kafka_running_with_a_broker_config_out_of_sync_is_degraded() -> None:
    assert assess(kafka("ConfigOutOfSync")).status is Health.DEGRADED
    assert assess(kafka("ConfigInSync")).status is Health.HEALTHY


def test_banzai_kafka_running_without_cruise_control_topic_is_progressing() -> None:
    assert assess(kafka("ConfigInSync", topic="ClusterRollingUpgrading")).status is Health.PROGRESSING
