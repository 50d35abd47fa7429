"""``metadata.managedFields`` bookkeeping for the simulated cluster.

The comparison stage decides whether a live field is drift by asking *who wrote it* (a human with
``kubectl edit``, a controller, the pipeline), so the simulated cluster has to attribute fields the
way a real API server does, in the same ``FieldsV1`` shape: ``f:<field>`` for map keys,
``k:{"name":"x"}`` for list items that have a merge key, ``.`` for "this node itself", and ``{}``
for a leaf or an atomic value. Ownership moves as on a real server for ``Update`` operations: a
writer gains the fields it changed, and earlier owners of exactly those fields lose them.

Fields are handled as sets of paths (tuples of ``f:``/``k:`` elements, ending in ``.`` when the
path names a map or list item itself); the nested ``FieldsV1`` dict is only the wire format.
"""

from __future__ import annotations

import json
from typing import Any

Path = tuple[str, ...]

#: Metadata a client writes; everything else under metadata belongs to the server.
CLIENT_METADATA = ("labels", "annotations", "finalizers", "ownerReferences")

#: Lists whose items are merged by key rather than replaced whole.
MERGE_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "conditions": ("type",),
    "imagePullSecrets": ("name",),
    "volumeClaimTemplates": ("metadata",),
}

#: Maps the API treats as one value (``{}`` in FieldsV1, no children).
ATOMIC_MAPS = {"selector", "fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"}

#: Structural maps that always exist on the object, so no writer owns the node itself.
STRUCTURAL = {"metadata", "spec", "status", "template", "strategy", "containers", "initContainers"}


def item_key(list_name: str, item: dict[str, Any]) -> str | None:
    """The ``k:{...}`` identity of a list item, or None if items of this list are not keyed."""
    if list_name == "ports":
        if "containerPort" in item:
            return "k:" + json.dumps({"containerPort": item["containerPort"],
                                      "protocol": item.get("protocol", "TCP")}, separators=(",", ":"))
        if "port" in item:
            return "k:" + json.dumps({"port": item["port"], "protocol": item.get("protocol", "TCP")},
                                     separators=(",", ":"))
        return None
    keys = MERGE_KEYS.get(list_name)
    if not keys or not all(k in item for k in keys) or keys == ("metadata",):
        return None
    return "k:" + json.dumps({k: item[k] for k in keys}, separators=(",", ":"))


def _walk(value: Any, name: str, path: Path, out: dict[Path, Any]) -> None:
    if isinstance(value, dict) and name not in ATOMIC_MAPS:
        if name not in STRUCTURAL:
            out[path + (".",)] = None
        for k, v in value.items():
            _walk(v, k, path + (f"f:{k}",), out)
        return
    if isinstance(value, list) and value and all(isinstance(i, dict) for i in value):
        keys = [item_key(name, i) for i in value]
        if all(keys):
            if name not in STRUCTURAL:
                out[path + (".",)] = None
            for key, item in zip(keys, value, strict=True):
                assert key is not None
                item_path = path + (key,)
                out[item_path + (".",)] = None
                for k, v in item.items():
                    _walk(v, k, item_path + (f"f:{k}",), out)
            return
    out[path] = value


def field_values(obj: dict[str, Any], subresource: str | None = None) -> dict[Path, Any]:
    """Every path an object (or its ``status`` when ``subresource='status'``) sets, with its value."""
    out: dict[Path, Any] = {}
    if subresource == "status":
        if "status" in obj:
            _walk(obj["status"], "status", ("f:status",), out)
        return out
    for k, v in obj.items():
        if k in ("apiVersion", "kind", "status"):
            continue
        if k == "metadata":
            for mk in CLIENT_METADATA:
                if mk in (v or {}):
                    _walk(v[mk], mk, ("f:metadata", f"f:{mk}"), out)
            continue
        _walk(v, k, (f"f:{k}",), out)
    return out


def changed_paths(old: dict[Path, Any], new: dict[Path, Any]) -> set[Path]:
    """Paths a write set or changed, plus the ones it removed."""
    changed = {p for p, v in new.items() if p not in old or (p[-1] != "." and old[p] != v)}
    return changed | (set(old) - set(new))


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    """Render a path set in the API's nested ``FieldsV1`` form."""
    root: dict[str, Any] = {}
    for p in sorted(paths):
        node = root
        for el in p:
            node = node.setdefault(el, {})

    def tidy(node: dict[str, Any]) -> dict[str, Any]:
        if set(node) == {"."}:
            return {}
        return {k: tidy(v) for k, v in sorted(node.items())}

    return {k: tidy(v) for k, v in sorted(root.items())}


def from_fields_v1(fields: dict[str, Any], path: Path = ()) -> set[Path]:
    """The path set of a ``FieldsV1`` tree (the inverse of :func:`to_fields_v1`), so an object
    captured from a real server keeps its owners when the simulated cluster changes it later."""
    out: set[Path] = set()
    for key, child in fields.items():
        if key == ".":
            out.add(path + (".",))
        elif isinstance(child, dict) and child:
            out |= from_fields_v1(child, path + (key,))
        else:
            out.add(path + (key,))
    return out
