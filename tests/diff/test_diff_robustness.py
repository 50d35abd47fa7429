"""Odd input never stops an evaluation, and an object always equals itself."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.config_types import CompareOptions
from exporter.diff import compare, unified_diff
from exporter.model import ObjectKey, Sync

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False, width=16),
                    st.sampled_from(["", "1", "1000m", "TCP", "name", "web", "YWJj", "!!"]))
KEYS = st.sampled_from(["name", "spec", "metadata", "containers", "ports", "protocol", "port", "env",
                        "data", "stringData", "status", "tolerations", "image", "limits", "cpu",
                        "managedFields", "fieldsV1", "manager", "f:spec", "k:{\"name\":\"web\"}", "."])
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(KEYS, inner, max_size=5)),
                    max_leaves=30)
OBJECTS = st.fixed_dictionaries(
    {"apiVersion": st.sampled_from(["v1", "apps/v1", "example.com/v1"]),
     "kind": st.sampled_from(["Deployment", "Secret", "Service", "Widget"])},
    optional={"metadata": JSON, "spec": JSON, "data": JSON, "stringData": JSON, "status": JSON})


@settings(max_examples=300, deadline=None)
@given(OBJECTS, OBJECTS)
def test_compare_never_raises_and_always_gives_a_verdict(desired: dict[str, Any], live: dict[str, Any]) -> None:
    result = compare(desired, live, CompareOptions())

    assert result.sync in (Sync.SYNCED, Sync.OUT_OF_SYNC)
    assert isinstance(unified_diff(ObjectKey("", "Widget", "", "odd"), result), str)


@settings(max_examples=300, deadline=None)
@given(OBJECTS)
def test_an_object_is_in_sync_with_itself(obj: dict[str, Any]) -> None:
    result = compare(obj, copy.deepcopy(obj), CompareOptions())

    assert result.sync is Sync.SYNCED, result.differences


@pytest.mark.parametrize(("desired", "live"), [
    (None, {"kind": "ConfigMap"}), ({"kind": "ConfigMap"}, "text"), ([], {}),
    ({"kind": "ConfigMap", "metadata": "not-a-map"}, {"kind": "ConfigMap", "metadata": {"name": "a"}}),
    ({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "a"}]}}}},
     {"kind": "Deployment", "spec": {"template": {"spec": {"containers": "x"}}}}),
])
def test_malformed_objects_are_out_of_sync_with_a_reason(desired: Any, live: Any) -> None:
    result = compare(desired, live, CompareOptions())

    assert result.sync is Sync.OUT_OF_SYNC
    assert result.differences


def test_garbage_managed_fields_are_tolerated() -> None:
    desired = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "1"}}
    live = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"x": "1", "y": "2"},
            "metadata": {"name": "a", "managedFields": [
                None, "text", {"manager": "kubectl-edit", "fieldsV1": "nope"},
                {"manager": "kubectl-edit", "fieldsV1": {"f:data": {"f:y": {}, "k:{bad json": {}, "i:x": {}}}},
            ]}}

    result = compare(desired, live, CompareOptions())

    assert [(f.path, f.reason) for f in result.differences] == [("/data/y", "added live by kubectl-edit")]
