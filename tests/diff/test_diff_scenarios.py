"""The situations the comparison exists for, as a platform team meets them.

Live objects are written the way the API server returns them: server defaults filled in and
``metadata.managedFields`` attributing each field to the manager that last wrote it.
"""

from __future__ import annotations

from diff_fixtures import docs, one

from exporter.config_types import CompareOptions, IgnoreRule
from exporter.diff import SchemaHints, compare, hpa_targets, requires_pruning, tracked_app, unified_diff
from exporter.model import REDACTED, ObjectKey, Sync

DEPLOYMENT_GIT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app.kubernetes.io/instance: shop}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: registry.example/web:1.4.2
          resources: {limits: {cpu: 1, memory: 256Mi}}
"""

HPA_GIT = """
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 10
"""


def deployment_live(*, replicas: int = 2, image: str = "registry.example/web:1.4.2",
                    extra_managed: str = "", extra_containers: str = "", extra_labels: str = "") -> dict:
    return one(f"""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  uid: 0d5c1a52-58c5-4a43-bb7c-3f7f2b9d1e11
  resourceVersion: "8812"
  generation: 4
  labels: {{app.kubernetes.io/instance: shop{extra_labels}}}
  managedFields:
    - manager: gitops-pipeline
      operation: Apply
      apiVersion: apps/v1
      fieldsType: FieldsV1
      fieldsV1:
        f:metadata: {{f:labels: {{f:app.kubernetes.io/instance: {{}}}}}}
        f:spec:
          f:replicas: {{}}
          f:selector: {{}}
          f:template:
            f:metadata: {{f:labels: {{f:app: {{}}}}}}
            f:spec:
              f:containers:
                k:{{"name":"web"}}:
                  .: {{}}
                  f:name: {{}}
                  f:image: {{}}
                  f:resources: {{f:limits: {{f:cpu: {{}}, f:memory: {{}}}}}}
{extra_managed}
spec:
  replicas: {replicas}
  revisionHistoryLimit: 10
  progressDeadlineSeconds: 600
  strategy: {{type: RollingUpdate, rollingUpdate: {{maxSurge: 25%, maxUnavailable: 25%}}}}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{creationTimestamp: null, labels: {{app: web}}}}
    spec:
      containers:
{extra_containers}
        - name: web
          image: {image}
          imagePullPolicy: IfNotPresent
          resources: {{limits: {{cpu: "1", memory: 256Mi}}}}
          terminationMessagePath: /dev/termination-log
          terminationMessagePolicy: File
      dnsPolicy: ClusterFirst
      restartPolicy: Always
      schedulerName: default-scheduler
      securityContext: {{}}
      terminationGracePeriodSeconds: 30
status: {{replicas: {replicas}, readyReplicas: {replicas}}}
""")


def test_deployment_scaled_by_its_hpa_is_not_drift() -> None:
    desired = docs(DEPLOYMENT_GIT + "---" + HPA_GIT)
    live = deployment_live(replicas=6, extra_managed="""
    - manager: horizontal-pod-autoscaler
      operation: Update
      subresource: scale
      apiVersion: apps/v1
      fieldsType: FieldsV1
      fieldsV1: {f:spec: {f:replicas: {}}}
""")

    result = compare(desired[0], live, CompareOptions(), hpa_targets=hpa_targets(desired, "shop"))

    assert result.sync is Sync.SYNCED
    assert [(f.path, f.ignored_by) for f in result.ignored] == [("/spec/replicas", "default:hpa-replicas")]


def test_image_changed_with_kubectl_edit_is_drift() -> None:
    live = deployment_live(image="registry.example/web:1.4.3-debug", extra_managed="""
    - manager: kubectl-edit
      operation: Update
      apiVersion: apps/v1
      fieldsType: FieldsV1
      fieldsV1: {f:spec: {f:template: {f:spec: {f:containers: {'k:{"name":"web"}': {f:image: {}}}}}}}
""")

    result = compare(one(DEPLOYMENT_GIT), live, CompareOptions())

    assert result.sync is Sync.OUT_OF_SYNC
    assert [(f.path, f.desired, f.live) for f in result.differences] == [
        ("/spec/template/spec/containers/0/image", "registry.example/web:1.4.2",
         "registry.example/web:1.4.3-debug")]


def test_sidecar_added_with_kubectl_edit_is_drift() -> None:
    live = deployment_live(extra_containers="""
        - name: tcpdump
          image: nicolaka/netshoot
          imagePullPolicy: Always
          terminationMessagePath: /dev/termination-log
          terminationMessagePolicy: File
""", extra_managed="""
    - manager: kubectl-edit
      operation: Update
      apiVersion: apps/v1
      fieldsType: FieldsV1
      fieldsV1:
        f:spec:
          f:template:
            f:spec:
              f:containers:
                'k:{"name":"tcpdump"}': {.: {}, f:name: {}, f:image: {}, f:imagePullPolicy: {}}
