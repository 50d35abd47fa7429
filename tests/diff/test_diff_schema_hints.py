"""What a CustomResourceDefinition's schema teaches the comparison about its custom resources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from diff_fixtures import one

from exporter.config_types import CompareOptions
from exporter.diff import SchemaHints, compare
from exporter.diff.schema import with_defaults
from exporter.model import Sync

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: pools.example.com}
spec:
  group: example.com
  names: {kind: Pool, plural: pools}
  scope: Namespaced
  versions:
    - name: v1beta1
      served: true
      storage: false
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {members: {type: array, items: {type: object}}}}
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
                members:
                  type: array
                  x-kubernetes-list-type: map
                  x-kubernetes-list-map-keys: [name]
                  items:
                    type: object
                    properties:
                      name: {type: string}
                      weight: {type: integer, default: 1}
                      memory: {type: string, format: quantity}
                zones: {type: array, x-kubernetes-list-type: set, items: {type: string}}
                sizes:
                  type: object
                  additionalProperties: {x-kubernetes-int-or-string: true, pattern: '^[0-9]+([KMGTPE]i)?$'}
"""


def pool(members: list[dict[str, Any]], zones: list[str], sizes: dict[str, Any],
         api_version: str = "example.com/v1") -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": "Pool", "metadata": {"name": "p", "namespace": "n"},
            "spec": {"members": members, "zones": zones, "sizes": sizes}}


@pytest.fixture
def hints() -> SchemaHints:
    return SchemaHints.from_crd(one(CRD))[("example.com", "Pool")]


def test_hints_are_keyed_by_group_and_kind() -> None:
    assert list(SchemaHints.from_crd(one(CRD))) == [("example.com", "Pool")]


@pytest.mark.parametrize("crd", [{}, {"spec": "x"}, {"spec": {"group": "g"}}, {"spec": {"group": 1, "names": {}}}])
def test_malformed_crd_gives_no_hints(crd: dict[str, Any]) -> None:
    assert SchemaHints.from_crd(crd) == {}


def test_list_map_keys_match_items_in_another_order(hints: SchemaHints) -> None:
    git = pool([{"name": "a", "memory": "1Gi"}, {"name": "b"}], ["z1", "z2"], {"ram": "1Gi"})
    live = pool([{"name": "b", "weight": 1}, {"name": "a", "weight": 1, "memory": "1024Mi"}], ["z2", "z1"],
                {"ram": "1024Mi"})

    assert compare(git, live, CompareOptions(), schema=hints).sync is Sync.SYNCED


def test_member_changed_live_is_reported_at_its_git_position(hints: SchemaHints) -> None:
    git = pool([{"name": "a", "weight": 3}, {"name": "b"}], [], {})
    live = pool([{"name": "b", "weight": 1}, {"name": "a", "weight": 2}], [], {})

    result = compare(git, live, CompareOptions(), schema=hints)

    assert [(f.path, f.desired, f.live) for f in result.differences] == [("/spec/members/0/weight", 3, 2)]


def test_schema_default_spelled_out_in_git_equals_a_live_object_without_it(hints: SchemaHints) -> None:
    git = pool([{"name": "a", "weight": 1}], [], {})
    live = pool([{"name": "a"}], [], {})

    assert compare(git, live, CompareOptions(), schema=hints).sync is Sync.SYNCED


def test_hints_of_the_version_git_uses_apply(hints: SchemaHints) -> None:
    git = pool([{"name": "a"}, {"name": "b"}], [], {}, api_version="example.com/v1beta1")
    live = pool([{"name": "b"}, {"name": "a"}], [], {}, api_version="example.com/v1beta1")

    result = compare(git, live, CompareOptions(), schema=hints)

    # v1beta1 declares no list keys: its members are positional.
    assert result.sync is Sync.OUT_OF_SYNC


def test_hints_for_another_kind_are_not_used(hints: SchemaHints) -> None:
    git = pool([{"name": "a"}, {"name": "b"}], [], {})
    git["kind"] = live_kind = "Other"
    live = pool([{"name": "b"}, {"name": "a"}], [], {})
    live["kind"] = live_kind

    assert compare(git, live, CompareOptions(), schema=hints).sync is Sync.OUT_OF_SYNC


def test_schema_defaults_reproduce_what_the_server_stored_for_the_captured_custom_resource(
        captures: Path) -> None:
    (crd,) = json.loads((captures / "objects" / "a-crd" / "git.json").read_text())
    (git,) = json.loads((captures / "objects" / "cr" / "git.json").read_text())
    live = json.loads((captures / "objects" / "cr" / "Gadget.widget.server-side-apply.json").read_text())
    hints = SchemaHints.from_crd(crd)[("fixtures.example.com", "Gadget")]

    assert with_defaults(git, hints)["spec"] == live["spec"]


def test_v1beta1_crd_with_a_top_level_schema_gives_hints() -> None:
    crd = one("""
apiVersion: apiextensions.k8s.io/v1beta1
kind: CustomResourceDefinition
metadata: {name: olds.example.com}
spec:
  group: example.com
  version: v1alpha1
  names: {kind: Old, plural: olds}
  validation:
    openAPIV3Schema:
      properties: {spec: {properties: {size: {type: string, format: quantity}}}}
""")
    hints = SchemaHints.from_crd(crd)[("example.com", "Old")]
    git = {"apiVersion": "example.com/v1alpha1", "kind": "Old", "metadata": {"name": "o"}, "spec": {"size": "1Gi"}}
    live = {"apiVersion": "example.com/v1alpha1", "kind": "Old", "metadata": {"name": "o"},
            "spec": {"size": "1024Mi"}}

    assert compare(git, live, CompareOptions(), schema=hints).sync is Sync.SYNCED


def test_a_crd_says_which_versions_have_a_status_subresource():
    crd = {"spec": {"group": "example.com", "names": {"kind": "Meter"}, "versions": [
        {"name": "v1", "storage": True, "subresources": {"status": {}}},
        {"name": "v1alpha1", "served": True}]}}
    hints = SchemaHints.from_crd(crd)[("example.com", "Meter")]
    assert hints.declares_status("example.com/v1") and not hints.declares_status("example.com/v1alpha1")


def test_a_v1beta1_crd_s_top_level_status_subresource_covers_every_version():
    crd = {"spec": {"group": "example.com", "names": {"kind": "Meter"}, "version": "v1beta1",
                    "subresources": {"status": {}}}}
    assert SchemaHints.from_crd(crd)[("example.com", "Meter")].declares_status("example.com/v1beta1")
