"""Kinds whose operators follow the common conventions closely enough for ``conventional``, and that
have no rule of their own: a data table."""

from __future__ import annotations

from collections.abc import Sequence

from exporter.health.crds.common import Rules, conventional
from exporter.health.rules import Step

RULES = Rules()
WILDCARDS: list[tuple[str, str, Sequence[Step]]] = []


#: Kinds whose operators follow the common conventions closely enough for ``conventional``, and
#: that have no rule of their own (above, or among the core checks): registering one twice raises.
CONVENTIONAL: dict[str, tuple[str, ...]] = {
    'acid.zalan.do': ('postgresql',),
    'addons.cluster.x-k8s.io': ('ClusterResourceSet',),
    'apps.3scale.net': ('APIManager',),
    'argoproj.io': ('EventBus',),
    'astra.netapp.io': ('Application',),
    'bitnami.com': ('SealedSecret',),
    'ceph.rook.io': ('CephObjectStore',),
    'cert-manager.io': ('Certificate', 'ClusterIssuer', 'Issuer',),
    'certmanager.k8s.io': ('Certificate', 'Issuer',),
    'clickhouse-keeper.altinity.com': ('ClickHouseKeeperInstallation',),
    'clickhouse.altinity.com': ('ClickHouseInstallation',),
    'cluster.x-k8s.io': ('Machine', 'MachinePool',),
    'coralogix.com': ('Alert', 'RecordingRuleGroupSet',),
    'datadoghq.com': ('DatadogMetric',),
    'db.atlasgo.io': ('AtlasMigration', 'AtlasSchema',),
    'external-secrets.io': ('ClusterSecretStore', 'ExternalSecret', 'PushSecret', 'SecretStore',),
    'gateway.networking.k8s.io': ('Gateway', 'GatewayClass',),
    'helm.toolkit.fluxcd.io': ('HelmRelease',),
    'iam.aws.crossplane.io': ('Policy', 'Role', 'RolePolicyAttachment',),
    'image.toolkit.fluxcd.io': ('ImagePolicy', 'ImageRepository', 'ImageUpdateAutomation',),
    'install.istio.io': ('IstioOperator',),
    'jaegertracing.io': ('Jaeger',),
    'k8s.mariadb.com': ('Backup', 'Database', 'Grant', 'User',),
    'karpenter.k8s.aws': ('EC2NodeClass',),
    'karpenter.sh': ('NodePool',),
    'keda.sh': ('ScaledObject',),
    'kiali.io': ('Kiali',),
    'kubernetes-client.io': ('ExternalSecret',),
    'kustomize.toolkit.fluxcd.io': ('Kustomization',),
    'kyverno.io': ('Policy',),
    'lifecycle.keptn.sh': (
        'KeptnAppVersion', 'KeptnEvaluation', 'KeptnTask', 'KeptnWorkloadInstance', 'KeptnWorkloadVersion',
    ),
    'logstash.k8s.elastic.co': ('Logstash',),
    'monitoring.coreos.com': ('Prometheus',),
    'notification.toolkit.fluxcd.io': ('Receiver',),
    'objectbucket.io': ('ObjectBucketClaim',),
    'ocs.openshift.io': ('StorageCluster',),
    'onepassword.com': ('OnePasswordItem',),
    'operator.openshift.io': ('IngressController',),
    'pkg.crossplane.io': ('Provider',),
    'platform.confluent.io': ('Connect', 'ControlCenter', 'Kafka', 'KsqlDB', 'SchemaRegistry', 'Zookeeper',),
    'projectcontour.io': ('ExtensionService',),
    'pulumi.com': ('Stack',),
    'rds.aws.crossplane.io': ('DBCluster', 'DBInstance',),
    'route53.aws.crossplane.io': ('ResourceRecordSet',),
    's3.aws.crossplane.io': ('Bucket',),
    'services.cloud.sap.com': ('ServiceBinding', 'ServiceInstance',),
    'serving.knative.dev': ('Service',),
    'solr.apache.org': ('SolrCloud',),
    'source.toolkit.fluxcd.io': ('Bucket', 'GitRepository', 'HelmChart', 'OCIRepository',),
    'trident.netapp.io': ('TridentOrchestrator',),
    'zookeeper.pravega.io': ('ZookeeperCluster',),
}

for _group, _kinds in CONVENTIONAL.items():
    for _kind in _kinds:
        RULES[(_group, _kind)] = [conventional]

WILDCARDS.extend((group, "*", [conventional]) for group in (
    "*.services.k8s.aws", "*.kubitus-project.gitlab.io", "operator.victoriametrics.com"))
