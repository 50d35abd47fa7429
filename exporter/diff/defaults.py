"""What the API server fills in, and which list and value shapes it knows.

Everything here is data, read off objects a real API server (Kubernetes 1.24) returned after
``kubectl apply`` (see the ``real-apiserver-1.24`` captures the tests load). The comparison only
looks at fields Git sets, so these defaults matter in two places: when Git spells out a default
that the live object lacks (an emulator, or a server that drops zero values), and when a list item
is matched by a key whose part is defaulted (a container port without ``protocol`` is TCP).

Paths are dotted field names relative to the object (or to a pod spec / container, for the shared
tables); ``[]`` steps into every item of a list. A default is either a value or a function of the
map that holds the field, for defaults that depend on a sibling (None from it: no default there).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from exporter.diff.paths import MISSING, RawDiff

ComputedDefault = Callable[[Mapping[str, Any]], Any]


def pull_policy_for_image(container: Mapping[str, Any]) -> Any:
    """``Always`` for ``:latest`` or untagged images (no digest), else ``IfNotPresent``."""
    image = container.get("image")
    if not isinstance(image, str):
        return None
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.rpartition(":")[2] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def target_port_from_port(service_port: Mapping[str, Any]) -> Any:
    """A Service port without ``targetPort`` forwards to the same number."""
    return service_port.get("port")


def external_traffic_policy(service_spec: Mapping[str, Any]) -> Any:
    """Only Services reachable from outside get an external traffic policy."""
    return "Cluster" if service_spec.get("type") in ("NodePort", "LoadBalancer") else None


def allocate_load_balancer_node_ports(service_spec: Mapping[str, Any]) -> Any:
    return True if service_spec.get("type") == "LoadBalancer" else None


_PROBE = {
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
    "httpGet.scheme": "HTTP",
}

#: Per container (``containers``, ``initContainers``, ``ephemeralContainers``).
CONTAINER_DEFAULTS: dict[str, Any] = {
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
    "imagePullPolicy": pull_policy_for_image,
    "ports[].protocol": "TCP",
    "env[].valueFrom.fieldRef.apiVersion": "v1",
    "resources": {},
    **{f"{probe}.{field}": value for probe in ("livenessProbe", "readinessProbe", "startupProbe")
       for field, value in _PROBE.items()},
}

#: Per pod spec, wherever one is embedded.
POD_SPEC_DEFAULTS: dict[str, Any] = {
    "restartPolicy": "Always",
    "dnsPolicy": "ClusterFirst",
    "schedulerName": "default-scheduler",
    "securityContext": {},
    "terminationGracePeriodSeconds": 30,
    "volumes[].configMap.defaultMode": 420,
    "volumes[].secret.defaultMode": 420,
    "volumes[].projected.defaultMode": 420,
    "volumes[].downwardAPI.defaultMode": 420,
    "volumes[].downwardAPI.items[].fieldRef.apiVersion": "v1",
    "volumes[].hostPath.type": "",
}

#: Where each workload kind embeds its pod spec.
POD_SPEC_LOCATIONS: dict[str, str] = {
    "Pod": "spec",
    "Deployment": "spec.template.spec",
    "ReplicaSet": "spec.template.spec",
    "StatefulSet": "spec.template.spec",
    "DaemonSet": "spec.template.spec",
    "Job": "spec.template.spec",
    "CronJob": "spec.jobTemplate.spec.template.spec",
    "ReplicationController": "spec.template.spec",
}

#: Kind-level defaults, paths from the object root.
KIND_DEFAULTS: dict[str, dict[str, Any]] = {
    "Deployment": {
        "spec.replicas": 1,
        "spec.revisionHistoryLimit": 10,
        "spec.progressDeadlineSeconds": 600,
        "spec.strategy.type": "RollingUpdate",
        "spec.strategy.rollingUpdate.maxSurge": "25%",
        "spec.strategy.rollingUpdate.maxUnavailable": "25%",
    },
    "ReplicaSet": {"spec.replicas": 1},
    "StatefulSet": {
        "spec.replicas": 1,
        "spec.revisionHistoryLimit": 10,
        "spec.podManagementPolicy": "OrderedReady",
        "spec.updateStrategy.type": "RollingUpdate",
        "spec.updateStrategy.rollingUpdate.partition": 0,
        "spec.volumeClaimTemplates[].apiVersion": "v1",
        "spec.volumeClaimTemplates[].kind": "PersistentVolumeClaim",
        "spec.volumeClaimTemplates[].spec.volumeMode": "Filesystem",
    },
    "DaemonSet": {
        "spec.revisionHistoryLimit": 10,
        "spec.updateStrategy.type": "RollingUpdate",
        "spec.updateStrategy.rollingUpdate.maxSurge": 0,
        "spec.updateStrategy.rollingUpdate.maxUnavailable": 1,
    },
    "Job": {
        "spec.completions": 1,
        "spec.parallelism": 1,
        "spec.backoffLimit": 6,
        "spec.completionMode": "NonIndexed",
        "spec.suspend": False,
    },
    "CronJob": {
        "spec.concurrencyPolicy": "Allow",
        "spec.failedJobsHistoryLimit": 1,
        "spec.successfulJobsHistoryLimit": 3,
        "spec.suspend": False,
    },
    "Service": {
        "spec.type": "ClusterIP",
        "spec.sessionAffinity": "None",
        "spec.internalTrafficPolicy": "Cluster",
        "spec.ipFamilyPolicy": "SingleStack",
        "spec.externalTrafficPolicy": external_traffic_policy,
        "spec.allocateLoadBalancerNodePorts": allocate_load_balancer_node_ports,
        "spec.ports[].protocol": "TCP",
        "spec.ports[].targetPort": target_port_from_port,
    },
    "PersistentVolumeClaim": {"spec.volumeMode": "Filesystem"},
    "PersistentVolume": {"spec.volumeMode": "Filesystem", "spec.persistentVolumeReclaimPolicy": "Retain"},
    "Secret": {"type": "Opaque"},
}

#: Fields that the server fills with a value it picks (an address, a port, a generated name, a
#: controller uid). Git spelling them out empty means "let the server choose"; they are listed so
#: that readers know why an object never shows them as drift when Git leaves them out.
ALLOCATED: dict[str, tuple[str, ...]] = {
    "Service": ("spec.clusterIP", "spec.clusterIPs", "spec.ipFamilies", "spec.ports[].nodePort",
                "spec.healthCheckNodePort"),
    "PersistentVolumeClaim": ("spec.volumeName", "spec.storageClassName"),
    "Job": ("spec.selector", "spec.template.metadata.labels.controller-uid",
            "spec.template.metadata.labels.job-name", "metadata.labels.controller-uid",
            "metadata.labels.job-name"),
}

#: Lists whose items are matched by key, by field name, as the API's strategic merge keys.
#: A key part may carry a default (``protocol`` of a port is TCP when unset).
MERGE_KEYS: dict[str, tuple[tuple[str, Any], ...]] = {
    "containers": (("name", None),),
    "initContainers": (("name", None),),
    "ephemeralContainers": (("name", None),),
    "env": (("name", None),),
    "volumes": (("name", None),),
    "volumeMounts": (("mountPath", None),),
    "volumeDevices": (("devicePath", None),),
    "imagePullSecrets": (("name", None),),
    "hostAliases": (("ip", None),),
    "topologySpreadConstraints": (("topologyKey", None), ("whenUnsatisfiable", None)),
    "readinessGates": (("conditionType", None),),
    "resourceClaims": (("name", None),),
    "ownerReferences": (("uid", None),),
    "webhooks": (("name", None),),
}

#: ``ports`` items: container ports by containerPort+protocol, Service ports by port+protocol.
CONTAINER_PORT_KEY: tuple[tuple[str, Any], ...] = (("containerPort", None), ("protocol", "TCP"))
SERVICE_PORT_KEY: tuple[tuple[str, Any], ...] = (("port", None), ("protocol", "TCP"))

#: Lists compared as sets: order carries no meaning.
SET_LISTS: frozenset[str] = frozenset({"tolerations", "finalizers", "accessModes", "policyTypes"})
#: ... of which these are owned whole by whoever sets them, so an extra live item is drift. Items of
#: the others (finalizers) are owned one by one: the server adding ``kubernetes.io/pvc-protection``
#: is not drift.
ATOMIC_SETS: frozenset[str] = frozenset({"tolerations", "accessModes", "policyTypes"})

#: Maps whose values are quantities, by the map's field name.
QUANTITY_MAPS: frozenset[str] = frozenset({
    "requests", "limits", "hard", "capacity", "allocatable", "overhead", "max", "min", "default",
    "defaultRequest", "maxLimitRequestRatio",
})
#: Fields that hold one quantity, by field name.
QUANTITY_FIELDS: frozenset[str] = frozenset({"sizeLimit"})

#: Booleans whose absence means *true*: a Git ``false`` is not the same as absent. Every other
#: ``false``/``0``/``""`` Git sets equals absent, because the API drops zero values of plain fields
#: and an unset optional boolean behaves as false.
ABSENT_MEANS_TRUE: frozenset[str] = frozenset({
    "automountServiceAccountToken", "allowPrivilegeEscalation", "enableServiceLinks",
})

#: Shipped ignore rules (``CompareOptions.default_ignores``): (origin, JSON pointer). What the
#: server or controllers own by construction and what a user never writes meaningfully.
DEFAULT_IGNORES: tuple[tuple[str, str], ...] = (
    ("default:status", "/status"),
    ("default:generation", "/metadata/generation"),
    ("default:resource-version", "/metadata/resourceVersion"),
    ("default:uid", "/metadata/uid"),
    ("default:creation-timestamp", "/metadata/creationTimestamp"),
    ("default:managed-fields", "/metadata/managedFields"),
    ("default:self-link", "/metadata/selfLink"),
    ("default:last-applied", "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration"),
)
#: Applied only when an HorizontalPodAutoscaler targets the object.
HPA_REPLICAS_IGNORE: tuple[str, str] = ("default:hpa-replicas", "/spec/replicas")

#: Top-level and metadata fields that name the object rather than describe it.
IDENTITY_FIELDS: frozenset[str] = frozenset({"apiVersion", "kind"})
IDENTITY_METADATA: frozenset[str] = frozenset({"name", "namespace"})

#: Kinds the cluster creates on its own; never extraneous even when they carry a tracking mark.
NEVER_EXTRANEOUS_KINDS: frozenset[str] = frozenset({"Event", "Endpoints", "EndpointSlice", "Lease"})

#: Annotations that mark hooks: they live outside the desired set by design.
COMPARE_OPTIONS_ANNOTATION = "argocd.argoproj.io/compare-options"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"


#: Fields a server accepts and silently drops while the feature gate behind them is off, so their
#: absence live is not drift. ``x-kubernetes-validations`` in CRD schemas: the
#: CustomResourceValidationExpressions gate is alpha (off) up to Kubernetes 1.24 (checked against a
#: real 1.24 server in tests/realserver).
GATED_FIELDS: frozenset[str] = frozenset({"x-kubernetes-validations"})

#: Lists the server does not keep in the order they were written, compared without order, per kind.
#: HorizontalPodAutoscaler ``spec.metrics``: 1.24 stores HPAs as autoscaling/v1, with the CPU target
#: in a field of its own and the other metrics in an annotation, so reading them back as v2 puts the
#: CPU metric last (checked against a real 1.24 server in tests/realserver).
UNORDERED_LISTS: dict[str, tuple[str, ...]] = {"HorizontalPodAutoscaler": ("spec.metrics",)}

#: Field managers of the pipelines that apply Git: what they own came from Git, so a value they
#: own that differs from Git's is drift, never "filled in by a controller". ``kubectl`` is
#: kubectl's server-side apply manager (operation Apply).
APPLY_MANAGERS: frozenset[str] = frozenset({"kubectl-client-side-apply", "kubectl", "helm", "argocd-controller",
                                            "kustomize-controller", "helm-controller"})
#: The manager ``kubectl apply`` (client side) records, beside its last-applied annotation.
CLIENT_SIDE_APPLY_MANAGER = "kubectl-client-side-apply"
#: Managers that deploy by update rather than server-side apply: what they own is what they
#: last applied (``argocd-controller`` applies client-side unless told to use server-side apply;
#: Flux's ``helm-controller`` installs through Helm's library, which updates).
UPDATE_DEPLOYERS: frozenset[str] = frozenset({CLIENT_SIDE_APPLY_MANAGER, "helm", "argocd-controller",
                                             "helm-controller"})

#: Labels and annotations the deploying tools add to every object at apply time, never written
#: in Git (Helm's release annotations and managed-by label, Flux's ownership labels): like the
#: tracking mark, that they are live and not in Git is how those tools work.
APPLY_TIME_MARKS: frozenset[tuple[str, str, str]] = frozenset({
    ("metadata", "annotations", "meta.helm.sh/release-name"),
    ("metadata", "annotations", "meta.helm.sh/release-namespace"),
    ("metadata", "labels", "app.kubernetes.io/managed-by"),
    ("metadata", "labels", "kustomize.toolkit.fluxcd.io/name"),
    ("metadata", "labels", "kustomize.toolkit.fluxcd.io/namespace"),
    ("metadata", "labels", "helm.toolkit.fluxcd.io/name"),
    ("metadata", "labels", "helm.toolkit.fluxcd.io/namespace"),
})

#: Tolerations the DefaultTolerationSeconds admission plugin adds to every Pod that does not
#: tolerate these taints already (300 s unless the server is told otherwise).
ADMISSION_TOLERATION_KEYS: frozenset[str] = frozenset({"node.kubernetes.io/not-ready",
                                                       "node.kubernetes.io/unreachable"})


def added_by_admission(kind: str, raw: RawDiff) -> str | None:
    """Why a live value Git does not set was added by the API server's own admission plugins
    (proven on real servers in tests/realserver/test_real_admission.py), or None.

    The other defaults admission fills in (the default StorageClass and IngressClass, LimitRange
    defaults, the service-account token volume) land in fields Git leaves out or in keyed lists
    whose extra items are never drift, so only the Pod's tolerations, compared as a whole set,
    need saying here."""
    path = raw.live_path
    if kind != "Pod" or raw.desired is not MISSING or not path or path[:2] != ("spec", "tolerations"):
        return None
    value = raw.live
    if (isinstance(value, dict) and value.get("key") in ADMISSION_TOLERATION_KEYS
            and value.get("operator") == "Exists" and value.get("effect") == "NoExecute"
            and isinstance(value.get("tolerationSeconds"), int) and len(value) == 4):
        return "admission:DefaultTolerationSeconds"
    return None


def allocated(kind: str, path: tuple[object, ...]) -> bool:
    """Whether ``path`` (list positions included) is a field the server allocates for ``kind``."""
    dotted = ".".join(f"{p}" if isinstance(p, str) else "[]" for p in path).replace(".[]", "[]")
    return dotted in ALLOCATED.get(kind, ())
