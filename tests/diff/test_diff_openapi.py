"""The server's OpenAPI documents as comparison knowledge: quantities, list keys, fields the server
does not have, and (v3) defaults, read from small documents shaped as a real server writes them."""

from __future__ import annotations

from exporter.config_types import CompareOptions
from exporter.diff import compare
from exporter.diff.openapi import ServerSchemas

V2 = {"definitions": {
    "io.example.v1.Widget": {
        "x-kubernetes-group-version-kind": [{"group": "example.io", "version": "v1", "kind": "Widget"}],
        "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                       "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
                       "spec": {"$ref": "#/definitions/io.example.v1.WidgetSpec"}}},
    "io.example.v1.WidgetSpec": {"properties": {
        "size": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity"},
        "ports": {"type": "array", "items": {"$ref": "#/definitions/io.example.v1.Port"},
                  "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
        "mode": {"type": "string"}}},
    "io.example.v1.Port": {"properties": {"name": {"type": "string"}, "port": {"type": "integer"}}},
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"},
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"properties": {"name": {"type": "string"},
                                                                         "namespace": {"type": "string"}}},
}}
V3 = [{"components": {"schemas": {
    "io.example.v1.WidgetSpec": {"properties": {
        "size": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"}]},
        "ports": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/io.example.v1.Port"}]},
                  "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
        "mode": {"type": "string", "default": "fast"}}},
}}}]


def widget(spec: dict) -> dict:
    return {"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "ns"},
            "spec": spec}


def diffs(desired: dict, live: dict, schemas: ServerSchemas) -> list[str]:
    result = compare(desired, live, CompareOptions(), schema=schemas.hints("example.io", "v1", "Widget"))
    return [d.path for d in result.differences]


def test_a_quantity_field_compares_amounts() -> None:
    schemas = ServerSchemas(V2)
    assert diffs(widget({"size": "1000m"}), widget({"size": "1"}), schemas) == []
    assert diffs(widget({"size": "2"}), widget({"size": "1"}), schemas) == ["/spec/size"]


def test_list_items_are_matched_by_their_map_keys() -> None:
    desired = widget({"ports": [{"name": "a", "port": 1}, {"name": "b", "port": 2}]})
    live = widget({"ports": [{"name": "b", "port": 2}, {"name": "a", "port": 1}]})
    assert diffs(desired, live, ServerSchemas(V2)) == []


def test_a_field_the_server_does_not_have_is_not_drift_but_reported() -> None:
    result = compare(widget({"mode": "fast", "newField": True}), widget({"mode": "fast"}), CompareOptions(),
                     schema=ServerSchemas(V2).hints("example.io", "v1", "Widget"))
    assert result.differences == []
    assert [(d.path, d.ignored_by) for d in result.ignored] == [("/spec/newField", "not stored by this server")]


def test_v3_references_wrapped_in_all_of_are_followed_and_its_defaults_used() -> None:
    schemas = ServerSchemas(V2, V3)
    assert schemas.source == "v3"
    assert diffs(widget({"size": "500m", "mode": "fast"}), widget({"size": "0.5"}), schemas) == []
    assert diffs(widget({"mode": "slow"}), widget({}), schemas) == ["/spec/mode"]


def test_a_kind_the_documents_lack_gets_no_hints() -> None:
    assert ServerSchemas(V2, V3).hints("example.io", "v2", "Widget") is None
