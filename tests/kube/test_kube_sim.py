"""The simulated API server answers like the real 1.24 server whose answers are in data/."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import pathlib
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from kube_support import captured, configmap, eventually

from exporter.model import ObjectKey
from exporter.simulator import SimulatedCluster, SimulationError

GADGET_CRD = json.loads((pathlib.Path(__file__).parent / "data" / "crds" / "gadgets.json").read_text())[0]


@pytest.fixture
async def http(sim: SimulatedCluster) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=sim.url) as session:
        yield session


async def get(http: aiohttp.ClientSession, path: str, **params: str) -> tuple[int, Any]:
    async with http.get(path, params=params) as resp:
        return resp.status, await resp.json()


def decode_continue(token: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


# -- discovery ------------------------------------------------------------------------------------

async def test_version_is_the_captured_one(http: aiohttp.ClientSession) -> None:
    assert await get(http, "/version") == (200, captured("discovery_version.json"))


async def test_core_discovery_is_the_captured_one(http: aiohttp.ClientSession) -> None:
    assert await get(http, "/api") == (200, captured("discovery_api.json"))
    assert await get(http, "/api/v1") == (200, captured("discovery_api_v1.json"))


@pytest.mark.parametrize("group_version", ["apps/v1", "autoscaling/v2", "batch/v1", "networking.k8s.io/v1",
                                           "rbac.authorization.k8s.io/v1", "apiextensions.k8s.io/v1"])
async def test_captured_group_versions_are_served_verbatim(http: aiohttp.ClientSession, group_version: str) -> None:
    expected = captured(f"discovery_apis_{group_version.replace('/', '_')}.json")
    assert await get(http, f"/apis/{group_version}") == (200, expected)


async def test_every_announced_group_version_can_be_fetched_and_preferences_match_capture(
        http: aiohttp.ClientSession) -> None:
    status, apis = await get(http, "/apis")
    assert status == 200 and apis["kind"] == "APIGroupList" and apis["apiVersion"] == "v1"
    real = {g["name"]: g for g in captured("discovery_apis.json")["groups"]}
    for group in apis["groups"]:
        assert group["preferredVersion"] == real[group["name"]]["preferredVersion"]
        assert set(group) == set(real[group["name"]])
        for v in group["versions"]:
            assert v in real[group["name"]]["versions"]
            code, doc = await get(http, f"/apis/{v['groupVersion']}")
            assert code == 200 and doc["kind"] == "APIResourceList" and doc["groupVersion"] == v["groupVersion"]
    assert {"apps", "batch", "policy", "storage.k8s.io", "networking.k8s.io"} <= {g["name"] for g in apis["groups"]}


async def test_applying_a_crd_adds_its_group_to_discovery(sim: SimulatedCluster, http: aiohttp.ClientSession) -> None:
    assert (await get(http, "/apis/fixtures.example.com/v1"))[0] == 404
    sim.apply(GADGET_CRD)
    _, apis = await get(http, "/apis")
    group = next(g for g in apis["groups"] if g["name"] == "fixtures.example.com")
    assert group["preferredVersion"] == {"groupVersion": "fixtures.example.com/v1", "version": "v1"}
    _, doc = await get(http, "/apis/fixtures.example.com/v1")
    gadgets = next(r for r in doc["resources"] if r["name"] == "gadgets")
    assert gadgets["kind"] == "Gadget" and gadgets["namespaced"] is True
    assert "gadgets/status" in {r["name"] for r in doc["resources"]}


async def test_a_cluster_scoped_crd_is_announced_cluster_scoped(sim: SimulatedCluster,
                                                                http: aiohttp.ClientSession) -> None:
    crd = copy.deepcopy(GADGET_CRD)
    crd["metadata"]["name"] = "racks.fixtures.example.com"
    crd["spec"].update(scope="Cluster", names={"kind": "Rack", "plural": "racks", "singular": "rack"})
    sim.apply(crd)
    _, doc = await get(http, "/apis/fixtures.example.com/v1")
    assert next(r for r in doc["resources"] if r["name"] == "racks")["namespaced"] is False


async def test_deleting_a_crd_removes_its_group_and_objects(sim: SimulatedCluster, http: aiohttp.ClientSession) -> None:
    sim.apply(GADGET_CRD)
    sim.apply({"apiVersion": "fixtures.example.com/v1", "kind": "Gadget", "metadata": {"name": "w"}, "spec": {}})
    sim.delete("apiextensions.k8s.io", "CustomResourceDefinition", "", "gadgets.fixtures.example.com")
    _, apis = await get(http, "/apis")
    assert "fixtures.example.com" not in {g["name"] for g in apis["groups"]}
    assert (await get(http, "/apis/fixtures.example.com/v1/gadgets"))[0] == 404


async def test_custom_resources_need_their_crd_first(sim: SimulatedCluster) -> None:
    with pytest.raises(SimulationError, match="CustomResourceDefinition"):
        sim.apply({"apiVersion": "fixtures.example.com/v1", "kind": "Gadget", "metadata": {"name": "w"}})


# -- errors ---------------------------------------------------------------------------------------

async def test_missing_object_answers_the_captured_404(http: aiohttp.ClientSession) -> None:
    assert await get(http, "/api/v1/namespaces/default/configmaps/absent") == (404, captured("get-404.json"))


async def test_a_compacted_resource_version_answers_the_captured_410(sim: SimulatedCluster,
                                                                     http: aiohttp.ClientSession) -> None:
    sim.apply(configmap("one"))
    old = str(sim.resource_version)
    sim.apply(configmap("two"))
    sim.compact()
    expected = captured("list-expired-resourceversion-410.json")
    assert await get(http, "/api/v1/configmaps", resourceVersion=old, resourceVersionMatch="Exact") == (410, expected)
    assert await get(http, "/api/v1/configmaps", resourceVersion=old, limit="10") == (410, expected)


async def test_a_list_at_an_old_resource_version_shows_that_moment(sim: SimulatedCluster,
                                                                    http: aiohttp.ClientSession) -> None:
    sim.apply(configmap("one"))
    then = str(sim.resource_version)
    sim.apply(configmap("two"))
    sim.delete("", "ConfigMap", "default", "one")
    _, page = await get(http, "/api/v1/configmaps", resourceVersion=then, resourceVersionMatch="Exact")
    assert [i["metadata"]["name"] for i in page["items"]] == ["one"]
    assert page["metadata"]["resourceVersion"] == then


async def test_an_expired_continue_token_answers_410(sim: SimulatedCluster, http: aiohttp.ClientSession) -> None:
    for i in range(3):
        sim.apply(configmap(f"c{i}"))
    _, page = await get(http, "/api/v1/configmaps", limit="1")
    sim.apply(configmap("later"))
    sim.compact()
    status, body = await get(http, "/api/v1/configmaps", limit="1", **{"continue": page["metadata"]["continue"]})
    assert status == 410 and body["reason"] == "Expired" and body["code"] == 410
    assert "continue parameter is too old" in body["message"]


async def test_forbidden_resources_answer_403_like_the_capture(sim: SimulatedCluster,
                                                                http: aiohttp.ClientSession) -> None:
    sim.forbid("secrets", "list")
    status, body = await get(http, "/api/v1/namespaces/default/secrets")
    shape = captured("create-403-as-reader.json")
    assert status == 403 and set(body) == set(shape) and body["details"] == {"kind": "secrets"}
    assert body["reason"] == "Forbidden" and body["code"] == 403
    assert body["message"] == ('secrets is forbidden: User "system:serviceaccount:gitops:drift-reader" cannot list '
                               'resource "secrets" in API group "" in the namespace "default"')
    assert (await get(http, "/api/v1/namespaces/default/configmaps"))[0] == 200


async def test_a_wrong_token_answers_the_captured_401() -> None:
    async with SimulatedCluster(token="right") as sim, aiohttp.ClientSession(base_url=sim.url) as http:
        expected = captured("list-secrets-403-for-unbound-sa.json")
        async with http.get("/api/v1/secrets", headers={"Authorization": "Bearer wrong"}) as resp:
            assert (resp.status, await resp.json()) == (401, expected)
        async with http.get("/api/v1/secrets", headers={"Authorization": "Bearer right"}) as resp:
            assert resp.status == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_write_verbs_over_http_are_refused_and_counted(sim: SimulatedCluster, http: aiohttp.ClientSession,
                                                             method: str) -> None:
    sim.apply(configmap("keep"))
    before = sim.resource_version
    path = "/api/v1/namespaces/default/configmaps" + ("" if method == "POST" else "/keep")
    async with http.request(method, path, json=configmap("keep", b="2")) as resp:
        body = await resp.json()
    assert resp.status == 403 and body["reason"] == "Forbidden"
    assert sim.write_attempts == 1 and sim.write_requests == [(method, path)]
    assert sim.resource_version == before and sim.get(ObjectKey("", "ConfigMap", "default", "keep")) is not None
    sim.write_attempts = 0  # counted as intended; the fixture's zero-writes check is for the agent


# -- lists ----------------------------------------------------------------------------------------

async def test_a_limited_list_has_the_captured_page_shape(sim: SimulatedCluster, http: aiohttp.ClientSession) -> None:
    for ns in ("default", "fx-a", "fx-b"):
        sim.apply(configmap("kube-root-ca.crt", ns))
    status, page = await get(http, "/api/v1/configmaps", limit="1")
    real = captured("list-configmaps-limit-1.json")
    assert status == 200
    assert set(page) == set(real) and set(page["metadata"]) == set(real["metadata"])
    assert page["kind"] == real["kind"] == "ConfigMapList" and page["apiVersion"] == "v1"
    assert set(page["items"][0]) == set(real["items"][0]) == {"data", "metadata"}
    assert page["metadata"]["remainingItemCount"] == 2
    token, real_token = decode_continue(page["metadata"]["continue"]), decode_continue(real["metadata"]["continue"])
    assert set(token) == set(real_token) and token["v"] == real_token["v"]
    assert token["start"] == "default/kube-root-ca.crt\x00" == real_token["start"]
    assert str(token["rv"]) == page["metadata"]["resourceVersion"]


async def test_continue_pages_return_every_object_once_from_one_snapshot(sim: SimulatedCluster,
                                                                         http: aiohttp.ClientSession) -> None:
    for i in range(7):
        sim.apply(configmap(f"c{i}", "ns-a" if i % 2 else "ns-b"))
    names: list[str] = []
    params = {"limit": "3"}
    rvs = set()
    while True:
        _, page = await get(http, "/api/v1/configmaps", **params)
        names += [f"{i['metadata']['namespace']}/{i['metadata']['name']}" for i in page["items"]]
        rvs.add(page["metadata"]["resourceVersion"])
        sim.apply(configmap("added-while-paging", "ns-a"))  # not part of the snapshot being paged
        if "continue" not in page["metadata"]:
            break
        params["continue"] = page["metadata"]["continue"]
    assert names == sorted(names) and len(names) == 7 and len(rvs) == 1


@pytest.mark.parametrize(("selector", "expected"), [
    ("tier=web", ["a"]),
    ("tier!=web", ["b", "c", "d"]),
    ("tier in (web,db)", ["a", "b"]),
    ("tier notin (web,db)", ["c", "d"]),
    ("tier", ["a", "b", "c"]),
    ("!tier", ["d"]),
    ("tier in (web,db),team=x", ["b"]),
])
async def test_label_selectors_filter_like_the_api_server(sim: SimulatedCluster, http: aiohttp.ClientSession,
                                                          selector: str, expected: list[str]) -> None:
    sim.apply(configmap("a", labels={"tier": "web"}))
    sim.apply(configmap("b", labels={"tier": "db", "team": "x"}))
    sim.apply(configmap("c", labels={"tier": "cache"}))
    sim.apply(configmap("d"))
    _, page = await get(http, "/api/v1/namespaces/default/configmaps", labelSelector=selector)
    assert [i["metadata"]["name"] for i in page["items"]] == expected


async def test_a_malformed_label_selector_is_a_400(http: aiohttp.ClientSession) -> None:
    status, body = await get(http, "/api/v1/configmaps", labelSelector="tier in web")
    assert status == 400 and body["reason"] == "BadRequest" and "tier in web" in body["message"]


async def test_field_selectors_pick_by_name_and_namespace(sim: SimulatedCluster, http: aiohttp.ClientSession) -> None:
    sim.apply(configmap("a", "one"))
    sim.apply(configmap("a", "two"))
    sim.apply(configmap("b", "two"))
    _, page = await get(http, "/api/v1/configmaps", fieldSelector="metadata.name=a,metadata.namespace!=one")
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in page["items"]] == [("two", "a")]


async def test_cluster_scoped_and_namespaced_lists(sim: SimulatedCluster, http: aiohttp.ClientSession) -> None:
    sim.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    sim.apply(configmap("x", "shop"))
    sim.apply(configmap("y", "other"))
    _, namespaces = await get(http, "/api/v1/namespaces")
    assert [n["metadata"]["name"] for n in namespaces["items"]] == ["shop"]
    assert "namespace" not in namespaces["items"][0]["metadata"]
    _, in_shop = await get(http, "/api/v1/namespaces/shop/configmaps")
    assert [c["metadata"]["name"] for c in in_shop["items"]] == ["x"]
    assert (await get(http, "/api/v1/namespaces/shop/namespaces"))[0] == 404


# -- stored objects -------------------------------------------------------------------------------

async def test_stored_objects_get_identity_and_versions(sim: SimulatedCluster, http: aiohttp.ClientSession) -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop", "namespace": "default"},
                  "spec": {"replicas": 1}}
    first = sim.apply(deployment)
    assert first["metadata"]["generation"] == 1 and first["metadata"]["uid"]
    assert first["metadata"]["creationTimestamp"].endswith("Z")
    relabelled = sim.patch(ObjectKey("apps", "Deployment", "default", "shop"), {"metadata": {"labels": {"a": "b"}}})
    assert relabelled["metadata"]["generation"] == 1
    assert int(relabelled["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    scaled = sim.patch(ObjectKey("apps", "Deployment", "default", "shop"), {"spec": {"replicas": 3}})
    assert scaled["metadata"]["generation"] == 2 and scaled["metadata"]["uid"] == first["metadata"]["uid"]
    cm = sim.apply(configmap("plain"))
    assert "generation" not in cm["metadata"]  # as captured: core objects carry none
    _, got = await get(http, "/apis/apps/v1/namespaces/default/deployments/shop")
    assert got == scaled


async def test_managed_fields_follow_the_writer_like_the_captured_watch(sim: SimulatedCluster) -> None:
    real = captured("watch-configmaps-stream.jsonl")
    sim.apply(configmap("watched", "fx-config-csa", a="1"), manager="kubectl-create")
    patched = sim.patch(ObjectKey("", "ConfigMap", "fx-config-csa", "watched"), {"data": {"a": "2"}},
                        manager="kubectl-patch")
    strip = [{k: v for k, v in e.items() if k != "time"} for e in patched["metadata"]["managedFields"]]
    assert strip == [{k: v for k, v in e.items() if k != "time"} for e in real[1]["object"]["metadata"]["managedFields"]]


async def test_status_writes_keep_the_spec_and_its_generation(sim: SimulatedCluster) -> None:
    key = ObjectKey("apps", "Deployment", "default", "shop")
    sim.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop"}, "spec": {"replicas": 2}})
    after = sim.set_status(key, {"readyReplicas": 2})
    assert after["status"] == {"readyReplicas": 2} and after["metadata"]["generation"] == 1
    status_entry = next(e for e in after["metadata"]["managedFields"] if e.get("subresource") == "status")
    assert status_entry["manager"] == "kube-controller-manager"
    assert status_entry["fieldsV1"] == {"f:status": {"f:readyReplicas": {}}}
    reapplied = sim.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop"},
                           "spec": {"replicas": 2}})
    assert reapplied["status"] == {"readyReplicas": 2}


async def test_objects_with_finalizers_linger_until_released(sim: SimulatedCluster) -> None:
    key = ObjectKey("", "ConfigMap", "default", "held")
    sim.apply(dict(configmap("held"), metadata={"name": "held", "namespace": "default", "finalizers": ["x/y"]}))
    marked = sim.delete("", "ConfigMap", "default", "held")
    assert marked is not None and marked["metadata"]["deletionTimestamp"]
    assert sim.get(key) is not None
    sim.patch(key, {"metadata": {"finalizers": None}})
    assert sim.get(key) is None


# -- watches --------------------------------------------------------------------------------------

async def read_events(http: aiohttp.ClientSession, path: str, count: int, **params: str) -> list[dict[str, Any]]:
    events = []
    async with http.get(path, params={"watch": "1", **params}) as resp:
        assert resp.status == 200
        async for line in resp.content:
            events.append(json.loads(line))
            if len(events) == count:
                break
    return events


async def test_watch_lines_have_the_captured_shape(sim: SimulatedCluster, http: aiohttp.ClientSession) -> None:
    real = captured("watch-configmaps-stream.jsonl")
    start = str(sim.resource_version)
    sim.apply(configmap("watched", "fx-config-csa", a="1"), manager="kubectl-create")
    sim.patch(ObjectKey("", "ConfigMap", "fx-config-csa", "watched"), {"data": {"a": "2"}}, manager="kubectl-patch")
    sim.delete("", "ConfigMap", "fx-config-csa", "watched")
    events = await read_events(http, "/api/v1/namespaces/fx-config-csa/configmaps", 4,
                               resourceVersion=start, allowWatchBookmarks="true")
    assert [e["type"] for e in events] == [e["type"] for e in real] == ["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]
    for mine, theirs in zip(events, real, strict=True):
        assert set(mine) == set(theirs) == {"type", "object"}
        assert set(mine["object"]) == set(theirs["object"])
        assert set(mine["object"]["metadata"]) == set(theirs["object"]["metadata"])
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events[:3]]
    assert rvs == [int(start) + 1, int(start) + 2, int(start) + 3]
    assert events[3]["object"]["metadata"]["creationTimestamp"] is None
    assert events[2]["object"]["data"] == real[2]["object"]["data"] == {"a": "2"}


async def test_a_watch_without_version_starts_with_the_current_objects(sim: SimulatedCluster,
                                                                        http: aiohttp.ClientSession) -> None:
    sim.apply(configmap("a"))
    sim.apply(configmap("b"))
    events = await read_events(http, "/api/v1/configmaps", 2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "a"), ("ADDED", "b")]


async def test_a_watch_from_a_compacted_version_gets_a_410_error_event(sim: SimulatedCluster,
                                                                      http: aiohttp.ClientSession) -> None:
    sim.apply(configmap("a"))
    old = str(sim.resource_version - 1)
    sim.compact()
    async with http.get("/api/v1/configmaps", params={"watch": "true", "resourceVersion": old}) as resp:
        assert resp.status == 200
        lines = [json.loads(line) for line in (await resp.read()).splitlines()]
    assert [e["type"] for e in lines] == ["ERROR"]
    shape = captured("list-expired-resourceversion-410.json")
    assert set(lines[0]["object"]) == set(shape)
    assert {k: lines[0]["object"][k] for k in ("kind", "status", "reason", "code")} == {
        "kind": "Status", "status": "Failure", "reason": "Expired", "code": 410}
    assert lines[0]["object"]["message"] == f"too old resource version: {old} ({sim.resource_version})"


async def test_objects_leaving_a_selector_are_reported_deleted(sim: SimulatedCluster,
                                                               http: aiohttp.ClientSession) -> None:
    start = str(sim.resource_version)
    sim.apply(configmap("a", labels={"app": "shop"}))
    sim.patch(ObjectKey("", "ConfigMap", "default", "a"), {"metadata": {"labels": {"app": None}}})
    sim.patch(ObjectKey("", "ConfigMap", "default", "a"), {"metadata": {"labels": {"app": "shop"}}})
    events = await read_events(http, "/api/v1/configmaps", 3, resourceVersion=start, labelSelector="app")
    assert [e["type"] for e in events] == ["ADDED", "DELETED", "ADDED"]


async def test_watches_receive_changes_live_and_end_after_timeout_seconds(sim: SimulatedCluster,
                                                                          http: aiohttp.ClientSession) -> None:
    got: list[str] = []
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with http.get("/api/v1/configmaps", params={"watch": "true", "resourceVersion": str(sim.resource_version),
                                                      "timeoutSeconds": "1"}) as resp:
        await eventually(lambda: sim.open_watches == 1, what="the watch to open")
        sim.apply(configmap("live"))
        async for line in resp.content:
            got.append(json.loads(line)["type"])
    assert got == ["ADDED"] and 0.9 < loop.time() - started < 3
    await eventually(lambda: sim.open_watches == 0, what="the watch to close")


async def test_drop_watches_ends_open_streams(sim: SimulatedCluster, http: aiohttp.ClientSession) -> None:
    async with http.get("/api/v1/configmaps", params={"watch": "true"}) as resp:
        await eventually(lambda: sim.open_watches == 1, what="the watch to open")
        assert sim.drop_watches() == 1
        assert await asyncio.wait_for(resp.content.read(), 2) == b""
    await eventually(lambda: sim.open_watches == 0, what="the watch to close")


async def test_bookmarks_carry_the_current_resource_version(sim: SimulatedCluster, http: aiohttp.ClientSession) -> None:
    sim.apply(configmap("elsewhere", "other"))
    events = await read_events(http, "/api/v1/namespaces/quiet/configmaps", 1,
                               resourceVersion=str(sim.resource_version), allowWatchBookmarks="true")
    assert events == [{"type": "BOOKMARK", "object": {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {
        "resourceVersion": str(sim.resource_version), "creationTimestamp": None}}}]


# -- with kubectl ---------------------------------------------------------------------------------

def kubectl(kubeconfig: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", "--kubeconfig", kubeconfig, *args], capture_output=True, text=True,
                          timeout=60, check=False)


async def test_kubectl_reads_the_simulated_cluster_and_cannot_write(sim: SimulatedCluster,
                                                                    tmp_path: pathlib.Path) -> None:
    sim.apply(configmap("from-sim", "shop"))
    path = sim.write_kubeconfig(str(tmp_path / "kubeconfig"))
    loop = asyncio.get_running_loop()
    read = await loop.run_in_executor(None, kubectl, path, "get", "configmaps", "-n", "shop", "-o", "json")
    assert read.returncode == 0, read.stderr
    assert [i["metadata"]["name"] for i in json.loads(read.stdout)["items"]] == ["from-sim"]
    write = await loop.run_in_executor(None, kubectl, path, "create", "configmap", "x", "-n", "shop")
    assert write.returncode != 0 and "forbidden" in write.stderr.lower()
    assert sim.write_attempts == 1
    sim.write_attempts = 0  # the refusal is the point of this test



async def test_paths_outside_the_kubernetes_api_can_be_added_with_kmock_reactions(
        sim: SimulatedCluster, http: aiohttp.ClientSession) -> None:
    async with http.get("/openapi/v2") as resp:
        assert resp.status == 404 and (await resp.json())["kind"] == "Status"
    sim["get /healthz"] << b"ok"
    async with http.get("/healthz") as resp:
        assert resp.status == 200 and await resp.read() == b"ok"


async def test_client_side_apply_stores_what_the_real_server_stored() -> None:
    data = pathlib.Path(__file__).parent / "data" / "csa"
    git = json.loads((data / "config-git.json").read_text())[0]
    real = json.loads((data / "ConfigMap.settings.client-side-apply.json").read_text())
    git["metadata"]["namespace"] = "fx-config-csa"
    stored = SimulatedCluster().apply(git)
    assert stored["metadata"]["annotations"] == real["metadata"]["annotations"]
    assert stored["data"] == real["data"]
    without_time = [{k: v for k, v in e.items() if k != "time"} for e in stored["metadata"]["managedFields"]]
    assert without_time == [{k: v for k, v in e.items() if k != "time"} for e in real["metadata"]["managedFields"]]
    server_set = {"uid", "resourceVersion", "creationTimestamp", "managedFields", "annotations", "name", "namespace"}
    assert set(stored["metadata"]) == set(real["metadata"]) == server_set


async def test_kubectl_pages_through_continue_tokens(sim: SimulatedCluster, tmp_path: pathlib.Path) -> None:
    for i in range(7):
        sim.apply(configmap(f"c{i}", f"ns-{i % 3}"))
    path = sim.write_kubeconfig(str(tmp_path / "kubeconfig"))
    loop = asyncio.get_running_loop()
    read = await loop.run_in_executor(None, kubectl, path, "get", "configmaps", "-A", "--chunk-size=2",
                                      "-o", "name", "-v=6")
    assert read.returncode == 0, read.stderr
    assert sorted(read.stdout.split()) == [f"configmap/c{i}" for i in range(7)]
    assert read.stderr.count("continue=") == 3  # four pages of at most two


async def test_kubectl_follows_a_watch(sim: SimulatedCluster, tmp_path: pathlib.Path) -> None:
    sim.apply(configmap("first", "shop"))
    path = sim.write_kubeconfig(str(tmp_path / "kubeconfig"))
    proc = await asyncio.create_subprocess_exec(
        "kubectl", "--kubeconfig", path, "get", "configmaps", "-n", "shop", "--watch", "--output-watch-events",
        "-o", "jsonpath={.type} {.object.metadata.name} {.object.data.a}{\"\\n\"}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        lines = [(await asyncio.wait_for(proc.stdout.readline(), 30)).decode().strip()]
        sim.patch(ObjectKey("", "ConfigMap", "shop", "first"), {"data": {"a": "2"}})
        lines.append((await asyncio.wait_for(proc.stdout.readline(), 30)).decode().strip())
        sim.delete("", "ConfigMap", "shop", "first")
        lines.append((await asyncio.wait_for(proc.stdout.readline(), 30)).decode().strip())
    finally:
        proc.kill()
        await proc.wait()
    assert lines == ["ADDED first 1", "MODIFIED first 2", "DELETED first 2"]


def two_containers() -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop", "namespace": "default"},
            "spec": {"template": {"spec": {"containers": [
                {"name": "app", "image": "shop:1", "env": [{"name": "A", "value": "1"}]},
                {"name": "sidecar", "image": "proxy:1"}]}}}}


async def test_patches_merge_keyed_lists_like_kubectl_patch(sim: SimulatedCluster) -> None:
    key = ObjectKey("apps", "Deployment", "default", "shop")
    sim.apply(two_containers())
    patched = sim.patch(key, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "shop:2", "env": [{"name": "B", "value": "2"}]}]}}}}, manager="kubectl-set")
    containers = patched["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("app", "shop:2"), ("sidecar", "proxy:1")]
    assert containers[0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    setter = next(e for e in patched["metadata"]["managedFields"] if e["manager"] == "kubectl-set")
    assert setter["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"app"}']["f:image"] == {}
    removed = sim.patch(key, {"spec": {"template": {"spec": {"containers": [
        {"$patch": "delete", "name": "sidecar"}]}}}})
    assert [c["name"] for c in removed["spec"]["template"]["spec"]["containers"]] == ["app"]


async def test_a_merge_patch_replaces_lists_whole(sim: SimulatedCluster) -> None:
    sim.apply(two_containers())
    patched = sim.patch(ObjectKey("apps", "Deployment", "default", "shop"), {"spec": {"template": {"spec": {
        "containers": [{"name": "only", "image": "x:1"}]}}}}, patch_type="merge")
    assert [c["name"] for c in patched["spec"]["template"]["spec"]["containers"]] == ["only"]
