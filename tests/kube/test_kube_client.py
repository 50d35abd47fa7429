"""The client reads a cluster through a kubeconfig: discovery, paged lists, watches, clear errors."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import pathlib
import socket
import ssl
import subprocess
import sys

import pytest
from kube_support import configmap

from exporter.config_types import ClusterConfig
from exporter.instruments import KUBE_REQUESTS_TOTAL
from exporter.kube.client import KubeClient, ResourceInfo
from exporter.kube.errors import (
    Forbidden,
    KubeError,
    NotFound,
    ReadOnlyViolation,
    ResourceExpired,
    Unauthorized,
    Unreachable,
)
from exporter.model import ObjectKey
from exporter.simulator import SimulatedCluster

GADGET_CRD = json.loads((pathlib.Path(__file__).parent / "data" / "crds" / "gadgets.json").read_text())[0]
CONFIGMAPS = ResourceInfo("", "v1", "ConfigMap", "configmaps", True)


def requests_counted(cluster: str, verb: str, code: str) -> float:
    return KUBE_REQUESTS_TOTAL.labels(cluster, verb, code)._value.get()


@pytest.mark.parametrize(("api_version", "kind", "expected"), [
    ("v1", "ConfigMap", ResourceInfo("", "v1", "ConfigMap", "configmaps", True)),
    ("v1", "Namespace", ResourceInfo("", "v1", "Namespace", "namespaces", False)),
    ("apps/v1", "Deployment", ResourceInfo("apps", "v1", "Deployment", "deployments", True)),
    ("rbac.authorization.k8s.io/v1", "ClusterRole",
     ResourceInfo("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False)),
    ("autoscaling/v2", "HorizontalPodAutoscaler",
     ResourceInfo("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True)),
])
async def test_resolves_built_in_kinds_with_their_scope(client: KubeClient, api_version: str, kind: str,
                                                        expected: ResourceInfo) -> None:
    assert await client.resolve(api_version, kind) == expected


@pytest.mark.parametrize(("api_version", "kind"), [("v1", "Gadget"), ("nope.example.com/v1", "Thing"),
                                                   ("apps/v1beta1", "Deployment")])
async def test_unknown_kinds_resolve_to_none(client: KubeClient, api_version: str, kind: str) -> None:
    assert await client.resolve(api_version, kind) is None


async def test_a_crd_kind_resolves_once_the_crd_is_applied(sim: SimulatedCluster, client: KubeClient) -> None:
    assert await client.resolve("fixtures.example.com/v1", "Gadget") is None
    sim.apply(GADGET_CRD)
    assert await client.resolve("fixtures.example.com/v1", "Gadget") == ResourceInfo(
        "fixtures.example.com", "v1", "Gadget", "gadgets", True)


async def test_a_cluster_scoped_crd_kind_resolves_cluster_scoped(sim: SimulatedCluster, client: KubeClient) -> None:
    crd = copy.deepcopy(GADGET_CRD)
    crd["metadata"]["name"] = "racks.fixtures.example.com"
    crd["spec"].update(scope="Cluster", names={"kind": "Rack", "plural": "racks", "singular": "rack"})
    sim.apply(crd)
    res = await client.resolve("fixtures.example.com/v1", "Rack")
    assert res is not None and res.namespaced is False and res.path("ignored") == "/apis/fixtures.example.com/v1/racks"


async def test_rediscovery_after_a_miss_is_rate_limited(sim: SimulatedCluster, tmp_path: pathlib.Path) -> None:
    path = sim.write_kubeconfig(str(tmp_path / "kubeconfig"))
    async with await KubeClient.connect(ClusterConfig("slow", kubeconfig=path), discovery_refresh=3600) as kube:
        assert await kube.resolve("fixtures.example.com/v1", "Gadget") is None
        asked = requests_counted("slow", "get", "404")
        sim.apply(GADGET_CRD)
        assert await kube.resolve("fixtures.example.com/v1", "Gadget") is None
        assert requests_counted("slow", "get", "404") == asked
        assert (await kube.resolve("v1", "ConfigMap")) is not None


async def test_lists_follow_continue_pages_and_fill_in_kind(sim: SimulatedCluster, client: KubeClient) -> None:
    for i in range(12):
        sim.apply(configmap(f"c{i:02}", "shop"))
    sim.apply(configmap("elsewhere", "other"))
    pages_before = requests_counted("sim", "list", "200")
    items, rv = await client.list(CONFIGMAPS, namespace="shop", limit=5)
    assert requests_counted("sim", "list", "200") - pages_before == 3
    assert [i["metadata"]["name"] for i in items] == [f"c{i:02}" for i in range(12)]
    assert all(i["apiVersion"] == "v1" and i["kind"] == "ConfigMap" for i in items)
    assert rv == str(sim.resource_version)


async def test_lists_across_all_namespaces_with_a_label_selector(sim: SimulatedCluster, client: KubeClient) -> None:
    sim.apply(configmap("a", "one", labels={"app.kubernetes.io/instance": "shop"}))
    sim.apply(configmap("b", "two", labels={"app.kubernetes.io/instance": "shop"}))
    sim.apply(configmap("c", "two"))
    items, _ = await client.list(CONFIGMAPS, label_selector="app.kubernetes.io/instance")
    assert [ObjectKey.of(i) for i in items] == [ObjectKey("", "ConfigMap", "one", "a"),
                                                ObjectKey("", "ConfigMap", "two", "b")]


async def test_forbidden_list_is_a_clear_error(sim: SimulatedCluster, client: KubeClient) -> None:
    sim.forbid("secrets", "list")
    with pytest.raises(Forbidden) as err:
        await client.list(ResourceInfo("", "v1", "Secret", "secrets", True), namespace="shop")
    assert str(err.value).startswith("RBAC forbids list on secrets in namespace shop in sim")
    assert err.value.status == 403 and err.value.reason == "Forbidden"


async def test_a_bad_token_is_a_clear_error(tmp_path: pathlib.Path) -> None:
    async with SimulatedCluster(token="s3cret-token") as sim:
        path = sim.write_kubeconfig(str(tmp_path / "kubeconfig"), token="wrong-token")
        async with await KubeClient.connect(ClusterConfig("prod", kubeconfig=path)) as kube:
            with pytest.raises(Unauthorized) as err:
                await kube.list(CONFIGMAPS)
    assert err.value.status == 401 and "cluster prod rejected the credentials" in str(err.value)
    assert "wrong-token" not in str(err.value) and "s3cret" not in str(err.value)


async def test_kubeconfig_token_auth_works(tmp_path: pathlib.Path) -> None:
    async with SimulatedCluster(token="s3cret-token") as sim:
        sim.apply(configmap("visible"))
        path = sim.write_kubeconfig(str(tmp_path / "kubeconfig"), context="prod")
        async with await KubeClient.connect(ClusterConfig("prod", kubeconfig=path, context="prod")) as kube:
            items, _ = await kube.list(CONFIGMAPS)
    assert [i["metadata"]["name"] for i in items] == ["visible"]


async def test_an_unreachable_cluster_is_a_clear_error(tmp_path: pathlib.Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "gone",
        "clusters": [{"name": "gone", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "u"}}]}))
    failed = requests_counted("edge", "get", "error")
    async with await KubeClient.connect(ClusterConfig("edge", kubeconfig=str(kubeconfig))) as kube:
        with pytest.raises(Unreachable, match=r"^cluster edge unreachable: "):
            await kube.resolve("v1", "ConfigMap")
    assert requests_counted("edge", "get", "error") == failed + 1


async def test_a_missing_kubeconfig_names_the_file(tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(KubeError) as err:
        await KubeClient.connect(ClusterConfig("edge", kubeconfig=str(missing)))
    assert str(err.value) == f"cluster edge: kubeconfig {missing} does not exist"


async def test_an_unknown_context_names_the_context(sim: SimulatedCluster, tmp_path: pathlib.Path) -> None:
    path = sim.write_kubeconfig(str(tmp_path / "kubeconfig"))
    with pytest.raises(KubeError) as err:
        await KubeClient.connect(ClusterConfig("edge", kubeconfig=path, context="staging"))
    assert str(err.value) == f"cluster edge: kubeconfig {path} has no context 'staging' (contexts: sim)"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "post"])
async def test_a_write_verb_cannot_be_sent(sim: SimulatedCluster, client: KubeClient, method: str) -> None:
    sim.apply(configmap("keep"))
    with pytest.raises(ReadOnlyViolation, match="the agent only reads"):
        await client.request(method, "/api/v1/namespaces/default/configmaps/keep")
    assert sim.write_attempts == 0 and sim.write_requests == []


async def test_get_of_an_absent_object_is_not_found(client: KubeClient) -> None:
    with pytest.raises(NotFound):
        await client.request("GET", "/api/v1/namespaces/default/configmaps/absent")


async def test_watch_yields_changes_and_bookmarks(sim: SimulatedCluster, client: KubeClient) -> None:
    start = str(sim.resource_version)
    sim.apply(configmap("w"))
    sim.patch(ObjectKey("", "ConfigMap", "default", "w"), {"data": {"a": "2"}})
    sim.delete("", "ConfigMap", "default", "w")
    seen = []
    stream = client.watch(CONFIGMAPS, start, namespace="default", timeout=5)
    async with contextlib.aclosing(stream):
        async for type_, obj in stream:
            seen.append((type_, obj["metadata"].get("name")))
            if type_ == "BOOKMARK":
                break
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w"), ("BOOKMARK", None)]


async def test_watch_from_an_expired_version_raises_resource_expired(sim: SimulatedCluster,
                                                                     client: KubeClient) -> None:
    start = str(sim.resource_version)
    sim.apply(configmap("w"))
    sim.compact()
    stream = client.watch(CONFIGMAPS, start)
    with pytest.raises(ResourceExpired) as err:
        async with contextlib.aclosing(stream):
            async for _ in stream:
                pass
    assert err.value.status == 410 and err.value.reason == "Expired"


async def test_every_request_is_counted_by_verb_and_code(sim: SimulatedCluster, client: KubeClient) -> None:
    sim.forbid("secrets", "list")
    lists_ok, lists_denied = requests_counted("sim", "list", "200"), requests_counted("sim", "list", "403")
    await client.list(CONFIGMAPS)
    with pytest.raises(Forbidden):
        await client.list(ResourceInfo("", "v1", "Secret", "secrets", True))
    assert requests_counted("sim", "list", "200") == lists_ok + 1
    assert requests_counted("sim", "list", "403") == lists_denied + 1


# -- other kinds of kubeconfig credentials ---------------------------------------------------------

def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def pki(tmp_path: pathlib.Path) -> dict[str, str]:
    """A throw-away CA with a server certificate for 127.0.0.1 and a client certificate."""
    d = tmp_path / "pki"
    d.mkdir()
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.crt", "-days", "1", "-subj", "/CN=sim-ca")
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for who, subject in (("server", "/CN=127.0.0.1"), ("client", "/O=gitops/CN=drift-reader")):
        openssl("req", *ec, "-keyout", f"{d}/{who}.key", "-out", f"{d}/{who}.csr", "-subj", subject)
        extra = ["-extfile", f"{d}/server.ext"] if who == "server" else []
        openssl("x509", "-req", "-in", f"{d}/{who}.csr", "-CA", f"{d}/ca.crt", "-CAkey", f"{d}/ca.key",
                "-CAcreateserial", "-out", f"{d}/{who}.crt", "-days", "1", *extra)
    return {name: str(d / name) for name in ("ca.crt", "server.crt", "server.key", "client.crt", "client.key")}


def mutual_tls(pki: dict[str, str]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=pki["ca.crt"])
    ctx.load_cert_chain(pki["server.crt"], pki["server.key"])
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


async def test_client_certificate_and_ca_bundle_from_kubeconfig_work(pki: dict[str, str],
                                                                     tmp_path: pathlib.Path) -> None:
    async with SimulatedCluster(ssl_context=mutual_tls(pki)) as sim:
        sim.apply(configmap("over-tls"))
        path = sim.write_kubeconfig(str(tmp_path / "kubeconfig"), ca_file=pki["ca.crt"],
                                    client_cert=pki["client.crt"], client_key=pki["client.key"])
        async with await KubeClient.connect(ClusterConfig("tls", kubeconfig=path)) as kube:
            items, _ = await kube.list(CONFIGMAPS)
    assert sim.url.startswith("https://") and [i["metadata"]["name"] for i in items] == ["over-tls"]


async def test_a_server_certificate_outside_the_ca_bundle_is_refused(pki: dict[str, str],
                                                                     tmp_path: pathlib.Path) -> None:
    async with SimulatedCluster(ssl_context=mutual_tls(pki)) as sim:
        path = sim.write_kubeconfig(str(tmp_path / "kubeconfig"), client_cert=pki["client.crt"],
                                    client_key=pki["client.key"])
        async with await KubeClient.connect(ClusterConfig("tls", kubeconfig=path)) as kube:
            with pytest.raises(Unreachable, match="cluster tls unreachable: .*certificate verify failed"):
                await kube.list(CONFIGMAPS)


async def test_an_exec_credential_plugin_supplies_the_token(tmp_path: pathlib.Path) -> None:
    plugin = tmp_path / "credential-plugin"
    plugin.write_text(f"#!{sys.executable}\nimport json\nprint(json.dumps({{"
                      "'apiVersion': 'client.authentication.k8s.io/v1', 'kind': 'ExecCredential',"
                      "'status': {'token': 'issued-by-plugin'}}))\n")
    plugin.chmod(0o755)
    async with SimulatedCluster(token="issued-by-plugin") as sim:
        sim.apply(configmap("via-exec"))
        path = sim.write_kubeconfig(str(tmp_path / "kubeconfig"), exec_command=[str(plugin)])
        async with await KubeClient.connect(ClusterConfig("exec", kubeconfig=path)) as kube:
            items, _ = await kube.list(CONFIGMAPS)
    assert [i["metadata"]["name"] for i in items] == ["via-exec"]


async def test_tokens_never_reach_the_logs(tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with SimulatedCluster(token="tok-abc123-secret") as sim:
        good = sim.write_kubeconfig(str(tmp_path / "good"))
        bad = sim.write_kubeconfig(str(tmp_path / "bad"), token="tok-wrong-secret")
        async with await KubeClient.connect(ClusterConfig("a", kubeconfig=good)) as kube:
            await kube.list(CONFIGMAPS)
            await kube.resolve("v1", "Secret")
        async with await KubeClient.connect(ClusterConfig("b", kubeconfig=bad)) as kube:
            with pytest.raises(Unauthorized):
                await kube.list(CONFIGMAPS)
    assert any(r.name.startswith("exporter.kube") for r in caplog.records)
    assert "tok-abc123" not in caplog.text and "tok-wrong" not in caplog.text


async def test_an_error_event_in_the_stream_raises_resource_expired(sim: SimulatedCluster,
                                                                     client: KubeClient) -> None:
    stream = client.watch(CONFIGMAPS, str(sim.resource_version))
    seen: list[str] = []
    with pytest.raises(ResourceExpired, match="resourceVersion expired: too old resource version"):
        async with contextlib.aclosing(stream):
            async for type_, _ in stream:
                seen.append(type_)
                if type_ == "BOOKMARK":
                    sim.drop_watches(expired=True)
    assert seen and set(seen) == {"BOOKMARK"}
