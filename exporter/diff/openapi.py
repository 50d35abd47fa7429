"""What the cluster's own OpenAPI document says about the shape of built-in objects.

Every API server publishes ``/openapi/v2``: for each group, version and kind, which fields exist,
which hold a ``Quantity`` (``1000m`` and ``1`` are the same amount), how list items are matched
(``x-kubernetes-list-map-keys``, ``x-kubernetes-patch-merge-key``), which lists are sets. That is
the server's word, version by version, where hand-kept tables are a memory of one version.
:class:`ServerSchemas` turns the document into the same :class:`~exporter.diff.schema.SchemaNode`
trees the comparison already walks, one per kind on first use, with the defaults that only Go code
applies (and no schema states) laid over them from :mod:`exporter.diff.defaults`.

A field Git sets that this server's schema does not have is one the server does not store (a newer
Kubernetes' field, say a CRD's ``selectableFields`` on 1.24): the comparison reports it as "not
stored by this server" instead of as missing live.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exporter.diff.schema import SchemaHints, SchemaNode, builtin_schema, merge_defaults

_REF = "#/definitions/"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
#: Definitions whose inside the comparison never needs (free-form, or recursive JSON schemas).
_OPAQUE = frozenset({"io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
                     "io.k8s.apimachinery.pkg.runtime.RawExtension"})


class ServerSchemas:
    """One cluster's ``/openapi/v2`` document, as comparison trees per group/version/kind."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        definitions = document.get("definitions")
        self._definitions: Mapping[str, Any] = definitions if isinstance(definitions, Mapping) else {}
        self._by_gvk: dict[tuple[str, str, str], str] = {}
        for name, definition in self._definitions.items():
            for gvk in definition.get("x-kubernetes-group-version-kind") or () \
                    if isinstance(definition, Mapping) else ():
                if isinstance(gvk, Mapping):
                    key = (str(gvk.get("group") or ""), str(gvk.get("version") or ""), str(gvk.get("kind") or ""))
                    self._by_gvk.setdefault(key, name)
        self._hints: dict[tuple[str, str, str], SchemaHints | None] = {}

    def knows(self, group: str, version: str, kind: str) -> bool:
        return (group, version, kind) in self._by_gvk

    def hints(self, group: str, version: str, kind: str) -> SchemaHints | None:
        """The tree for one kind in one version (built once), or None when the document lacks it
        (a custom resource: its CRD's own schema serves then)."""
        key = (group, version, kind)
        if key not in self._hints:
            name = self._by_gvk.get(key)
            tree = _convert(self._definitions, name, ()) if name is not None else None
            if tree is not None:
                merge_defaults(tree, builtin_schema(kind))
            self._hints[key] = SchemaHints(group, kind, {version: tree}, version) if tree is not None else None
        return self._hints[key]


def _resolve(definitions: Mapping[str, Any], schema: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF):
        name = ref[len(_REF):]
        target = definitions.get(name)
        return name, target if isinstance(target, Mapping) else {}
    return None, schema


def _convert(definitions: Mapping[str, Any], name: str | None, seen: tuple[str, ...],
             schema: Mapping[str, Any] | None = None) -> SchemaNode | None:
    """A node for a definition (by ``name``) or an inline ``schema``; None where nothing is known.

    A definition already on the way down (``seen``) is recursive: it is left open rather than
    expanded forever."""
    if schema is None:
        if name is None or name in seen or name in _OPAQUE:
            return None
        schema = definitions.get(name)
        if not isinstance(schema, Mapping):
            return None
        seen = (*seen, name)
    node = SchemaNode()
    if name == _QUANTITY:
        node.quantity = True
        return node
    list_type = schema.get("x-kubernetes-list-type")
    keys = schema.get("x-kubernetes-list-map-keys")
    merge_key = schema.get("x-kubernetes-patch-merge-key")
    if list_type == "map" and isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys):
        node.list_keys = tuple((k, None) for k in keys)
    elif isinstance(merge_key, str) and merge_key:
        node.list_keys = ((merge_key, None),)
    elif list_type == "set":
        node.list_set = True
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        node.known = frozenset(str(p) for p in properties)
        for prop, sub in properties.items():
            child = _child(definitions, sub, seen)
            if child is not None:
                node.fields[str(prop)] = child
    additional = schema.get("additionalProperties")
    if isinstance(additional, Mapping):
        node.known = None
        node.values = _child(definitions, additional, seen)
    items = schema.get("items")
    if isinstance(items, Mapping):
        node.items = _child(definitions, items, seen)
    return node


def _child(definitions: Mapping[str, Any], schema: Any, seen: tuple[str, ...]) -> SchemaNode | None:
    if not isinstance(schema, Mapping):
        return None
    name, target = _resolve(definitions, schema)
    if name is not None:
        return _convert(definitions, name, seen)
    if schema.get("type") in ("object", "array") or "properties" in schema:
        return _convert(definitions, None, seen, schema)
    return None
