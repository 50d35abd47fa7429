"""Databases and storage: PostgreSQL, MariaDB, Percona, Cassandra, ClickHouse, Elasticsearch, Solr,
ZooKeeper, MinIO, Rook, Astra, Trident, volume snapshots and data volumes."""

from __future__ import annotations

from collections.abc import Sequence

from exporter.health.crds.common import Rules, cond, conventional, default, no_status
from exporter.health.paths import as_int, get, mapping, text
from exporter.health.rules import Step
from exporter.model import Health, HealthResult, KubeObject

RULES = Rules()
WILDCARDS: list[tuple[str, str, Sequence[Step]]] = []


_MINIO_PROGRESS = ("Provisioning", "Waiting", "Updating", "Restarting", "Decommissioning", "Adding",
                   "Expanding", "Initializing", "Creating")

RULES[("minio.min.io", "Tenant")] = [
    no_status("Progressing", "No status info available"),
    {"field": "status.currentState", "equals": "Initialized", "health": "Healthy", "message": "{value}"},
    lambda obj: (HealthResult(Health.PROGRESSING, text(get(obj, "status.currentState")))
                 if text(get(obj, "status.currentState")).startswith(_MINIO_PROGRESS)
                 or text(get(obj, "status.currentState")).startswith("<") else None),
    {"field": "status.currentState", "present": True, "health": "Degraded", "message": "{value}"},
    default("Progressing", "No status info available"),
]

def percona_xtradb(obj: KubeObject) -> HealthResult:
    """Percona XtraDB Cluster: the state, with how many nodes are ready and the operator's messages."""
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return HealthResult(Health.PROGRESSING, "Waiting for status")
    nodes = f"{text(status.get('ready'))}/{text(status.get('size'))} node(s) are ready"
    state = text(status.get("state"))
    if state in ("ready", "initializing"):
        return HealthResult(Health.HEALTHY if state == "ready" else Health.PROGRESSING, nodes)
    if state == "stopping":
        return HealthResult(Health.DEGRADED, f"Cluster is stopping ({nodes})")
    if state == "paused":
        return HealthResult(Health.UNKNOWN, "Cluster is paused")
    if state == "error":
        messages = status.get("message")
        detail = "; ".join(map(text, messages)) if isinstance(messages, list) else text(messages)
        return HealthResult(Health.DEGRADED, f"Cluster is on error: {detail}" if detail else "Cluster is on error")
    return HealthResult(Health.UNKNOWN, f"Cluster status is unknown ({state or 'no state'})")

RULES[("pxc.percona.com", "PerconaXtraDBCluster")] = [percona_xtradb]

def elasticsearch(obj: KubeObject) -> HealthResult:
    status = obj.get("status")
    if not isinstance(status, dict) or not status.get("health"):
        return HealthResult(Health.UNKNOWN, "Elasticsearch Cluster status is unknown")
    health, phase = text(status.get("health")), text(status.get("phase"))
    if health == "red":
        return HealthResult(Health.DEGRADED, "Elasticsearch Cluster status is Red")
    if health == "yellow":
        return HealthResult(Health.PROGRESSING, "Elasticsearch Cluster status is Yellow")
    if phase and phase != "Ready":
        return HealthResult(Health.PROGRESSING, f"Elasticsearch phase is {phase}")
    want = sum(as_int(n.get("count")) for n in get(obj, "spec.nodeSets") or [] if isinstance(n, dict))
    if want and as_int(status.get("availableNodes")) < want:
        return HealthResult(Health.PROGRESSING, f"The desired amount of availableNodes is {want} but the current amount is "
                               f"{as_int(status.get('availableNodes'))}")
    if health == "green":
        return HealthResult(Health.HEALTHY, "Elasticsearch Cluster status is Green")
    return HealthResult(Health.UNKNOWN, "Elasticsearch Cluster status is unknown")

RULES[("elasticsearch.k8s.elastic.co", "Elasticsearch")] = [elasticsearch]

RULES[("postgresql.cnpg.io", "Cluster")] = [
    lambda obj: (HealthResult(Health.SUSPENDED, "Cluster reconciliation is suspended")
                 if mapping(obj, "metadata.annotations").get("cnpg.io/reconciliationLoop") == "disabled"
                 else None),
    cond("cnpg.io/hibernation", "True", "Suspended", "Cluster has been hibernated"),
    cond("Ready", "True", "Healthy", "{.status.phase}"),
    lambda obj: (HealthResult(Health.DEGRADED, text(get(obj, "status.phase")))
                 if "fail" in text(get(obj, "status.phase")).lower() else None),
    {"default": "Progressing", "message": "{.status.phase}"},
]

