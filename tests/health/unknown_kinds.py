"""Health cases for custom resources no built-in rule covers, each written from its operator's
own documentation or API types (named in ``source``), with the verdict those authors describe.

A case's ``expected`` is what the operator's documentation says the state means, not what the
engine answers: the set measures the fallback, it is not tuned to it.
"""

from __future__ import annotations

from typing import Any


def obj(api: str, kind: str, status: dict[str, Any] | None, spec: dict[str, Any] | None = None,
        generation: int = 1) -> dict[str, Any]:
    out: dict[str, Any] = {"apiVersion": api, "kind": kind, "metadata": {"name": "x", "generation": generation},
                           "spec": spec or {}}
    if status is not None:
        out["status"] = status
    return out


def cond(type_: str, status: str, reason: str = "", message: str = "", **extra: Any) -> dict[str, Any]:
    return {"type": type_, "status": status, "reason": reason, "message": message, **extra}


CERT_MANAGER_ACME = "https://cert-manager.io/docs/reference/api-docs/#acme.cert-manager.io/v1.State"
CAPA = "https://github.com/kubernetes-sigs/cluster-api-provider-aws/blob/main/api/v1beta2/conditions_consts.go"
CAPD = "https://github.com/kubernetes-sigs/cluster-api/blob/main/test/infrastructure/docker/api/v1beta1/condition_consts.go"
KCP = "https://github.com/kubernetes-sigs/cluster-api/blob/main/api/controlplane/kubeadm/v1beta1/condition_consts.go"
KCP2 = "https://cluster-api.sigs.k8s.io/developer/providers/contracts/control-plane#controlplane-conditions"
PERCONA_PG = "https://docs.percona.com/percona-operator-for-postgresql/2.0/operator.html#status"
MONGODB_COMMUNITY = ("https://github.com/mongodb/mongodb-kubernetes-operator/blob/master/api/v1/"
                     "mongodbcommunity_types.go")
MONGODB_ENTERPRISE = "https://www.mongodb.com/docs/kubernetes-operator/current/reference/k8s-operator-status/"
CRUNCHY = "https://access.crunchydata.com/documentation/postgres-operator/latest/references/crd"
ECK_KIBANA = "https://github.com/elastic/cloud-on-k8s/blob/main/pkg/apis/kibana/v1/kibana_types.go"
SCYLLA = "https://operator.docs.scylladb.com/stable/resources/scyllaclusters/basics.html#status"
CASS = "https://docs.k8ssandra.io/reference/crd/cass-operator-crds-latest/"
COUCHBASE = "https://docs.couchbase.com/operator/current/resource/couchbasecluster.html#status"
RAY = "https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/observability.html"
NACK = "https://github.com/nats-io/nack/blob/main/pkg/jetstream/apis/jetstream/v1beta2/types.go"
CONSUL = "https://developer.hashicorp.com/consul/docs/k8s/crds#status"
SAIL = "https://github.com/istio-ecosystem/sail-operator/blob/main/docs/README.md"
VELERO_BACKUP = "https://velero.io/docs/main/api-types/backup/"
VELERO_BSL = "https://velero.io/docs/main/api-types/backupstoragelocation/"
KYVERNO = "https://kyverno.io/docs/writing-policies/policy-settings/"
REDPANDA = "https://docs.redpanda.com/current/reference/k-crd/"
EMQX = "https://docs.emqx.com/en/emqx-operator/latest/reference/v2beta1-reference.html"
ARTEMIS = "https://artemiscloud.io/docs/help/operator/#status"
TRUST = "https://cert-manager.io/docs/trust/trust-manager/api-reference/#bundlestatus"
DRAGONFLY = "https://www.dragonflydb.io/docs/managing-dragonfly/operator/dragonfly-configuration"
KUBEBLOCKS = "https://kubeblocks.io/docs/preview/user_docs/references/api-reference/cluster"
GPU = "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/getting-started.html"
TIGERA = "https://docs.tigera.io/calico/latest/reference/installation/api#operator.tigera.io/v1.InstallationStatus"
KUBEVELA = "https://kubevela.io/docs/platform-engineers/operations/observability/#application-status"
HAZELCAST = "https://docs.hazelcast.com/operator/latest/api-ref#phase"
CHAOS_MESH = "https://chaos-mesh.org/docs/inspect-chaos-experiments/"
LITMUS = "https://docs.litmuschaos.io/docs/concepts/chaos-engine/#engine-status"
LOKI = "https://loki-operator.dev/docs/api.md/#loki-grafana-com-v1-LokiStackConditionType"
TEMPO = "https://github.com/grafana/tempo-operator/blob/main/api/tempo/v1alpha1/tempostack_types.go"
MYSQL = "https://dev.mysql.com/doc/mysql-operator/en/mysql-operator-properties.html"
KIALI = "https://kiali.io/docs/installation/installation-guide/install-with-kiali-operator/"
AWX = "https://ansible.readthedocs.io/projects/awx-operator/en/latest/"
NGINX = "https://docs.nginx.com/nginx-ingress-controller/configuration/virtualserver-and-virtualserverroute-resources/#status"
SRIOV = "https://github.com/k8snetworkplumbingwg/sriov-network-operator/blob/master/api/v1/sriovnetworknodestate_types.go"
OPENSEARCH = "https://github.com/opensearch-project/opensearch-k8s-operator/blob/main/docs/designs/crd.md"
NOTEBOOK = "https://www.kubeflow.org/docs/components/notebooks/api-reference/notebook-v1/"

