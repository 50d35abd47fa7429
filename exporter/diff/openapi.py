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

from collections.abc import Mapping, Sequence
from typing import Any

from exporter.diff.schema import SchemaHints, SchemaNode, builtin_schema, merge_defaults

#: Where references point: v2 ``definitions``, v3 ``components.schemas`` (the same names).
_REFS = ("#/definitions/", "#/components/schemas/")
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
#: Definitions whose inside the comparison never needs (free-form, or recursive JSON schemas).
_OPAQUE = frozenset({"io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
                     "io.k8s.apimachinery.pkg.runtime.RawExtension"})


class ServerSchemas:
    """One cluster's OpenAPI documents as comparison trees per group/version/kind.

    ``document`` is ``/openapi/v2``; ``v3`` the ``/openapi/v3`` group-version documents where the
    server serves them. Their schemas carry the same names; v3's win, because only v3 keeps the
    ``default`` values of built-in fields (v2 drops them), which then stand in for the hand table.
    """

    def __init__(self, document: Mapping[str, Any], v3: Sequence[Mapping[str, Any]] = ()) -> None:
        definitions = document.get("definitions")
        merged: dict[str, Any] = dict(definitions) if isinstance(definitions, Mapping) else {}
        for doc in v3:
            components = doc.get("components")
            schemas = components.get("schemas") if isinstance(components, Mapping) else None
            if isinstance(schemas, Mapping):
                merged.update(schemas)
        self.source = "v3" if v3 else "v2"
        self._definitions: Mapping[str, Any] = merged
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


def _ref_name(schema: Mapping[str, Any]) -> str | None:
    """The definition a schema refers to: ``$ref``, or v3's ``allOf: [{$ref}]`` wrapper (which
    lets a reference carry a description or a default of its own)."""
    ref = schema.get("$ref")
    if ref is None:
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], Mapping):
            ref = all_of[0].get("$ref")
    if isinstance(ref, str):
        for prefix in _REFS:
            if ref.startswith(prefix):
                return ref[len(prefix):]
    return None


def _resolve(definitions: Mapping[str, Any], schema: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    name = _ref_name(schema)
    if name is not None:
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
        node = _convert(definitions, name, seen)
    elif schema.get("type") in ("object", "array") or "properties" in schema:
        node = _convert(definitions, None, seen, schema)
    else:
        node = None
    default = schema.get("default")
    if default is not None and default not in ({}, []):  # empty structs say nothing
        node = node if node is not None else SchemaNode()
        node.default = default
    return node