RULES[("cdi.kubevirt.io", "DataVolume")] = [
    {"phase": {"Succeeded": "Healthy", "Failed": "Degraded"}, "message": "{value}"},
    cond("Running", "False", "Degraded", reason="Error"),
    {"field": "status.phase", "present": True, "health": "Progressing", "message": "{.status.phase}"},
    default("Progressing", "Waiting for the status to be reported"),
]

_MARIADB: list[Step] = [cond("Ready", "True", "Healthy"), cond("Ready", "False", "Degraded", reason="Failed"),
                        cond("Ready", "False", "Progressing"),
                        default("Progressing", "Waiting for MariaDB")]

RULES[("k8s.mariadb.com", "MariaDB")] = _MARIADB

RULES[("mariadb.mmontes.io", "MariaDB")] = _MARIADB

RULES[("k8s.mariadb.com", "SqlJob")] = [cond("Complete", "True", "Degraded", "{reason} Failed", reason="JobFailed"),
                                        conventional]

for _k in ("VolumeSnapshot", "VolumeSnapshotContent"):
    RULES[("snapshot.storage.k8s.io", _k)] = [
        {"field": "status.error", "health": "Degraded", "message": "{.status.error.message}"},
        {"field": "status.readyToUse", "equals": "true", "health": "Healthy", "message": "Ready to use"},
        default("Progressing", "Waiting for status"),
    ]

def _astra(kind: str) -> list[Step]:
    return [
        no_status("Progressing", "No status available"),
        {"phase": {"Completed": "Healthy", "completed": "Healthy", "available": "Healthy",
                   "Failed": "Degraded", "failed": "Degraded", "Error": "Degraded",
                   "Running": "Progressing"},
         "field": "status.state", "message": kind + " {value}"},
        conventional,
    ]

for _k in ("AppVault", "Backup", "ExecHooksRun", "ResourceBackup", "ResticVolumeBackup", "Snapshot"):
    RULES[("astra.netapp.io", _k)] = _astra(_k)

RULES[("astra.netapp.io", "ExecHook")] = [
    {"field": "spec.enabled", "equals": "true", "health": "Healthy", "message": "ExecHook enabled"},
    {"field": "spec.enabled", "equals": "false", "health": "Suspended", "message": "ExecHook disabled"},
    default("Progressing", "No status available"),
]

RULES[("astra.netapp.io", "Schedule")] = [
    {"field": "status.lastScheduleTime", "health": "Healthy",
     "message": "Protection policy lastScheduleTime: {value}"},
    default("Healthy", "Protection policy not yet executed"),
]

RULES[("psmdb.percona.com", "PerconaServerMongoDB")] = [
    {"field": "status.state", "present": False, "health": "Unknown",
     "message": "{.status.ready}/{.status.size} node(s) are ready"},
    {"phase": {"ready": "Healthy", "initializing": "Progressing", "stopping": "Progressing", "paused": "Suspended",
               "error": "Degraded"},
     "field": "status.state", "message": "{.status.ready}/{.status.size} node(s) are ready"},
    conventional,
]

RULES[("trident.netapp.io", "TridentBackendConfig")] = [
    {"field": "status.lastOperationStatus", "in": ["Progressing", "Pending"], "health": "Progressing",
     "message": "Waiting for backend creation"},
    {"field": "status.lastOperationStatus", "equals": "Failed", "health": "Degraded", "message": "{.status.message}"},
    conventional,
]

RULES[("ceph.rook.io", "CephCluster")] = [
    {"field": "status.ceph.health", "in": ["HEALTH_WARN", "HEALTH_ERR"], "health": "Degraded",
     "message": "Ceph health is {value}"},
    conventional,
]

def rook_cassandra(obj: KubeObject) -> HealthResult:
    """Rook Cassandra reports members and ready members per rack, and no conditions."""
    racks = get(obj, "status.racks")
    if isinstance(racks, dict) and racks and all(
            isinstance(r, dict) and as_int(r.get("readyMembers")) >= as_int(r.get("members")) for r in racks.values()):
        return HealthResult(Health.HEALTHY, "")
    return HealthResult(Health.PROGRESSING, "Waiting for Cassandra Cluster")

RULES[("cassandra.rook.io", "Cluster")] = [rook_cassandra]
