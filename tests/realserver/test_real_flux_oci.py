"""Flux apps whose source is an ``OCIRepository`` on the real API server: the artifact pushed to a
real registry on loopback (Debian's docker-registry) as ``flux push artifact`` pushes it, the
OCIRepository's artifact revision written as source-controller writes it (``<tag>@<digest>``,
or the digest alone when pinned), and Flux's apply played as in :mod:`test_real_flux`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from control_plane import ControlPlane
from test_real_flux import DEPLOY, WEB_SPEC, Flux, configmap, eventually, install_crds, web_as_flux_applies
from test_real_flux_helm import HelmController, write_chart

from exporter.model import AppState
from exporter.oci import HELM_CHART_LAYER
from exporter.wiring import build_agent, load_config

chart_servers = pytest.importorskip("chart_servers")
oci_artifacts = pytest.importorskip("oci_artifacts")

ARTIFACT = {"web/kustomization.yaml": "resources: [deploy.yaml, config.yaml]\n", "web/deploy.yaml": DEPLOY,
            "web/config.yaml": yaml.safe_dump(configmap("config"))}


@pytest.fixture
def registry(work: Path) -> Iterator[Any]:
    server = chart_servers.OciRegistry(work / "registry")
    yield server
    server.close()


def oci_repository(plane: ControlPlane, ns: str, url: str, ref: dict[str, str], revision: str,
                   name: str = "deploy", **spec: Any) -> None:
    """The OCIRepository ``name`` and the artifact revision source-controller records for it."""
    plane.kubectl("apply", "-f", "-", input=yaml.safe_dump({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"interval": "5m", "url": url, "ref": ref, "insecure": True, **spec}}))
    plane.request("PATCH", f"/apis/source.toolkit.fluxcd.io/v1/namespaces/{ns}/ocirepositories/{name}/status",
                  json.dumps({"status": {"artifact": {"revision": revision}}}), "application/merge-patch+json")


def agent_config(plane: ControlPlane, work: Path, ns: str) -> str:
    """Only ``appSources: [{flux: ...}]``; the registry is reached over plain HTTP because the
    OCIRepository says ``insecure: true``, and read again every second."""
    (work / "config.yaml").write_text(yaml.safe_dump({
        "clusters": [{"name": "real", "kubeconfig": str(plane.agent_kubeconfig)}],
        "cacheDir": str(work / "cache"), "gitPollInterval": "1s", "interval": "1h",
        "appSources": [{"flux": {"cluster": "real", "namespace": ns}}]}))
    return str(work / "config.yaml")


async def test_a_kustomization_from_an_oci_artifact_is_built_from_its_layer_and_follows_a_new_push(
        control_plane: ControlPlane, namespace: str, work: Path, registry: Any) -> None:
    ns = namespace
    install_crds(control_plane)
    pusher = oci_artifacts.Pusher(registry.host)
    first = pusher.artifact("manifests/deploy", "latest", ARTIFACT)
    url = f"oci://{registry.host}/manifests/deploy"
    oci_repository(control_plane, ns, url, {"tag": "latest"}, f"latest@{first}")
    flux = Flux(control_plane, ns)
    flux.kustomization("web", "./web", **WEB_SPEC, sourceRef={"kind": "OCIRepository", "name": "deploy"})
    flux.applied("web", web_as_flux_applies(ns), "", revision=f"latest@{first}")
    agent = build_agent(load_config(agent_config(control_plane, work, ns)))
    await agent.start()
    try:
        web = await eventually(agent, f"{ns}/web", lambda s: s.state is AppState.HEALTHY)
        assert web.revision == f"latest@{first}"
        assert sorted(o.key.name for o in web.objects) == ["prod-config", "prod-web"]
        assert web.deployer is not None and not web.deployer.behind

        # A hand edit of a field Flux applied from the artifact is drift.
        control_plane.kubectl("patch", "configmap", "prod-config", "-n", ns, "-p", '{"data":{"mode":"hand"}}')
        web = await eventually(agent, f"{ns}/web", lambda s: s.state is AppState.OUT_OF_SYNC)
        assert web.reason == f"ConfigMap {ns}/prod-config differs at /data/mode"
        flux.applied("web", web_as_flux_applies(ns), "", revision=f"latest@{first}")
        await eventually(agent, f"{ns}/web", lambda s: s.state is AppState.HEALTHY)

        # A new push under the same tag, fetched by source-controller, not applied yet.
        changed = {**ARTIFACT, "web/deploy.yaml": DEPLOY.replace("replicas: 0", "replicas: 1")}
        second = pusher.artifact("manifests/deploy", "latest", changed)
        oci_repository(control_plane, ns, url, {"tag": "latest"}, f"latest@{second}")
        web = await eventually(agent, f"{ns}/web", lambda s: s.revision == f"latest@{second}"
                               and s.state is AppState.OUT_OF_SYNC)
        assert web.reason == (f"apps/Deployment {ns}/prod-web differs at /spec/replicas; Flux Kustomization "
                              f"{ns}/web has applied latest@{first}, its source is at latest@{second}")

        # Pinned by digest to the first push: the app builds that artifact again, whatever the tag says.
        oci_repository(control_plane, ns, url, {"tag": "latest", "digest": first}, first)
        flux.applied("web", web_as_flux_applies(ns), "", revision=first)
        web = await eventually(agent, f"{ns}/web", lambda s: s.revision == first and s.state is AppState.HEALTHY)
        assert agent.snapshot()[f"{ns}/web"][0].source.target_revision == first
    finally:
        await agent.close()
    verbs = control_plane.verbs_of()
    assert verbs and set(verbs) <= {"get", "list", "watch"}, verbs


async def test_a_helmrelease_chart_ref_pinned_by_digest_renders_that_chart_and_a_new_pin_is_flux_behind(
        control_plane: ControlPlane, namespace: str, work: Path, registry: Any) -> None:
    ns = namespace
    helm = chart_servers.helm
    for version in ("1.0.0", "1.0.1"):
        archive = helm.package(str(write_chart(work / f"published-{version}", version)), destination=str(work / "packages"))
        helm.push(archive, registry.url, plain_http=True)
    with helm.RegistryClient(plain_http=True) as client:
        first, second = (client.resolve(f"{registry.url}/shop:{v}")["digest"] for v in ("1.0.0", "1.0.1"))
    install_crds(control_plane)
    pin = {"layerSelector": {"mediaType": HELM_CHART_LAYER, "operation": "copy"}}
    url = f"{registry.url}/shop"
    oci_repository(control_plane, ns, url, {"digest": first}, first, name="shop", **pin)
    control_plane.kubectl("create", "configmap", "shop-values", "-n", ns, "--from-literal=values.yaml=color: teal\n")
    controller = HelmController(control_plane, ns, work)
    controller.release(chart=None, chartRef={"kind": "OCIRepository", "name": "shop"})
    controller.installed("1.0.0", {"greeting": "hi", "color": "teal"}, oci_digest=first)
    agent = build_agent(load_config(agent_config(control_plane, work, ns)))
    await agent.start()
    try:
        status = await eventually(agent, f"{ns}/shop", lambda s: s.state is AppState.HEALTHY)
        assert status.revision == first and [o.key.name for o in status.objects] == ["shop-settings"]
        assert status.deployer is not None and not status.deployer.behind

        # Pinned to the next chart, which helm-controller has not released yet: both digests named.
        oci_repository(control_plane, ns, url, {"digest": second}, second, name="shop", **pin)
        status = await eventually(agent, f"{ns}/shop", lambda s: s.revision == second
                                  and s.state is AppState.OUT_OF_SYNC)
        assert status.reason == (f"ConfigMap {ns}/shop-settings differs at /data/chartVersion; Flux HelmRelease "
                                 f"{ns}/shop has applied 1.0.0@{first}, its source is at {second}")
    finally:
        await agent.close()
