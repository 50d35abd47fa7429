"""The cache's compact form of live objects: it must compare, judge health and attribute fields
exactly as the objects the server sent, while sharing what objects repeat.

The objects are the benchmark fleet's app as a real 1.24 API server returned it
(``bench/fleet_app/live.json``, checked against the real server in tests/realserver)."""

from __future__ import annotations

import copy
import gc
import json
import pathlib
from typing import Any

import yaml

from exporter.config_types import CompareOptions
from exporter.diff import compare
from exporter.health import assess
from exporter.kube.client import WORKER_PAGE_BYTES, KubeClient, ResourceInfo
from exporter.kube.compact import LAST_APPLIED, Compactor, decode_list_page
from exporter.model import ObjectKey
from exporter.simulator import SimulatedCluster

FLEET_APP = pathlib.Path(__file__).resolve().parents[2] / "bench" / "fleet_app"
CONFIGMAPS = ResourceInfo("", "v1", "ConfigMap", "configmaps", True)


def app(namespace: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(desired, live) of the fleet app in ``namespace``."""
    live = json.loads((FLEET_APP / "live.json").read_text().replace("fleet-app", namespace))["objects"]
    text = (FLEET_APP / "manifests.yaml").read_text().replace("fleet-app", namespace)
    desired = [d for d in yaml.safe_load_all(text) if d]
    for d in desired:
        d["metadata"]["namespace"] = namespace
    return desired, live


def outcome(desired: dict[str, Any], live: dict[str, Any]) -> tuple[Any, ...]:
    diff = compare(desired, live, CompareOptions())
    return diff.sync, [(f.path, f.desired, f.live, f.reason) for f in diff.differences], \
        [(f.path, f.ignored_by) for f in diff.ignored]


def test_compact_objects_compare_and_judge_health_as_the_objects_the_server_sent() -> None:
    desired, live = app("team-7")
    compactor = Compactor()
    for want, have in zip(desired, live, strict=True):
        small = compactor.compact(have)
        assert outcome(want, small) == outcome(want, have), have["kind"]
        assert assess(small) == assess(have), have["kind"]


def test_a_hand_edit_shows_the_same_drift_in_the_compact_form() -> None:
    desired, live = app("team-7")
    deployment = copy.deepcopy(live[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.example.com/other:1"
    deployment["metadata"]["labels"]["debug"] = "on"
    deployment["metadata"]["managedFields"].append({
        "manager": "kubectl-label", "operation": "Update", "apiVersion": "apps/v1", "time": "2026-01-01T00:00:00Z",
        "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {"f:debug": {}}}}})
    small = Compactor().compact(deployment)
    found = outcome(desired[0], small)
    assert found == outcome(desired[0], deployment)
    assert [d[0] for d in found[1]] == ["/spec/template/spec/containers/0/image", "/metadata/labels/debug"]


def test_a_field_removed_from_git_is_still_found_through_the_last_applied_skeleton() -> None:
    desired, live = app("team-7")
    config = next(d for d in desired if d["metadata"]["name"] == "config-00")
    del config["data"]["flags"]
    small = Compactor().compact(next(o for o in live if o["metadata"]["name"] == "config-00"))
    assert [(f.path, f.reason) for f in compare(config, small, CompareOptions()).differences] == \
        [("/data/flags", "not deployed yet: Git removes it (last applied by kubectl apply)")]


def test_secret_values_repeated_in_the_last_applied_annotation_are_not_kept() -> None:
    _desired, live = app("team-7")
    secret = next(o for o in live if o["kind"] == "Secret")
    assert "s3cret" in secret["metadata"]["annotations"][LAST_APPLIED]
    small = Compactor().compact(secret)
    kept = json.loads(small["metadata"]["annotations"][LAST_APPLIED])
    assert kept["stringData"] == {"database-url": "", "api-token": "", "tls.crt": ""}
    assert "s3cret" not in json.dumps(small["metadata"]["annotations"])


def test_apps_of_one_chart_share_field_trees_and_short_strings() -> None:
    compactor = Compactor()
    first = compactor.compact(app("team-1")[1][0])
    second = compactor.compact(app("team-2")[1][0])
    assert first["metadata"]["managedFields"][0]["fieldsV1"] is second["metadata"]["managedFields"][0]["fieldsV1"]
    ports = (first["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"],
             second["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"])
    assert ports[0] == "TCP" and ports[0] is ports[1]
    assert first["metadata"]["namespace"] != second["metadata"]["namespace"]


def test_compacting_leaves_the_object_it_was_given_alone() -> None:
    live = app("team-7")[1]
    before = copy.deepcopy(live)
    for obj in live:
        Compactor().compact(obj)
    assert live == before


def test_a_sweep_forgets_what_no_cached_object_uses_any_more() -> None:
    compactor = Compactor()
    kept = [compactor.compact(o) for o in app("team-1")[1]]
    with_both = [compactor.compact(o) for o in app("team-2")[1]]
    del with_both
    gc.collect()
    before = compactor.shared
    compactor.sweep()
    assert compactor.shared < before
    again = compactor.compact(app("team-1")[1][0])
    assert again["metadata"]["managedFields"][0]["fieldsV1"] is kept[0]["metadata"]["managedFields"][0]["fieldsV1"]


def test_a_list_page_decoded_in_a_worker_is_the_compact_form_of_the_answer() -> None:
    live = app("team-7")[1]
    body = json.dumps({"kind": "List", "metadata": {"resourceVersion": "9"},
                       "items": [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in live]})
    page = decode_list_page(body.encode(), "v1", "Thing")
    assert page["metadata"] == {"resourceVersion": "9"}
    expected = [Compactor().compact(dict(o, apiVersion="v1", kind="Thing")) for o in live]
    assert page["items"] == expected


async def test_a_large_list_comes_back_compact_and_complete(sim: SimulatedCluster, client: KubeClient) -> None:
    live = next(o for o in app("big")[1] if o["metadata"]["name"] == "config-04")
    for n in range(WORKER_PAGE_BYTES // 1500 + 50):
        sim.load(dict(live, metadata=dict(live["metadata"], name=f"config-{n}")))
    plain, rv = await client.list(CONFIGMAPS, "big")
    small, small_rv = await client.list(CONFIGMAPS, "big", compact=True)
    assert len(small) == len(plain) > 200 and small_rv == rv
    assert [ObjectKey.of(o) for o in small] == [ObjectKey.of(o) for o in plain]
    assert small == [Compactor().compact(o) for o in plain]
    assert all(o["metadata"]["annotations"][LAST_APPLIED] != p["metadata"]["annotations"][LAST_APPLIED]
               for o, p in zip(small, plain, strict=True))
