"""Health of custom resources, databases and storage operators. One behaviour per test."""

from __future__ import annotations

from crd_objects import obj

from exporter.health import assess
from exporter.model import Health, HealthResult


def test_cassandra_cluster_is_healthy_when_every_rack_has_its_members_ready() -> None:
    racks = {"a": {"members": 3, "readyMembers": 3}, "b": {"members": 2, "readyMembers": 2}}
    assert assess(obj("cassandra.rook.io/v1alpha1", "Cluster", {"racks": racks})).status is Health.HEALTHY
    racks["b"]["readyMembers"] = 1
    assert assess(obj("cassandra.rook.io/v1alpha1", "Cluster", {"racks": racks})) == \
        HealthResult(Health.PROGRESSING, "Waiting for Cassandra Cluster")


def test_percona_xtradb_says_how_many_nodes_are_ready() -> None:
    cluster = obj("pxc.percona.com/v1", "PerconaXtraDBCluster", {"state": "stopping", "ready": 1, "size": 2})
    assert assess(cluster) == HealthResult(Health.DEGRADED, "Cluster is stopping (1/2 node(s) are ready)")
