"""Helm's record of what it last applied: the release it keeps in the cluster.

An object Helm installed carries the annotations ``meta.helm.sh/release-name`` and
``meta.helm.sh/release-namespace``. Helm 3 keeps each revision of a release as a Secret (its default
storage driver) or a ConfigMap (``HELM_DRIVER=configmap``) in the release's namespace, labelled
``owner=helm``, ``name=<release>``, ``status=deployed|superseded|...`` and ``version=<n>``; its
``release`` value is the release as gzipped JSON in base64, whose ``manifest`` is the rendered chart
Helm applied. ``helm upgrade`` is a three-way merge of that manifest, the new one and the live
object, so a field the manifest holds that the new render lacks is deleted by the next upgrade:
the same role as kubectl's last-applied annotation.

Only key skeletons leave this module (:func:`exporter.kube.compact.skeleton`): the release holds
every Secret of the chart in clear, and none of its values is kept.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import gzip
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from exporter.kube.compact import skeleton
from exporter.kube.errors import Forbidden, KubeError
from exporter.model import KubeObject, ObjectKey

log = logging.getLogger("exporter.kube")

RELEASE_NAME = "meta.helm.sh/release-name"
RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"
#: Helm's field manager (what its updates record in managedFields).
HELM_MANAGER = "helm"

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def release_of(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(namespace, name)`` of the Helm release that installed ``obj``, from its annotations."""
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(annotations, dict):
        return None
    name, namespace = annotations.get(RELEASE_NAME), annotations.get(RELEASE_NAMESPACE)
    if isinstance(name, str) and name and isinstance(namespace, str) and namespace:
        return namespace, name
    return None


@dataclass(frozen=True)
class ReleaseRecord:
    """One deployed revision of a release: its objects as Helm applied them, as key skeletons."""

    namespace: str
    name: str
    version: int
    objects: Mapping[ObjectKey, Mapping[str, Any]]

    @property
    def deployer(self) -> str:
        return f"helm release {self.name} revision {self.version}"

    def find(self, key: ObjectKey) -> Mapping[str, Any] | None:
        """The manifest Helm applied for ``key`` (a manifest without a namespace is the release's)."""
        found = self.objects.get(key)
        if found is None and key.namespace == "":
            found = self.objects.get(ObjectKey(key.group, key.kind, self.namespace, key.name))
        return found


def _release_json(value: Any, double: bool) -> Mapping[str, Any] | None:
    """The release document from a storage object's ``release`` value (base64 once more in a
    Secret, whose values the API itself serves base64-encoded)."""
    if not isinstance(value, str):
        return None
    try:
        raw = base64.b64decode(value, validate=True)
        if double:
            raw = base64.b64decode(raw, validate=True)
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        doc = json.loads(raw)
    except (binascii.Error, ValueError, OSError, EOFError):
        return None
    return doc if isinstance(doc, dict) else None


def decode_release(storage: Mapping[str, Any]) -> ReleaseRecord | None:
    """The record held by one release Secret or ConfigMap, or None when it is not one Helm wrote."""
    data = storage.get("data")
    if not isinstance(data, dict):
        return None
    doc = _release_json(data.get("release"), double=storage.get("kind") == "Secret")
    if doc is None or not isinstance(doc.get("manifest"), str):
        return None
    namespace, name = str(doc.get("namespace") or ""), str(doc.get("name") or "")
    version = doc["version"] if isinstance(doc.get("version"), int) else 0
    objects: dict[ObjectKey, Mapping[str, Any]] = {}
    try:
        documents = list(yaml.load_all(doc["manifest"], Loader=_Loader))
    except yaml.YAMLError:
        return None
    for obj in documents:
        if isinstance(obj, dict) and isinstance(obj.get("metadata"), dict):
            key = ObjectKey.of(obj, namespace)
            objects[key] = skeleton(obj)
    return ReleaseRecord(namespace, name, version, objects)


def latest_deployed(storage: Iterable[KubeObject]) -> ReleaseRecord | None:
    """The highest deployed revision among a release's storage objects."""
    best: ReleaseRecord | None = None
    for item in storage:
        labels = (item.get("metadata") or {}).get("labels") or {}
        if labels.get("owner") != "helm" or labels.get("status") != "deployed":
            continue
        record = decode_release(item)
        if record is not None and (best is None or record.version > best.version):
            best = record
    return best


async def read_release(client: Any, secrets: Any, configmaps: Any, namespace: str,
                       name: str) -> ReleaseRecord | None:
    """Read release ``namespace/name`` through ``client`` (list with a label selector: get and list
    only), from Secrets, then ConfigMaps; None where there is none or it may not be read."""
    selector = f"owner=helm,name={name},status=deployed"
    for res in (secrets, configmaps):
        if res is None:
            continue
        try:
            items, _ = await client.list(res, namespace, selector)
        except Forbidden as exc:
            log.info("cannot read Helm release %s/%s: %s", namespace, name, exc)
            continue
        except KubeError as exc:
            log.warning("cannot read Helm release %s/%s: %s", namespace, name, exc)
            continue
        record = await asyncio.to_thread(latest_deployed, items)  # gunzip and YAML: off the loop
        if record is not None:
            return record
    return None
