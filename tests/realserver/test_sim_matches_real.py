"""The simulated API server fakes what the agent relies on; each behaviour is checked here against
the real 1.24 server, through the agent's own client: discovery, paged lists, watch events, error
bodies and field ownership."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from control_plane import ControlPlane

from exporter.config_types import ClusterConfig
from exporter.kube.client import KubeClient, ResourceInfo
from exporter.kube.errors import Forbidden, NotFound
from exporter.simulator import SimulatedCluster

CONFIGMAPS = ResourceInfo("", "v1", "ConfigMap", "configmaps", True)


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedCluster]:
    async with SimulatedCluster() as cluster:
        yield cluster


async def client_for(kubeconfig: str | Path, name: str) -> KubeClient:
    return await KubeClient.connect(ClusterConfig(name=name, kubeconfig=str(kubeconfig)), discovery_refresh=0.0)


@pytest.fixture
async def clients(control_plane: ControlPlane, sim: SimulatedCluster,
                  tmp_path: Path) -> AsyncIterator[tuple[KubeClient, KubeClient]]:
    real = await client_for(control_plane.agent_kubeconfig, "real")
    fake = await client_for(sim.write_kubeconfig(str(tmp_path / "sim.kubeconfig")), "sim")
    yield real, fake
    await real.close()
    await fake.close()


def configmap(name: str, namespace: str, data: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
            "data": data or {"a": "1"}}


@pytest.mark.parametrize(("api_version", "kinds"), [
    ("v1", ["ConfigMap", "Secret", "Service", "ServiceAccount", "PersistentVolumeClaim", "Pod"]),
    ("apps/v1", ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]),
    ("batch/v1", ["Job", "CronJob"]),
    ("autoscaling/v2", ["HorizontalPodAutoscaler"]),
    ("networking.k8s.io/v1", ["Ingress", "NetworkPolicy"]),
    ("rbac.authorization.k8s.io/v1", ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"]),
])
async def test_discovery_resolves_kinds_as_the_real_server_does(clients, api_version: str, kinds: list[str]) -> None:
    real, fake = clients
    for kind in kinds:
        assert await fake.resolve(api_version, kind) == await real.resolve(api_version, kind), kind
    assert await fake.resolve(api_version, "NoSuchKind") is None
    assert await real.resolve(api_version, "NoSuchKind") is None


async def test_the_readiness_probe_and_a_one_item_list_answer_as_the_real_server_does(
        clients, control_plane: ControlPlane, sim: SimulatedCluster, namespace: str) -> None:
    real, fake = clients
    control_plane.kubectl("create", "configmap", "one", "-n", namespace, "--from-literal=a=1")
    sim.apply(configmap("one", namespace))
    for client in (real, fake):
        await client.probe(5.0)  # raises unless the answer is 200
        await client.can_list(CONFIGMAPS, namespace)
    for client in (real, fake):
        with pytest.raises(NotFound):
            await client.can_list(ResourceInfo("example.com", "v1", "Widget", "widgets", True), namespace)


async def test_paged_lists_return_every_item_and_a_resource_version(clients, control_plane: ControlPlane,
                                                                   sim: SimulatedCluster, namespace: str) -> None:
    real, fake = clients
    for i in range(7):
        control_plane.kubectl("create", "configmap", f"page-{i}", "-n", namespace, "--from-literal=a=1")
        sim.apply(configmap(f"page-{i}", namespace))
    for client in (real, fake):
        items, rv = await client.list(CONFIGMAPS, namespace, limit=3)
        names = sorted(o["metadata"]["name"] for o in items if o["metadata"]["name"].startswith("page-"))
        assert names == [f"page-{i}" for i in range(7)], client.name
        assert rv.isdigit()
        assert all(o["apiVersion"] == "v1" and o["kind"] == "ConfigMap" for o in items)


async def test_a_missing_object_and_a_forbidden_list_fail_the_same_way(clients, control_plane: ControlPlane,
                                                                      sim: SimulatedCluster, namespace: str,
                                                                      tmp_path: Path) -> None:
    real, fake = clients
    for client in (real, fake):
        with pytest.raises(NotFound) as info:
            await client.request("GET", f"/api/v1/namespaces/{namespace}/configmaps/absent")
        assert info.value.reason == "NotFound" and "absent" in info.value.server_message
    control_plane.kubectl("create", "serviceaccount", "nobody", "-n", namespace)
    token = control_plane.kubectl("create", "token", "nobody", "-n", namespace).strip()
    nobody_config = tmp_path / "nobody.kubeconfig"
    nobody_config.write_text(control_plane.agent_kubeconfig.read_text().replace(
        _token_of(control_plane.agent_kubeconfig), token))
    nobody = await client_for(nobody_config, "real")
    sim.forbid("configmaps", "list")
    try:
        for client in (nobody, fake):
            with pytest.raises(Forbidden) as denied:
                await client.list(CONFIGMAPS, namespace)
            assert denied.value.reason == "Forbidden"
            assert 'cannot list resource "configmaps" in API group "" in the namespace' in denied.value.server_message
    finally:
        await nobody.close()


def _token_of(kubeconfig: Path) -> str:
    import yaml
    return str(yaml.safe_load(kubeconfig.read_text())["users"][0]["user"]["token"])


async def test_a_watch_reports_create_change_and_delete_in_order(clients, control_plane: ControlPlane,
                                                                sim: SimulatedCluster, namespace: str) -> None:
    real, fake = clients
    seen: dict[str, list[tuple[str, str]]] = {}
    for client in (real, fake):
        _, rv = await client.list(CONFIGMAPS, namespace)
        events: list[tuple[str, str]] = []

        async def follow(c: KubeClient = client, since: str = rv, out: list[tuple[str, str]] = events) -> None:
            async for type_, obj in c.watch(CONFIGMAPS, since, namespace, timeout=30):
                if type_ != "BOOKMARK":
                    out.append((type_, obj["metadata"]["name"]))
                if len(out) == 3:
                    return

        task = asyncio.create_task(follow())
        await asyncio.sleep(0.3)
        if client is real:
            control_plane.kubectl("create", "configmap", "watched", "-n", namespace, "--from-literal=a=1")
            control_plane.kubectl("patch", "configmap", "watched", "-n", namespace, "--type=merge",
                                  "-p", '{"data":{"a":"2"}}')
            control_plane.kubectl("delete", "configmap", "watched", "-n", namespace)
        else:
            sim.apply(configmap("watched", namespace))
            from exporter.model import ObjectKey
            sim.patch(ObjectKey("", "ConfigMap", namespace, "watched"), {"data": {"a": "2"}})
            sim.delete("", "ConfigMap", namespace, "watched")
        await asyncio.wait_for(task, 20)
        seen[client.name] = events
    assert seen["sim"] == seen["real"] == [("ADDED", "watched"), ("MODIFIED", "watched"), ("DELETED", "watched")]


async def test_field_ownership_moves_to_the_manager_that_changed_a_field(clients, control_plane: ControlPlane,
                                                                        sim: SimulatedCluster,
                                                                        namespace: str) -> None:
    real, fake = clients
    manifest = configmap("owned", namespace, {"a": "1", "b": "2"})
    control_plane.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    control_plane.kubectl("patch", "configmap", "owned", "-n", namespace, "--type=merge",
                          "--field-manager=kubectl-edit", "-p", '{"data":{"a":"9"}}')
    sim.apply(manifest)
    from exporter.model import ObjectKey
    sim.patch(ObjectKey("", "ConfigMap", namespace, "owned"), {"data": {"a": "9"}}, manager="kubectl-edit")

    def ownership(obj: dict[str, Any]) -> dict[str, Any]:
        return {e["manager"]: (e["operation"], e["fieldsV1"].get("f:data")) for e in obj["metadata"]["managedFields"]}

    live_real = await real.request("GET", f"/api/v1/namespaces/{namespace}/configmaps/owned")
    live_sim = await fake.request("GET", f"/api/v1/namespaces/{namespace}/configmaps/owned")
    assert ownership(live_sim) == ownership(live_real) == {
        "kubectl-client-side-apply": ("Update", {".": {}, "f:b": {}}),
        "kubectl-edit": ("Update", {"f:a": {}}),
    }
