"""What the comparison knows about the shape of an object: defaults, quantities, list keys.

Built-in kinds get their knowledge from the tables in ``defaults``; custom resources get it from
their CustomResourceDefinition's ``openAPIV3Schema`` through ``SchemaHints``. Both end up as the
same small tree of ``SchemaNode``s that the comparison walks next to the object, so a field costs a
dictionary lookup and nothing else when the tree has nothing to say about it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from exporter.diff import defaults
from exporter.model import KubeObject

#: Marks "no default known"; ``None`` is a legitimate default value.
NO_DEFAULT: Any = object()


class SchemaNode:
    """Knowledge about one field position. Children: named ``fields``, map ``values``, list ``items``."""

    __slots__ = ("fields", "values", "items", "default", "quantity", "list_keys", "list_set", "known")

    def __init__(self) -> None:
        self.fields: dict[str, SchemaNode] = {}
        self.values: SchemaNode | None = None
        self.items: SchemaNode | None = None
        self.default: Any = NO_DEFAULT
        self.quantity = False
        self.list_keys: tuple[tuple[str, Any], ...] | None = None
        self.list_set = False
        #: Every field name the server's schema has here, when it lists them all (None: open).
        self.known: frozenset[str] | None = None

    def child(self, name: str) -> SchemaNode | None:
        found = self.fields.get(name)
        return found if found is not None else self.values

    def is_empty(self) -> bool:
        return (not self.fields and self.values is None and self.items is None
                and self.default is NO_DEFAULT and not self.quantity
                and self.list_keys is None and not self.list_set and self.known is None)


def _insert(root: SchemaNode, path: str, default: Any) -> None:
    node = root
    for part in path.split("."):
        is_list = part.endswith("[]")
        name = part[:-2] if is_list else part
        nxt = node.fields.get(name)
        if nxt is None:
            nxt = node.fields[name] = SchemaNode()
        node = nxt
        if is_list:
            if node.items is None:
                node.items = SchemaNode()
            node = node.items
    node.default = default


@cache
def builtin_schema(kind: str) -> SchemaNode | None:
    """The defaults tree for a built-in kind, or None when the tables know nothing about it."""
    entries: dict[str, Any] = dict(defaults.KIND_DEFAULTS.get(kind, {}))
    pod_spec = defaults.POD_SPEC_LOCATIONS.get(kind)
    if pod_spec is not None:
        for path, value in defaults.POD_SPEC_DEFAULTS.items():
            entries[f"{pod_spec}.{path}"] = value
        for containers in ("containers", "initContainers", "ephemeralContainers"):
            for path, value in defaults.CONTAINER_DEFAULTS.items():
                entries[f"{pod_spec}.{containers}[].{path}"] = value
    unordered = defaults.UNORDERED_LISTS.get(kind, ())
    if not entries and not unordered:
        return None
    root = SchemaNode()
    for path, value in entries.items():
        _insert(root, path, value)
    for path in unordered:
        node = root
        for part in path.split("."):
            node = node.fields.setdefault(part, SchemaNode())
        node.list_set = True
    return root


def merge_defaults(tree: SchemaNode, table: SchemaNode | None) -> None:
    """Lay the defaults of a hand-kept ``table`` tree (what Go code defaults and no schema states)
    over a schema ``tree``, adding nodes where the schema had nothing to say."""
    if table is None:
        return
    if table.default is not NO_DEFAULT:
        tree.default = table.default
    tree.list_set = tree.list_set or table.list_set
    tree.quantity = tree.quantity or table.quantity
    for name, sub in table.fields.items():
        child = tree.fields.get(name)
        if child is None:
            child = tree.fields[name] = SchemaNode()
        merge_defaults(child, sub)
    if table.items is not None:
        if tree.items is None:
            tree.items = SchemaNode()
        merge_defaults(tree.items, table.items)


def _fill(value: Any, node: SchemaNode) -> None:
    if isinstance(value, dict):
        for name, child in node.fields.items():
            if name not in value and child.default is not NO_DEFAULT:
                default = child.default(value) if callable(child.default) else copy.deepcopy(child.default)
                if default is not None:
                    value[name] = default
            if name in value:
                _fill(value[name], child)
    elif isinstance(value, list) and node.items is not None:
        for item in value:
            _fill(item, node.items)


def with_defaults(obj: KubeObject, schema: SchemaHints | None = None) -> KubeObject:
    """A copy of ``obj`` with the defaults the tables (or a CRD's schema) know filled in.

    Only inside maps the object already has: what the API server would store for a manifest, as
    far as these tables can tell. Useful to simulate an API server and to test the tables.
    """
    result = copy.deepcopy(obj)
    api_version = str(obj.get("apiVersion") or "")
    if schema is not None:
        root = schema.for_api_version(api_version)
    else:
        root = builtin_schema(str(obj.get("kind") or ""))
    if root is not None:
        _fill(result, root)
    return result


def _is_quantity_schema(schema: Mapping[str, Any]) -> bool:
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and "[KMGTPE]i" in pattern:
        return True
    return schema.get("format") == "quantity"


def _from_openapi(schema: Any, depth: int = 0) -> SchemaNode | None:
    """Keep only what the comparison can use; an uninteresting subtree becomes None."""
    if not isinstance(schema, Mapping) or depth > 64:
        return None
    node = SchemaNode()
    if "default" in schema:
        node.default = schema["default"]
    if _is_quantity_schema(schema):
        node.quantity = True
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "map":
        keys = schema.get("x-kubernetes-list-map-keys")
        if isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys):
            node.list_keys = tuple((k, None) for k in keys)
    elif list_type == "set":
        node.list_set = True
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        for name, sub in properties.items():
            child = _from_openapi(sub, depth + 1)
            if child is not None:
                node.fields[str(name)] = child
    additional = schema.get("additionalProperties")
    if isinstance(additional, Mapping):
        node.values = _from_openapi(additional, depth + 1)
    items = schema.get("items")
    if isinstance(items, Mapping):
        node.items = _from_openapi(items, depth + 1)
    return None if node.is_empty() else node


@dataclass(frozen=True)
class SchemaHints:
    """What a CustomResourceDefinition says about its custom resources, per served version.

    The comparison uses it to treat ``500m`` and ``0.5`` as the same quantity (fields whose pattern
    is Kubernetes' quantity pattern, or ``format: quantity``), to match list items by
    ``x-kubernetes-list-map-keys`` and compare ``x-kubernetes-list-type: set`` lists without order,
    and to treat a field Git sets to the schema ``default`` as equal to a live object that lacks it.
    (``8080`` and ``"8080"`` are equal everywhere, so ``x-kubernetes-int-or-string`` needs nothing.)
    """

    group: str
    kind: str
    versions: Mapping[str, SchemaNode | None] = field(default_factory=dict)
    storage_version: str = ""
    #: The versions whose objects have a ``status`` subresource: a controller writes their status,
    #: so an object without one has not been reconciled yet.
    status_versions: frozenset[str] = frozenset()

    def declares_status(self, api_version: str) -> bool:
        return api_version.rpartition("/")[2] in self.status_versions

    @classmethod
    def from_crd(cls, crd: KubeObject) -> dict[tuple[str, str], SchemaHints]:
        """Hints from one CRD, keyed by ``(group, kind)``; empty when the CRD is malformed.

        Returned as a mapping so that callers can ``update`` one index from every CRD they see.
        """
        spec = crd.get("spec") if isinstance(crd, Mapping) else None
        if not isinstance(spec, Mapping):
            return {}
        group = spec.get("group")
        names = spec.get("names")
        kind = names.get("kind") if isinstance(names, Mapping) else None
        if not isinstance(group, str) or not isinstance(kind, str):
            return {}
        versions: dict[str, SchemaNode | None] = {}
        storage = ""
        with_status: set[str] = set()
        every_status = isinstance(spec.get("subresources"), Mapping) and "status" in spec["subresources"]
        top_level = spec.get("validation")  # apiextensions.k8s.io/v1beta1 puts one schema here
        shared = top_level.get("openAPIV3Schema") if isinstance(top_level, Mapping) else None
        listed = spec.get("versions")
        if isinstance(listed, list):
            for version in listed:
                if not isinstance(version, Mapping) or not isinstance(version.get("name"), str):
                    continue
                schema = version.get("schema")
                openapi = schema.get("openAPIV3Schema") if isinstance(schema, Mapping) else shared
                versions[version["name"]] = _from_openapi(openapi)
                subresources = version.get("subresources")
                if every_status or (isinstance(subresources, Mapping) and "status" in subresources):
                    with_status.add(version["name"])
                if version.get("storage") is True:
                    storage = version["name"]
        elif isinstance(spec.get("version"), str):
            versions[spec["version"]] = _from_openapi(shared)
            storage = spec["version"]
            if every_status:
                with_status.add(spec["version"])
        if not storage and versions:
            storage = next(iter(versions))
        return {(group, kind): cls(group, kind, versions, storage, frozenset(with_status))}

    def for_api_version(self, api_version: str) -> SchemaNode | None:
        """The tree for ``group/version``; the storage version's when that version is unknown."""
        version = api_version.rpartition("/")[2]
        if version in self.versions:
            return self.versions[version]
        return self.versions.get(self.storage_version)
