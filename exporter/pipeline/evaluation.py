"""One app's objects judged: each desired object against its live counterpart, plus the live
objects that carry the app's mark but that Git no longer declares.

A pure function over a read-only view of the live cache, so the comparison of an app is tested
without any cluster (``tests/pipeline``): the agent resolves kinds, starts watches and checks
staleness first, then hands this function what it found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from exporter import diff
from exporter.config_types import AppConfig
from exporter.health import HealthEngine
from exporter.model import (
    HOOK_ANNOTATIONS,
    NOT_COMPARED_KEY,
    Health,
    HealthResult,
    KubeObject,
    ObjectKey,
    ObjectStatus,
    Sync,
)


@dataclass(frozen=True)
class DesiredObject:
    """An object Git declares, where it lives, and the served version Git wrote it in."""

    key: ObjectKey
    manifest: KubeObject
    version: str


class LiveView(Protocol):
    """What the evaluation reads of one cluster's cache."""

    def get(self, key: ObjectKey, version: str) -> KubeObject | None:
        """The live object as served in ``version``, or None when it does not exist."""
        ...

    def schema(self, key: ObjectKey, version: str) -> diff.SchemaHints | None:
        """What the cluster says about the kind's shape (its CRD, or its OpenAPI document)."""
        ...

    def tracked(self, app: str) -> Mapping[ObjectKey, KubeObject]:
        """Live objects that carry ``app``'s tracking mark."""
        ...


@dataclass
class Evaluation:
    objects: list[ObjectStatus]
    #: The live objects compared, by key (the cache's own dicts), for freeze reports.
    seen: dict[ObjectKey, KubeObject]


def health_excluded(obj: Mapping[str, Any]) -> bool:
    """Children (ownerReferences) and hooks do not count towards the app's health."""
    meta = obj.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    return bool(meta.get("ownerReferences")) or any(a in annotations for a in HOOK_ANNOTATIONS)


SOPS = "SOPS-encrypted in Git"
IF_NOT_PRESENT = "Flux only creates it when absent (kustomize.toolkit.fluxcd.io/ssa: IfNotPresent)"
DRIFT_DETECTION = "helm.toolkit.fluxcd.io/driftDetection"
DRIFT_DISABLED = f"Flux is told not to detect its drift ({DRIFT_DETECTION}: disabled)"


def not_compared(manifest: Mapping[str, Any]) -> str:
    """Why an object's fields are not compared with Git, or "": a SOPS-encrypted Secret (Git holds
    ciphertext, the cluster what Flux decrypted; this agent holds no keys) can only be found present,
    and an object Flux applies only if it is not present is the cluster's to change after that."""
    marked = manifest.get(NOT_COMPARED_KEY)
    if isinstance(marked, str) and marked:
        return marked
    sops = manifest.get("sops")
    if isinstance(sops, dict) and ("mac" in sops or "lastmodified" in sops):
        return SOPS
    meta = manifest.get("metadata")
    annotations = (meta.get("annotations") if isinstance(meta, dict) else None) or {}
    if str(annotations.get("kustomize.toolkit.fluxcd.io/ssa", "")).lower() == "ifnotpresent":
        return IF_NOT_PRESENT
    labels = (meta.get("labels") if isinstance(meta, dict) else None) or {}
    if "disabled" in (annotations.get(DRIFT_DETECTION), labels.get(DRIFT_DETECTION)):
        return DRIFT_DISABLED
    return ""


#: Flux's per-object opt-out of pruning, as an annotation or a label.
PRUNE_KEY = "kustomize.toolkit.fluxcd.io/prune"


def kept_by_flux(obj: Mapping[str, Any]) -> str:
    """Why Flux leaves ``obj`` in place when Git drops it: its ``prune: disabled`` mark, or ""."""
    meta = obj.get("metadata") or {}
    for where in ("annotations", "labels"):
        if (meta.get(where) or {}).get(PRUNE_KEY) == "disabled":
            return f"{where[:-1]} {PRUNE_KEY}: disabled"
    return ""


def evaluate_objects(app: AppConfig, desired: Sequence[DesiredObject], live: LiveView,
                     health: HealthEngine, revision: str = "",
                     records: Mapping[ObjectKey, diff.Record] | None = None,
                     inventory: Mapping[ObjectKey, KubeObject] | None = None) -> Evaluation:
    """Every desired object compared and assessed, then every extraneous tracked object.

    ``revision`` is the Git commit ``desired`` was rendered from; ``records`` what a deployer that
    keeps its own record (Helm) last applied, by object; ``inventory`` the live objects the
    deployer lists as the app's (Flux's inventory), found even without their tracking mark."""
    inventory = inventory or {}

    def awaits(key: ObjectKey, version: str) -> bool:
        schema = live.schema(key, version)
        return isinstance(schema, diff.SchemaHints) and schema.declares_status(version)

    hpas = diff.hpa_targets(d.manifest for d in desired)
    keys = frozenset(d.key for d in desired)
    objects: list[ObjectStatus] = []
    seen: dict[ObjectKey, KubeObject] = {}
    for item in desired:
        api_version = str(item.manifest.get("apiVersion"))
        current = live.get(item.key, item.version)
        excluded = health_excluded(item.manifest)
        if current is None:
            objects.append(ObjectStatus(item.key, api_version, exists=False, sync=Sync.OUT_OF_SYNC,
                                        health=HealthResult(Health.MISSING, "absent from the cluster", reason="absent"),
                                        health_excluded=excluded))
            continue
        seen[item.key] = current
        if why := not_compared(item.manifest):
            objects.append(ObjectStatus(item.key, api_version, exists=True,
                                        health=health.assess(current, awaits_status=awaits(item.key, item.version)),
                                        sync=Sync.SYNCED if why in (IF_NOT_PRESENT, DRIFT_DISABLED) else Sync.UNKNOWN, not_compared=why,
                                        health_excluded=excluded or health_excluded(current)))
            continue
        schema = live.schema(item.key, item.version)
        result = diff.compare(item.manifest, current, app.compare, hpa_targets=hpas, schema=schema,
                              revision=revision, record=(records or {}).get(item.key))
        awaited = isinstance(schema, diff.SchemaHints) and schema.declares_status(item.version)
        objects.append(ObjectStatus(item.key, api_version, exists=True, sync=result.sync,
                                    health=health.assess(current, awaits_status=awaited), diff=result,
                                    health_excluded=excluded or health_excluded(current)))
    claims = diff.claim_prefixes((d.key, d.manifest) for d in desired)
    tracked = live.tracked(app.name)
    for key, extra in sorted(({**inventory, **tracked} if inventory else tracked).items()):
        if key not in keys and diff.requires_pruning(extra, app.mark or app.name, keys, app.compare, claims,
                                                     listed=key not in tracked):
            objects.append(ObjectStatus(key, str(extra.get("apiVersion")), exists=True, sync=Sync.OUT_OF_SYNC,
                                        health=health.assess(extra), requires_pruning=True, kept=kept_by_flux(extra)))
    return Evaluation(objects, seen)