""")

    result = compare(one(DEPLOYMENT_GIT), live, CompareOptions())

    assert result.sync is Sync.OUT_OF_SYNC
    (sidecar,) = result.differences
    assert sidecar.path == "/spec/template/spec/containers/0"
    assert sidecar.reason == "added live by kubectl-edit"
    assert sidecar.live["name"] == "tcpdump"
    assert "+      - image: nicolaka/netshoot" in unified_diff(ObjectKey.of(live), result)


def test_label_added_by_an_operator_is_not_drift() -> None:
    live = deployment_live(extra_labels=", team.example.com/owner: payments", extra_managed="""
    - manager: labeller-operator
      operation: Apply
      apiVersion: apps/v1
      fieldsType: FieldsV1
      fieldsV1: {f:metadata: {f:labels: {f:team.example.com/owner: {}}}}
""")

    result = compare(one(DEPLOYMENT_GIT), live, CompareOptions())

    assert result.sync is Sync.SYNCED
    assert result.differences == [] and result.ignored == []


def test_same_label_added_by_kubectl_label_is_drift() -> None:
    live = deployment_live(extra_labels=", team.example.com/owner: payments", extra_managed="""
    - manager: kubectl-label
      operation: Update
      apiVersion: apps/v1
      fieldsType: FieldsV1
      fieldsV1: {f:metadata: {f:labels: {f:team.example.com/owner: {}}}}
""")

    result = compare(one(DEPLOYMENT_GIT), live, CompareOptions())

    assert [(f.path, f.reason) for f in result.differences] == [
        ("/metadata/labels/team.example.com~1owner", "added live by kubectl-label")]


def test_cpu_limit_of_1_in_git_equals_1000m_live() -> None:
    live = deployment_live()
    live["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "1000m"

    assert compare(one(DEPLOYMENT_GIT), live, CompareOptions()).sync is Sync.SYNCED


def test_cpu_limit_changed_live_is_drift() -> None:
    live = deployment_live()
    live["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "1500m"

    result = compare(one(DEPLOYMENT_GIT), live, CompareOptions())

    assert [(f.path, f.desired, f.live) for f in result.differences] == [
        ("/spec/template/spec/containers/0/resources/limits/cpu", 1, "1500m")]


def test_field_git_sets_to_its_server_default_is_not_drift() -> None:
    desired = one(DEPLOYMENT_GIT)
    desired["spec"]["revisionHistoryLimit"] = 10
    desired["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
    desired["spec"]["template"]["spec"]["dnsPolicy"] = "ClusterFirst"
    live = deployment_live()
    for field in ("revisionHistoryLimit",):  # a server that does not fill defaults in
        del live["spec"][field]
    del live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"]
    del live["spec"]["template"]["spec"]["dnsPolicy"]

    assert compare(desired, live, CompareOptions()).sync is Sync.SYNCED


def test_field_git_sets_to_something_other_than_the_default_is_drift_when_live_lacks_it() -> None:
    desired = one(DEPLOYMENT_GIT)
    desired["spec"]["template"]["spec"]["dnsPolicy"] = "None"
    live = deployment_live()
    del live["spec"]["template"]["spec"]["dnsPolicy"]

    result = compare(desired, live, CompareOptions())

    assert [(f.path, f.desired, f.live) for f in result.differences] == [
        ("/spec/template/spec/dnsPolicy", "None", None)]


SECRET_GIT = """
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: shop}
type: Opaque
stringData: {password: hunter2-but-longer}
"""


def test_secret_value_changed_live_is_drift_and_never_shown() -> None:
    live = one("""
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
  managedFields:
    - {manager: kubectl-edit, operation: Update, apiVersion: v1, fieldsType: FieldsV1,
       fieldsV1: {f:data: {f:password: {}}}}
type: Opaque
data: {password: c3dvcmRmaXNo}
""")

    result = compare(one(SECRET_GIT), live, CompareOptions())

    assert result.sync is Sync.OUT_OF_SYNC
    (changed,) = result.differences
    assert (changed.path, changed.desired, changed.live) == ("/data/password", REDACTED, REDACTED)
    shown = repr(result) + unified_diff(ObjectKey.of(live), result)
    for secret in ("hunter2-but-longer", "aHVudGVyMi1idXQtbG9uZ2Vy", "swordfish", "c3dvcmRmaXNo"):
        assert secret not in shown


REPLICA_SECRET = """
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: payments
  labels: {app.kubernetes.io/instance: shop}
  annotations:
    argocd.argoproj.io/tracking-id: shop:/Secret:shop/db
    replicator.v1.mittwald.de/replicated-from-version: "8812"
  managedFields:
    - {manager: replicator, operation: Update, apiVersion: v1, fieldsType: FieldsV1,
       fieldsV1: {f:data: {f:password: {}}, f:metadata: {f:annotations: {f:argocd.argoproj.io/tracking-id: {}}}}}