KCP_API = "controlplane.cluster.x-k8s.io/v1beta1"

#: (kind's source, expected verdict, object)
CASES: list[tuple[str, str, dict[str, Any]]] = [
    # cert-manager ACME: an Order and a Challenge report an ACME state.
    (CERT_MANAGER_ACME, "Healthy", obj("acme.cert-manager.io/v1", "Order", {"state": "valid"})),
    (CERT_MANAGER_ACME, "Progressing", obj("acme.cert-manager.io/v1", "Order", {"state": "pending"})),
    (CERT_MANAGER_ACME, "Progressing", obj("acme.cert-manager.io/v1", "Order", {"state": "processing"})),
    (CERT_MANAGER_ACME, "Degraded", obj("acme.cert-manager.io/v1", "Order", {"state": "errored",
                                                                           "reason": "Failed to finalize"})),
    (CERT_MANAGER_ACME, "Degraded", obj("acme.cert-manager.io/v1", "Challenge", {"state": "invalid",
                                                                               "processing": False})),
    (CERT_MANAGER_ACME, "Progressing", obj("acme.cert-manager.io/v1", "Challenge", {"state": "pending",
                                                                                  "processing": True})),
    # Cluster API infrastructure and control-plane providers.
    (CAPA, "Healthy", obj("infrastructure.cluster.x-k8s.io/v1beta2", "AWSCluster", {
        "ready": True, "conditions": [cond("Ready", "True"), cond("VpcReady", "True"),
                                      cond("LoadBalancerReady", "True")]})),
    (CAPA, "Degraded", obj("infrastructure.cluster.x-k8s.io/v1beta2", "AWSCluster", {
        "ready": False, "conditions": [cond("Ready", "False", "VpcReconciliationFailed"),
                                       cond("VpcReady", "False", "VpcReconciliationFailed", "failed to create VPC")]})),
    (CAPD, "Healthy", obj("infrastructure.cluster.x-k8s.io/v1beta1", "DockerCluster", {
        "ready": True, "conditions": [cond("Ready", "True"), cond("LoadBalancerAvailable", "True")]})),
    (CAPD, "Degraded", obj("infrastructure.cluster.x-k8s.io/v1beta1", "DockerCluster", {
        "conditions": [cond("Ready", "False", "LoadBalancerProvisioningFailed"),
                       cond("LoadBalancerAvailable", "False", "LoadBalancerProvisioningFailed")]})),
    (KCP, "Degraded", obj(KCP_API, "KubeadmControlPlane", {
        "ready": True, "replicas": 3, "readyReplicas": 3,
        "conditions": [cond("Ready", "True"), cond("Available", "True"),
                       cond("EtcdClusterHealthy", "False", "EtcdClusterUnhealthy", "etcd member failed")]})),
    (KCP, "Progressing", obj(KCP_API, "KubeadmControlPlane", {
        "replicas": 3, "readyReplicas": 1,
        "conditions": [cond("Ready", "False", "ScalingUp", "Scaling up control plane to 3 replicas"),
                       cond("MachinesReady", "False", "ScalingUp")]}, {"replicas": 3})),
    (KCP2, "Degraded", obj("controlplane.cluster.x-k8s.io/v1beta1", "KubeadmControlPlane", {
        "conditions": [cond("Ready", "True")],
        "v1beta2": {"conditions": [cond("Available", "True", "Available"),
                                   cond("EtcdClusterHealthy", "False", "NotHealthy")]}})),
    # Databases.
    (PERCONA_PG, "Healthy", obj("pgv2.percona.com/v2", "PerconaPGCluster", {"state": "ready"})),
    (PERCONA_PG, "Progressing", obj("pgv2.percona.com/v2", "PerconaPGCluster", {"state": "initializing"})),
    (PERCONA_PG, "Suspended", obj("pgv2.percona.com/v2", "PerconaPGCluster", {"state": "paused"}, {"pause": True})),
    (MONGODB_COMMUNITY, "Healthy", obj("mongodbcommunity.mongodb.com/v1", "MongoDBCommunity", {
        "phase": "Running", "currentMongoDBMembers": 3})),
    (MONGODB_COMMUNITY, "Degraded", obj("mongodbcommunity.mongodb.com/v1", "MongoDBCommunity", {
        "phase": "Failed", "message": "error creating automation config"})),
    (MONGODB_ENTERPRISE, "Progressing", obj("mongodb.com/v1", "MongoDB", {"phase": "Pending",
                                                                       "message": "StatefulSet not ready"})),
    (MONGODB_ENTERPRISE, "Healthy", obj("mongodb.com/v1", "MongoDB", {"phase": "Running"})),
    (CRUNCHY, "Healthy", obj("postgres-operator.crunchydata.com/v1beta1", "PostgresCluster", {
        "instances": [{"name": "00", "replicas": 2, "readyReplicas": 2, "updatedReplicas": 2}],
        "conditions": [cond("ProxyAvailable", "True", "AllReplicasReady"),
                       cond("PGBackRestRepoHostReady", "True", "RepoHostReady")]})),
    (CRUNCHY, "Progressing", obj("postgres-operator.crunchydata.com/v1beta1", "PostgresCluster", {
        "conditions": [cond("PGBackRestReplicaRepoReady", "False", "StanzaNotCreated")]})),
    (MYSQL, "Healthy", obj("mysql.oracle.com/v2", "InnoDBCluster", {"cluster": {"status": "ONLINE",
                                                                                 "onlineInstances": 3}})),
    (MYSQL, "Degraded", obj("mysql.oracle.com/v2", "InnoDBCluster", {"cluster": {"status": "OFFLINE"}})),
    (SCYLLA, "Healthy", obj("scylla.scylladb.com/v1", "ScyllaCluster", {
        "conditions": [cond("Available", "True", "AsExpected"), cond("Progressing", "False", "AsExpected"),
                       cond("Degraded", "False", "AsExpected")]})),
    (SCYLLA, "Progressing", obj("scylla.scylladb.com/v1", "ScyllaCluster", {
        "conditions": [cond("Available", "True", "AsExpected"),
                       cond("Progressing", "True", "RollingUpdate"), cond("Degraded", "False", "AsExpected")]})),
    (SCYLLA, "Degraded", obj("scylla.scylladb.com/v1", "ScyllaCluster", {
        "conditions": [cond("Available", "True", "AsExpected"), cond("Progressing", "False", "AsExpected"),
                       cond("Degraded", "True", "StatefulSetControllerDegraded", "rack us-east-1a is down")]})),
    (CASS, "Healthy", obj("cassandra.datastax.com/v1beta1", "CassandraDatacenter", {
        "cassandraOperatorProgress": "Ready",
        "conditions": [cond("Ready", "True"), cond("Initialized", "True"), cond("Stopped", "False")]})),
    (CASS, "Suspended", obj("cassandra.datastax.com/v1beta1", "CassandraDatacenter", {
        "cassandraOperatorProgress": "Ready",
        "conditions": [cond("Ready", "False"), cond("Stopped", "True")]}, {"stopped": True})),
    (COUCHBASE, "Healthy", obj("couchbase.com/v2", "CouchbaseCluster", {
        "conditions": [cond("Available", "True", "Available"), cond("Balanced", "True", "Balanced")]})),
    # Data and ML platforms.
    (RAY, "Healthy", obj("ray.io/v1", "RayCluster", {
        "state": "ready", "conditions": [cond("HeadPodReady", "True"), cond("RayClusterProvisioned", "True")]})),
    (RAY, "Suspended", obj("ray.io/v1", "RayCluster", {"state": "suspended"}, {"suspend": True})),
    (RAY, "Healthy", obj("ray.io/v1", "RayJob", {"jobDeploymentStatus": "Complete", "jobStatus": "SUCCEEDED"})),
    (RAY, "Degraded", obj("ray.io/v1", "RayJob", {"jobDeploymentStatus": "Failed", "jobStatus": "FAILED"})),
    (RAY, "Progressing", obj("ray.io/v1", "RayJob", {"jobDeploymentStatus": "Running", "jobStatus": "RUNNING"})),
    (NOTEBOOK, "Healthy", obj("kubeflow.org/v1", "Notebook", {
        "readyReplicas": 1, "containerState": {"running": {"startedAt": "2026-12-01T10:00:00Z"}},
        "conditions": [{"type": "Running", "lastProbeTime": "2026-12-01T10:00:05Z"}]})),
    (KUBEBLOCKS, "Healthy", obj("apps.kubeblocks.io/v1", "Cluster", {"phase": "Running"})),
    (KUBEBLOCKS, "Progressing", obj("apps.kubeblocks.io/v1", "Cluster", {"phase": "Creating"})),
    (KUBEBLOCKS, "Degraded", obj("apps.kubeblocks.io/v1", "Cluster", {"phase": "Abnormal"})),
    (KUBEBLOCKS, "Suspended", obj("apps.kubeblocks.io/v1", "Cluster", {"phase": "Stopped"})),
    (DRAGONFLY, "Healthy", obj("dragonflydb.io/v1alpha1", "Dragonfly", {"phase": "ready"})),
    (DRAGONFLY, "Progressing", obj("dragonflydb.io/v1alpha1", "Dragonfly", {"phase": "roll-out"})),
    (HAZELCAST, "Healthy", obj("hazelcast.com/v1alpha1", "Hazelcast", {"phase": "Running"})),
    (HAZELCAST, "Degraded", obj("hazelcast.com/v1alpha1", "Hazelcast", {"phase": "Failed",
                                                                       "message": "cluster is not formed"})),
    # Message brokers.
    (NACK, "Healthy", obj("jetstream.nats.io/v1beta2", "Stream", {
        "conditions": [cond("Ready", "True", "Created", "Stream successfully created")]})),
    (NACK, "Degraded", obj("jetstream.nats.io/v1beta2", "Stream", {
        "conditions": [cond("Ready", "False", "Errored", "nats: stream name already in use")]})),
    (REDPANDA, "Healthy", obj("cluster.redpanda.com/v1alpha2", "Redpanda", {
        "conditions": [cond("Ready", "True", "RedpandaClusterDeployed")]})),
    (REDPANDA, "Degraded", obj("cluster.redpanda.com/v1alpha2", "Redpanda", {
        "conditions": [cond("Ready", "False", "ArtifactFailed", "chart pull failed")]})),
    (EMQX, "Healthy", obj("apps.emqx.io/v2beta1", "EMQX", {
        "conditions": [cond("Ready", "True", "ClusterReady"), cond("Available", "True", "ClusterAvailable"),
                       cond("Initialized", "True", "ClusterCreated")]})),
    (EMQX, "Progressing", obj("apps.emqx.io/v2beta1", "EMQX", {
        "conditions": [cond("CoreNodesProgressing", "True", "ClusterCoreNodesProgressing"),
                       cond("Initialized", "True", "ClusterCreated")]})),
    (ARTEMIS, "Healthy", obj("broker.amq.io/v1beta1", "ActiveMQArtemis", {
        "conditions": [cond("Valid", "True", "ValidationSucceeded"), cond("Deployed", "True", "AllPodsReady"),
                       cond("Ready", "True", "ResourceReady")]})),
    (ARTEMIS, "Progressing", obj("broker.amq.io/v1beta1", "ActiveMQArtemis", {
        "conditions": [cond("Valid", "True", "ValidationSucceeded"), cond("Deployed", "False", "PodsNotReady"),
                       cond("Ready", "False", "WaitingForAllConditions")]})),
    # Service meshes and networking.
    (CONSUL, "Healthy", obj("consul.hashicorp.com/v1alpha1", "ServiceDefaults", {
        "conditions": [cond("Synced", "True")]})),
    (CONSUL, "Degraded", obj("consul.hashicorp.com/v1alpha1", "ServiceDefaults", {
        "conditions": [cond("Synced", "False", "ConsulAgentError", "writing config entry to consul: Unexpected response")]})),
    (SAIL, "Healthy", obj("sailoperator.io/v1", "Istio", {
        "state": "Healthy", "conditions": [cond("Reconciled", "True"), cond("Ready", "True")]})),
    (SAIL, "Degraded", obj("sailoperator.io/v1", "Istio", {
        "state": "ReconcileError", "conditions": [cond("Reconciled", "False", "ReconcileError", "values invalid")]})),
    (TIGERA, "Healthy", obj("operator.tigera.io/v1", "Installation", {
        "variant": "Calico", "conditions": [cond("Ready", "True", "AllObjectsAvailable"),
                                            cond("Progressing", "False", "AllObjectsAvailable"),
                                            cond("Degraded", "False", "AllObjectsAvailable")]})),
    (TIGERA, "Degraded", obj("operator.tigera.io/v1", "Installation", {
        "conditions": [cond("Ready", "False", "ResourceReadError"), cond("Degraded", "True", "ResourceReadError")]})),
    # Certificates and secrets.
    (TRUST, "Healthy", obj("trust.cert-manager.io/v1alpha1", "Bundle", {
        "conditions": [cond("Synced", "True", "Synced", "Successfully synced Bundle to all namespaces")]})),
    (TRUST, "Degraded", obj("trust.cert-manager.io/v1alpha1", "Bundle", {
        "conditions": [cond("Synced", "False", "SourceNotFound", "Bundle source was not found")]})),
    # Backups, policy, chaos, operators of operators.
    (VELERO_BACKUP, "Healthy", obj("velero.io/v1", "Backup", {"phase": "Completed"})),
    (VELERO_BACKUP, "Progressing", obj("velero.io/v1", "Backup", {"phase": "InProgress"})),
    (VELERO_BACKUP, "Degraded", obj("velero.io/v1", "Backup", {"phase": "PartiallyFailed", "errors": 2})),
    (VELERO_BACKUP, "Degraded", obj("velero.io/v1", "Backup", {"phase": "FailedValidation",
                                                              "validationErrors": ["bad ttl"]})),
    (VELERO_BSL, "Healthy", obj("velero.io/v1", "BackupStorageLocation", {"phase": "Available"})),
    (VELERO_BSL, "Degraded", obj("velero.io/v1", "BackupStorageLocation", {"phase": "Unavailable"})),
    (KYVERNO, "Healthy", obj("kyverno.io/v1", "ClusterPolicy", {
        "conditions": [cond("Ready", "True", "Succeeded", "Ready")]})),
    (KYVERNO, "Progressing", obj("kyverno.io/v1", "ClusterPolicy", {
        "conditions": [cond("Ready", "False", "Pending", "not ready yet")]})),
    (LITMUS, "Healthy", obj("litmuschaos.io/v1alpha1", "ChaosEngine", {"engineStatus": "completed"})),
    (LITMUS, "Suspended", obj("litmuschaos.io/v1alpha1", "ChaosEngine", {"engineStatus": "stopped"})),
    (CHAOS_MESH, "Healthy", obj("chaos-mesh.org/v1alpha1", "PodChaos", {
        "conditions": [{"type": "Selected", "status": "True"}, {"type": "AllInjected", "status": "True"},
                       {"type": "AllRecovered", "status": "False"}, {"type": "Paused", "status": "False"}]})),
    (CHAOS_MESH, "Suspended", obj("chaos-mesh.org/v1alpha1", "PodChaos", {
        "conditions": [{"type": "Selected", "status": "True"}, {"type": "Paused", "status": "True"}]})),
    (GPU, "Healthy", obj("nvidia.com/v1", "ClusterPolicy", {"state": "ready"})),
    (GPU, "Progressing", obj("nvidia.com/v1", "ClusterPolicy", {"state": "notReady"})),
    (KUBEVELA, "Healthy", obj("core.oam.dev/v1beta1", "Application", {"status": "running"})),
    (KUBEVELA, "Degraded", obj("core.oam.dev/v1beta1", "Application", {"status": "workflowFailed"})),
    (KUBEVELA, "Progressing", obj("core.oam.dev/v1beta1", "Application", {"status": "runningWorkflow"})),
    (KIALI, "Healthy", obj("kiali.io/v1alpha1", "Kiali", {
        "conditions": [cond("Successful", "True", "Successful"), cond("Running", "False", "Successful")]})),
    (KIALI, "Degraded", obj("kiali.io/v1alpha1", "Kiali", {
        "conditions": [cond("Failure", "True", "Failed", "unknown playbook failure")]})),
    (AWX, "Healthy", obj("awx.ansible.com/v1beta1", "AWX", {
        "conditions": [cond("Running", "True", "Successful"), cond("Successful", "True", "Successful")]})),
    # Observability.
    (ECK_KIBANA, "Healthy", obj("kibana.k8s.elastic.co/v1", "Kibana", {"health": "green", "availableNodes": 1})),
    (ECK_KIBANA, "Degraded", obj("kibana.k8s.elastic.co/v1", "Kibana", {"health": "red", "availableNodes": 0})),
    (LOKI, "Healthy", obj("loki.grafana.com/v1", "LokiStack", {
        "conditions": [cond("Ready", "True", "ReadyComponents"), cond("Pending", "False", "PendingComponents"),
                       cond("Degraded", "False", "")]})),
    (LOKI, "Progressing", obj("loki.grafana.com/v1", "LokiStack", {
        "conditions": [cond("Pending", "True", "PendingComponents", "Some LokiStack components pending"),
                       cond("Ready", "False", "ReadyComponents")]})),
    (LOKI, "Degraded", obj("loki.grafana.com/v1", "LokiStack", {
        "conditions": [cond("Degraded", "True", "MissingObjectStorageSecret", "Missing object storage secret")]})),
    (TEMPO, "Degraded", obj("tempo.grafana.com/v1alpha1", "TempoStack", {
        "conditions": [cond("ConfigurationError", "True", "InvalidStorageConfig", "invalid storage secret")]})),
    (TEMPO, "Healthy", obj("tempo.grafana.com/v1alpha1", "TempoStack", {
        "conditions": [cond("Ready", "True", "Ready", "All components are operational")]})),
    (NGINX, "Healthy", obj("k8s.nginx.org/v1", "VirtualServer", {"state": "Valid", "reason": "AddedOrUpdated"})),
    (NGINX, "Degraded", obj("k8s.nginx.org/v1", "VirtualServer", {"state": "Invalid", "reason": "Rejected",
                                                                 "message": "spec.upstreams[0].port: invalid"})),
    (SRIOV, "Healthy", obj("sriovnetwork.openshift.io/v1", "SriovNetworkNodeState", {"syncStatus": "Succeeded"})),
    (SRIOV, "Progressing", obj("sriovnetwork.openshift.io/v1", "SriovNetworkNodeState", {"syncStatus": "InProgress"})),
    (SRIOV, "Degraded", obj("sriovnetwork.openshift.io/v1", "SriovNetworkNodeState", {
        "syncStatus": "Failed", "lastSyncError": "failed to configure VFs"})),
    (OPENSEARCH, "Healthy", obj("opensearch.opster.io/v1", "OpenSearchCluster", {"phase": "RUNNING",
                                                                               "health": "green"})),
    (OPENSEARCH, "Progressing", obj("opensearch.opster.io/v1", "OpenSearchCluster", {"phase": "PENDING"})),
    # Just created: no status yet, with a newer generation than any the controller saw.
    (KCP, "Progressing", obj("controlplane.cluster.x-k8s.io/v1beta1", "KubeadmControlPlane",
                             {"observedGeneration": 1, "conditions": [cond("Ready", "True")]}, generation=2)),
]
