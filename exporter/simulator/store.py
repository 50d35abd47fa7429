"""The simulated cluster's data: objects, change events, watchers and the patch rules it applies."""


from __future__ import annotations

import asyncio
import copy
import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from exporter.kube.selectors import (
    FieldRequirement,
    Requirement,
    fields_match,
    labels_match,
)
from exporter.simulator import managed

Obj = dict[str, Any]
StoreKey = tuple[str, str]  # (group, plural)
NameKey = tuple[str, str]  # (namespace, name)

READ_VERBS = ("get", "list", "watch")
WRITE_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
CRD_KIND = ("apiextensions.k8s.io", "CustomResourceDefinition")
CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can start a "
    "new list without the continue parameter, or use the continue token in this response to retrieve "
    "the remainder of the results. Continuing with the provided token results in an inconsistent list - "
    "objects that were created, modified, or deleted between the time the first chunk was returned and "
    "now may show up in the list.")



class SimulationError(ValueError):
    """A test or the demo asked the simulated cluster for something a real cluster would refuse."""


def now_timestamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_body(code: int, reason: str, message: str, details: Mapping[str, Any] | None = None) -> Obj:
    """A ``Status`` failure shaped like the captured ones (``details`` only when there are any)."""
    body: Obj = {"apiVersion": "v1", "code": code, "kind": "Status", "message": message,
                 "metadata": {}, "reason": reason, "status": "Failure"}
    if details is not None:
        body["details"] = dict(details)
    return body


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: maps merge, ``null`` deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


def strategic_patch(target: Any, patch: Any) -> Any:
    """A strategic merge patch, as ``kubectl patch`` sends by default: like a merge patch, except that
    lists with a merge key (containers and env by ``name``, ports by port and protocol …) are merged
    item by item, and an item ``{"$patch": "delete", <key>}`` removes its counterpart."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        current = result.get(k)
        if v is None:
            result.pop(k, None)
        elif isinstance(v, list) and isinstance(current, list) and v and all(
                isinstance(i, dict) and managed.item_key(k, i) for i in [*v, *current]):
            merged = list(current)
            for item in v:
                ident = managed.item_key(k, item)
                at = next((n for n, old in enumerate(merged) if managed.item_key(k, old) == ident), None)
                if item.get("$patch") == "delete":
                    if at is not None:
                        del merged[at]
                elif at is None:
                    merged.append(copy.deepcopy(item))
                else:
                    merged[at] = strategic_patch(merged[at], item)
            result[k] = merged
        else:
            result[k] = strategic_patch(current, v)
    return result


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def record_last_applied(obj: Obj, namespace: str | None) -> None:
    """Add the annotation client-side ``kubectl apply`` writes, in its exact form (sorted compact
    JSON of what was applied, with ``annotations: {}`` and the namespace filled in, and a newline)."""
    meta = obj.setdefault("metadata", {})
    annotations = meta.setdefault("annotations", {})
    if LAST_APPLIED in annotations:
        return
    applied = copy.deepcopy(obj)
    applied.pop("status", None)
    ameta = applied["metadata"]
    for k in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields",
              "deletionTimestamp", "deletionGracePeriodSeconds"):
        ameta.pop(k, None)
    if namespace is not None:
        ameta["namespace"] = namespace
    annotations[LAST_APPLIED] = json.dumps(applied, sort_keys=True, separators=(",", ":")) + "\n"


def spec_of(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")}


@dataclass
class StoredEvent:
    rv: int
    store: StoreKey
    type: str
    key: NameKey
    obj: Obj
    prev: Obj | None


@dataclass(eq=False)
class Watcher:
    store: StoreKey
    namespace: str | None
    labels: tuple[Requirement, ...]
    fields: tuple[FieldRequirement, ...]
    queue: asyncio.Queue[tuple[str, Obj] | None] = field(default_factory=asyncio.Queue)

    def matches(self, obj: Obj | None) -> bool:
        if obj is None:
            return False
        ns = (obj.get("metadata") or {}).get("namespace") or ""
        if self.namespace is not None and ns != self.namespace:
            return False
        return labels_match(self.labels, obj) and fields_match(self.fields, obj)

    def translate(self, ev: StoredEvent) -> tuple[str, Obj] | None:
        """What this watcher sees of a change: objects entering or leaving its selector appear as
        ADDED or DELETED, as the API server's watch cache reports them."""
        now = self.matches(ev.obj) if ev.type != "DELETED" else False
        before = self.matches(ev.prev)
        if ev.type == "DELETED":
            return ("DELETED", ev.obj) if before else None
        if now and before:
            return ("MODIFIED", ev.obj)
        if now:
            return ("ADDED", ev.obj)
        if before:
            return ("DELETED", ev.obj)
        return None


@dataclass(frozen=True)
class ApiRoute:
    """A Kubernetes API path taken apart: ``/apis/<group>/<version>/namespaces/<ns>/<plural>/<name>/<sub>``."""

    group: str
    version: str | None = None
    plural: str | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None

    @classmethod
    def parse(cls, path: str) -> ApiRoute | None:
        parts = [p for p in path.split("/") if p]
        version: str | None
        if len(parts) >= 2 and parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        elif len(parts) >= 2 and parts[0] == "apis":
            group, version, rest = parts[1], (parts[2] if len(parts) > 2 else None), parts[3:]
        else:
            return None
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        if not rest:
            return cls(group, version)
        return cls(group, version, rest[0], namespace, rest[1] if len(rest) > 1 else None,
                   "/".join(rest[2:]) or None)