data: {password: aHVudGVyMi1idXQtbG9uZ2Vy}
"""


def test_secret_copied_by_a_replicator_is_neither_the_apps_nor_extraneous(options: CompareOptions) -> None:
    copy = one(REPLICA_SECRET)

    assert tracked_app(copy, options) is None
    assert requires_pruning(copy, "shop", {ObjectKey("", "Secret", "shop", "db")}, options) is False


def test_original_secret_labelled_by_a_replicator_is_not_drift() -> None:
    live = one("""
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
  annotations: {replicator.v1.mittwald.de/replicate-to: payments}
  managedFields:
    - {manager: gitops-pipeline, operation: Apply, apiVersion: v1, fieldsType: FieldsV1,
       fieldsV1: {f:stringData: {f:password: {}}, f:type: {}}}
    - {manager: replicator, operation: Update, apiVersion: v1, fieldsType: FieldsV1,
       fieldsV1: {f:metadata: {f:annotations: {f:replicator.v1.mittwald.de/replicate-to: {}}}}}
type: Opaque
data: {password: aHVudGVyMi1idXQtbG9uZ2Vy}
""")

    assert compare(one(SECRET_GIT), live, CompareOptions()).sync is Sync.SYNCED


def test_configmap_deleted_from_git_but_still_live_requires_pruning(options: CompareOptions) -> None:
    leftover = one("""
apiVersion: v1
kind: ConfigMap
metadata:
  name: feature-flags
  namespace: shop
  labels: {app.kubernetes.io/instance: shop}
data: {beta: "true"}
""")
    desired_keys = {ObjectKey.of(o, "shop") for o in docs(DEPLOYMENT_GIT + "---" + HPA_GIT)}

    assert requires_pruning(leftover, "shop", desired_keys, options) is True
    assert requires_pruning(leftover, "other-app", desired_keys, options) is False


CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: caches.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Cache, plural: caches}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
                cpu:
                  anyOf: [{type: integer}, {type: string}]
                  x-kubernetes-int-or-string: true
                  pattern: '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$'
                port: {x-kubernetes-int-or-string: true}
                tier: {type: string, default: standard}
"""

CACHE_GIT = """
apiVersion: example.com/v1
kind: Cache
metadata: {name: sessions, namespace: shop}
spec: {size: 3, cpu: 500m, port: 6379, tier: standard}
"""


def cache_live(size: int = 3, cpu: str = "0.5") -> dict:
    return one(f"""
apiVersion: example.com/v1
kind: Cache
metadata:
  name: sessions
  namespace: shop
  managedFields:
    - {{manager: gitops-pipeline, operation: Apply, apiVersion: example.com/v1, fieldsType: FieldsV1,
       fieldsV1: {{f:spec: {{f:cpu: {{}}, f:port: {{}}, f:tier: {{}}}}}}}}
    - {{manager: cache-operator, operation: Update, apiVersion: example.com/v1, fieldsType: FieldsV1,
       fieldsV1: {{f:spec: {{f:size: {{}}}}}}}}
spec: {{size: {size}, cpu: "{cpu}", port: "6379"}}
""")


def test_custom_resource_quantity_in_another_spelling_is_not_drift_with_the_crd_schema() -> None:
    hints = SchemaHints.from_crd(one(CRD))[("example.com", "Cache")]

    result = compare(one(CACHE_GIT), cache_live(), CompareOptions(), schema=hints)

    assert result.sync is Sync.SYNCED, result.differences


def test_custom_resource_without_its_crd_schema_is_compared_literally() -> None:
    result = compare(one(CACHE_GIT), cache_live(), CompareOptions())

    # Neither the quantity spelling nor the schema default of ``tier`` is known without the CRD.
    assert [(f.path, f.desired, f.live) for f in result.differences] == [
        ("/spec/cpu", "500m", "0.5"), ("/spec/tier", "standard", None)]


def test_operator_rewriting_a_spec_field_is_not_drift_when_its_manager_is_ignored() -> None:
    hints = SchemaHints.from_crd(one(CRD))[("example.com", "Cache")]
    rule = IgnoreRule(group="example.com", kind="Cache", managed_fields_managers=["cache-operator"],
                      origin="config.yaml:12")

    result = compare(one(CACHE_GIT), cache_live(size=5), CompareOptions(ignore_differences=[rule]),
                     schema=hints)

    assert result.sync is Sync.SYNCED
    assert [(f.path, f.live, f.ignored_by) for f in result.ignored] == [("/spec/size", 5, "config.yaml:12")]


def test_operator_rewriting_a_spec_field_is_drift_when_its_manager_is_not_ignored() -> None:
    hints = SchemaHints.from_crd(one(CRD))[("example.com", "Cache")]

    result = compare(one(CACHE_GIT), cache_live(size=5), CompareOptions(), schema=hints)

    assert [(f.path, f.desired, f.live) for f in result.differences] == [("/spec/size", 3, 5)]


def test_hpa_manifest_without_a_namespace_targets_the_deployment_in_the_apps_namespace() -> None:
    hpa = one(HPA_GIT)
    del hpa["metadata"]["namespace"]
    live = deployment_live(replicas=6)

    result = compare(one(DEPLOYMENT_GIT), live, CompareOptions(), hpa_targets=hpa_targets([hpa]))

    assert result.sync is Sync.SYNCED
