"""Which app an object belongs to, and which live objects Git no longer declares.

Tracking marks follow Argo CD, so objects it deployed are recognised as they are: the label
``app.kubernetes.io/instance=<app>``, or the annotation
``argocd.argoproj.io/tracking-id: <app>:<group>/<kind>:<namespace>/<name>``. Apps read from Flux
go by the two labels Flux writes, ``kustomize.toolkit.fluxcd.io/name`` and ``.../namespace``. The annotation names the
object it was written for; a copy made by a replicator carries the original's id, and must not be
mistaken for an object of the app (or pruned with it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from exporter.config_types import CompareOptions
from exporter.diff import defaults
from exporter.model import HOOK_ANNOTATIONS, KubeObject, ObjectKey


def _metadata_map(obj: Mapping[str, Any], field: str) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    value = meta.get(field) if isinstance(meta, dict) else None
    return value if isinstance(value, dict) else {}


def object_key(obj: Mapping[str, Any], default_namespace: str = "") -> ObjectKey:
    """``ObjectKey.of`` that tolerates a malformed ``metadata`` (it names nothing then)."""
    meta = obj.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        obj = {k: v for k, v in obj.items() if k != "metadata"}
    return ObjectKey.of(dict(obj), default_namespace)


def parse_tracking_id(value: str) -> tuple[str, ObjectKey] | None:
    """``(app, key)`` from ``<app>:<group>/<kind>:<namespace>/<name>``; None when malformed."""
    app, sep, rest = value.partition(":")
    group_kind, sep2, namespace_name = rest.partition(":")
    if not sep or not sep2 or "/" not in group_kind or "/" not in namespace_name or not app:
        return None
    group, _, kind = group_kind.partition("/")
    namespace, _, name = namespace_name.partition("/")
    return app, ObjectKey(group, kind, namespace, name)


def tracked_app(live: KubeObject, options: CompareOptions) -> str | None:
    """The app ``live`` is marked for, or None.

    The annotation wins over the label when both are present (Helm sets the same label to the
    release name for its own purposes); an annotation naming another object means "a copy".
    """
    if not isinstance(live, dict):
        return None
    if options.tracking_namespace_label:
        return _owner_labels(_metadata_map(live, "labels"), options)
    annotation = _metadata_map(live, "annotations").get(options.tracking_annotation)
    if isinstance(annotation, str) and annotation:
        parsed = parse_tracking_id(annotation)
        if parsed is None:
            return None
        app, key = parsed
        own = object_key(live)
        if (key.kind, key.name, key.namespace) != (own.kind, own.name, own.namespace):
            return None
        if key.group != own.group:
            return None
        return app
    label = _metadata_map(live, "labels").get(options.tracking_label)
    return label if isinstance(label, str) and label else None


def _owner_labels(labels: Mapping[str, Any], options: CompareOptions) -> str | None:
    """``<namespace>/<name>`` of the two owner labels Flux writes, or None unless both are set."""
    name, namespace = labels.get(options.tracking_label), labels.get(options.tracking_namespace_label)
    if isinstance(name, str) and name and isinstance(namespace, str) and namespace:
        return f"{namespace}/{name}"
    return None


def claim_prefixes(desired: Iterable[tuple[ObjectKey, KubeObject]]) -> frozenset[tuple[str, str]]:
    """``(namespace, "<template>-<statefulset>-")`` for every volume claim template of the
    StatefulSets Git declares: the StatefulSet controller names each Pod's PVC that prefix plus
    the Pod's ordinal, copies the template's labels (the tracking label included) and, in 1.24,
    sets no ownerReference on it."""
    found: set[tuple[str, str]] = set()
    for key, obj in desired:
        if key.kind != "StatefulSet" or key.group != "apps":
            continue
        spec = obj.get("spec")
        templates = spec.get("volumeClaimTemplates") if isinstance(spec, dict) else None
        for template in templates if isinstance(templates, list) else ():
            meta = template.get("metadata") if isinstance(template, dict) else None
            if isinstance(meta, dict) and isinstance(meta.get("name"), str):
                found.add((key.namespace, f"{meta['name']}-{key.name}-"))
    return frozenset(found)


def _claimed(live: Mapping[str, Any], claims: AbstractSet[tuple[str, str]]) -> bool:
    key = object_key(live)
    if key.kind != "PersistentVolumeClaim" or key.group != "":
        return False
    return any(ns == key.namespace and key.name.startswith(prefix) and key.name[len(prefix):].isdigit()
               for ns, prefix in claims)


def requires_pruning(live: KubeObject, app_name: str, desired_keys: AbstractSet[ObjectKey],
                     options: CompareOptions, claims: AbstractSet[tuple[str, str]] = frozenset(),
                     *, listed: bool = False) -> bool:
    """True when ``live`` carries ``app_name``'s mark (or is ``listed`` as the app's by its
    deployer's own record, Flux's inventory) but Git no longer declares it.

    Children (objects with ownerReferences, and the PVCs a StatefulSet makes from the volume claim
    templates in ``claims``), objects the cluster makes on its own (Events, Endpoints,
    EndpointSlices, Leases), hooks, and objects annotated with Argo CD's
    ``compare-options: IgnoreExtraneous`` never count.
    """
    if not isinstance(live, dict) or (not listed and tracked_app(live, options) != app_name):
        return False
    if _claimed(live, claims):
        return False
    if live.get("kind") in defaults.NEVER_EXTRANEOUS_KINDS:
        return False
    meta = live.get("metadata")
    if isinstance(meta, dict) and meta.get("ownerReferences"):
        return False
    annotations = _metadata_map(live, "annotations")
    compare_options = annotations.get(defaults.COMPARE_OPTIONS_ANNOTATION)
    if isinstance(compare_options, str) and "IgnoreExtraneous" in {
            part.strip() for part in compare_options.split(",")}:
        return False
    if any(name in annotations for name in HOOK_ANNOTATIONS):
        return False
    return object_key(live) not in desired_keys


def _target_key(obj: Mapping[str, Any], ref: Any, default_namespace: str) -> ObjectKey | None:
    if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
        return None
    api_version = str(ref.get("apiVersion") or "apps/v1")
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    meta = obj.get("metadata")
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    return ObjectKey(group, str(ref.get("kind") or "Deployment"), str(namespace or default_namespace),
                     ref["name"])


def hpa_targets(objects: Iterable[KubeObject], default_namespace: str = "") -> frozenset[ObjectKey]:
    """Objects whose replica count an autoscaler owns: HPAs' and KEDA ScaledObjects'
    ``scaleTargetRef``. ``default_namespace`` fills in for manifests that omit their namespace.
    """
    found: set[ObjectKey] = set()
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        kind = obj.get("kind")
        if kind == "HorizontalPodAutoscaler" or (
                kind == "ScaledObject" and str(obj.get("apiVersion") or "").startswith("keda.sh/")):
            spec = obj.get("spec")
            ref = spec.get("scaleTargetRef") if isinstance(spec, dict) else None
            key = _target_key(obj, ref, default_namespace)
            if key is not None:
                found.add(key)
    return frozenset(found)
