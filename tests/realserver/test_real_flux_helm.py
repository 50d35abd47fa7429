"""Apps read from Flux's HelmReleases on the real API server, with the test playing helm-controller:
the release installed by Helm's own library (helm-python-sdk) from a chart written out as
helm-controller renders it (its origin labels on every object), values from a ConfigMap and the
HelmRelease merged by hand in helm-controller's order, and the HelmRelease's and HelmChart's
status written through the status subresource. The chart the agent renders comes from a real Helm
repository on loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from control_plane import ControlPlane
from test_real_flux import eventually, install_crds

from exporter.model import AppState
from exporter.wiring import build_agent, load_config

helm_python = pytest.importorskip("helm_python", reason="Helm's library (pip install helm-python-sdk)")
chart_servers = pytest.importorskip("chart_servers")

TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
  labels: {app.kubernetes.io/name: shop%s}
data:
  chartVersion: {{ .Chart.Version | quote }}
  greeting: {{ .Values.greeting | quote }}
  color: {{ .Values.color | quote }}
  {{- if .Values.debug }}
  debug: "on"
  {{- end }}
"""
ORIGIN = ", helm.toolkit.fluxcd.io/name: shop, helm.toolkit.fluxcd.io/namespace: {namespace}"


def write_chart(root: Path, version: str, labels: str = "") -> Path:
    chart = root / "shop"
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: shop\nversion: {version}\n")
    (chart / "values.yaml").write_text("greeting: hello\ncolor: grey\n")
    (chart / "templates" / "settings.yaml").write_text(TEMPLATE % labels)
    return chart


class HelmController:
    """Plays helm-controller (and the HelmChart source-controller makes) in one namespace."""

    def __init__(self, plane: ControlPlane, namespace: str, work: Path) -> None:
        self.plane, self.ns, self.work = plane, namespace, work

    def _status(self, path: str, status: dict[str, Any]) -> None:
        self.plane.request("PATCH", f"{path}/status", json.dumps({"status": status}), "application/merge-patch+json")

    def repository(self, url: str) -> None:
        self.plane.kubectl("apply", "-f", "-", input=yaml.safe_dump({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
            "metadata": {"name": "charts", "namespace": self.ns}, "spec": {"interval": "1h", "url": url}}))

    def chart_ready(self, version: str) -> None:
        """The HelmChart helm-controller makes (``<namespace>-<name>``), with its artifact at ``version``."""
        self.plane.kubectl("apply", "-f", "-", input=yaml.safe_dump({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmChart",
            "metadata": {"name": f"{self.ns}-shop", "namespace": self.ns},
            "spec": {"chart": "shop", "version": "1.x", "sourceRef": {"kind": "HelmRepository", "name": "charts"}}}))
        self._status(f"/apis/source.toolkit.fluxcd.io/v1/namespaces/{self.ns}/helmcharts/{self.ns}-shop",
                     {"artifact": {"revision": version}})

    def release(self, **spec: Any) -> None:
        self.plane.kubectl("apply", "-f", "-", input=yaml.safe_dump({
            "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "shop", "namespace": self.ns},
            "spec": {"interval": "10m", "chart": {"spec": {"chart": "shop", "version": "1.x",
                                                           "sourceRef": {"kind": "HelmRepository", "name": "charts"}}},
                     "valuesFrom": [{"kind": "ConfigMap", "name": "shop-values"}],
                     "values": {"greeting": "hi"}, **spec}}))

    def installed(self, version: str, values: dict[str, Any], ready: tuple[str, str] = ("True", "InstallSucceeded"),
                  *, release: str = "shop", target: str | None = None, oci_digest: str = "") -> None:
        """Install the release as helm-controller renders it (its record kept in the HelmRelease's
        namespace, the objects in ``target``), then record it in the status, with the digest of
        the OCI artifact the chart came from when it came from an OCIRepository."""
        chart = write_chart(self.work / f"as-installed-{version}", version, ORIGIN.format(namespace=self.ns))
        with helm_python.Config(kubeconfig_path=str(self.plane.admin_kubeconfig), namespace=self.ns) as config:
            config.install(str(chart), release, values, namespace=target or self.ns)
        if target is not None and target != self.ns:
            # Helm's library keeps the record beside the objects; helm-controller keeps it in the
            # HelmRelease's namespace (its storage namespace): move it there.
            record = self.plane.get("secret", f"sh.helm.release.v1.{release}.v1", "-n", target)
            record["metadata"] = {k: v for k, v in record["metadata"].items()
                                  if k in ("name", "labels", "annotations")} | {"namespace": self.ns}
            self.plane.kubectl("create", "-f", "-", input=json.dumps(record))
            self.plane.kubectl("delete", "secret", f"sh.helm.release.v1.{release}.v1", "-n", target)
        self._status(f"/apis/helm.toolkit.fluxcd.io/v2/namespaces/{self.ns}/helmreleases/shop", {
            "history": [{"chartName": "shop", "chartVersion": version, "name": "shop", "namespace": self.ns,
                         "version": 1, "status": "deployed", **({"ociDigest": oci_digest} if oci_digest else {})}],
            "lastAttemptedRevision": version,
            "conditions": [{"type": "Ready", "status": ready[0], "reason": ready[1], "message": "Helm install",
                            "lastTransitionTime": "2026-12-07T10:00:00Z"}]})


def agent_config(plane: ControlPlane, work: Path, ns: str, repositories: list[dict[str, Any]] | None = None) -> str:
    """A config with only ``appSources: [{flux: ...}]`` (and the registries' settings)."""
    (work / "config.yaml").write_text(yaml.safe_dump({
        "clusters": [{"name": "real", "kubeconfig": str(plane.agent_kubeconfig)}],
        "repositories": repositories or [], "cacheDir": str(work / "cache"), "gitPollInterval": "1h",
        "interval": "1h", "appSources": [{"flux": {"cluster": "real", "namespace": ns}}]}))
    return str(work / "config.yaml")


@pytest.fixture
def charts(work: Path):
    repo = chart_servers.HelmRepo(work / "charts")
    root = work / "published"
    root.mkdir()
    chart_servers.helm.package(str(write_chart(root, "1.0.0")), destination=str(repo.files))
    repo.index()
    yield repo
    repo.close()


async def test_a_helmrelease_from_a_helm_repository_is_an_app_judged_with_flux_word(
        control_plane: ControlPlane, namespace: str, work: Path, charts: Any) -> None:
    ns = namespace
    install_crds(control_plane)
    controller = HelmController(control_plane, ns, work)
    control_plane.kubectl("create", "configmap", "shop-values", "-n", ns,
                          "--from-literal=values.yaml=color: blue\ngreeting: overridden\n")
    controller.repository(charts.url)
    controller.chart_ready("1.0.0")
    controller.release()
    # valuesFrom first, inline values over them: greeting from the HelmRelease, color from the ConfigMap.
    controller.installed("1.0.0", {"greeting": "hi", "color": "blue"})
    agent = build_agent(load_config(agent_config(control_plane, work, ns)))
    await agent.start()
    try:
        status = await eventually(agent, f"{ns}/shop", lambda s: s.state is AppState.HEALTHY)
        assert [o.key.name for o in status.objects] == ["shop-settings"]
        assert status.deployer is not None and status.deployer.applied_revision == "1.0.0"

        # A hand edit of a field the release set is drift.
        control_plane.kubectl("patch", "configmap", "shop-settings", "-n", ns, "-p", '{"data":{"color":"red"}}')
        status = await eventually(agent, f"{ns}/shop", lambda s: s.state is AppState.OUT_OF_SYNC)
        assert status.reason == f"ConfigMap {ns}/shop-settings differs at /data/color"

        # The values' ConfigMap changing changes what the release should hold.
        control_plane.kubectl("patch", "configmap", "shop-values", "-n", ns, "-p",
                              json.dumps({"data": {"values.yaml": "color: red\n"}}))
        await eventually(agent, f"{ns}/shop", lambda s: s.state is AppState.HEALTHY)

        # A new chart version ready that helm-controller has not released yet.
        controller.chart_ready("1.1.0")
        status = await eventually(agent, f"{ns}/shop", lambda s: s.state is AppState.PROGRESSING)
        assert status.reason == f"Flux HelmRelease {ns}/shop has applied 1.0.0, its source is at 1.1.0"

        # Suspended: Suspended, and a failed upgrade: Degraded with helm-controller's reason.
        control_plane.kubectl("patch", "helmrelease", "shop", "-n", ns, "--type=merge", "-p", '{"spec":{"suspend":true}}')
        await eventually(agent, f"{ns}/shop", lambda s: s.state is AppState.SUSPENDED)
        control_plane.kubectl("patch", "helmrelease", "shop", "-n", ns, "--type=merge", "-p", '{"spec":{"suspend":false}}')
        control_plane.request("PATCH", f"/apis/helm.toolkit.fluxcd.io/v2/namespaces/{ns}/helmreleases/shop/status",
                              json.dumps({"status": {"conditions": [{
                                  "type": "Ready", "status": "False", "reason": "UpgradeFailed",
                                  "message": "timed out waiting for the condition",
                                  "lastTransitionTime": "2026-12-07T11:00:00Z"}]}}), "application/merge-patch+json")
        status = await eventually(agent, f"{ns}/shop", lambda s: s.state is AppState.DEGRADED)
        assert status.reason == (f"Flux HelmRelease {ns}/shop failed: UpgradeFailed: "
                                 "timed out waiting for the condition")
    finally:
        await agent.close()


async def test_a_helmrelease_of_an_oci_chart_is_rendered_from_the_registry(
        control_plane: ControlPlane, namespace: str, work: Path) -> None:
    ns = namespace
    registry = chart_servers.OciRegistry(work / "registry")
    try:
        archive = chart_servers.helm.package(str(write_chart(work / "published", "1.0.0")),
                                             destination=str(work / "packages"))
        chart_servers.helm.push(archive, registry.url, plain_http=True)
        install_crds(control_plane)
        controller = HelmController(control_plane, ns, work)
        control_plane.kubectl("apply", "-f", "-", input=yaml.safe_dump({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
            "metadata": {"name": "shop", "namespace": ns},
            "spec": {"interval": "10m", "url": f"{registry.url}/shop", "ref": {"tag": "1.0.0"},
                     "layerSelector": {"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip"}}}))
        control_plane.request("PATCH", f"/apis/source.toolkit.fluxcd.io/v1/namespaces/{ns}/ocirepositories/shop/status",
                              json.dumps({"status": {"artifact": {"revision": "1.0.0@sha256:" + "b" * 64}}}),
                              "application/merge-patch+json")
        control_plane.kubectl("create", "configmap", "shop-values", "-n", ns, "--from-literal=values.yaml=color: teal\n")
        controller.release(chart=None, chartRef={"kind": "OCIRepository", "name": "shop"})
        controller.installed("1.0.0", {"greeting": "hi", "color": "teal"})
        agent = build_agent(load_config(agent_config(control_plane, work, ns, [
            {"url": f"oci://{registry.host}", "plainHttp": True}])))
        await agent.start()
        try:
            status = await eventually(agent, f"{ns}/shop", lambda s: s.state is AppState.HEALTHY)
            assert [o.key.name for o in status.objects] == ["shop-settings"]
            config = agent.snapshot()[f"{ns}/shop"][0]
            assert (config.source.repo_url, config.source.chart) == (registry.url, "shop")
        finally:
            await agent.close()
    finally:
        registry.close()


async def test_a_release_into_a_target_namespace_is_compared_with_helm_record_in_the_helmrelease_namespace(
        control_plane: ControlPlane, namespace: str, work: Path, charts: Any) -> None:
    ns, target = namespace, f"{namespace}-web"
    control_plane.kubectl("create", "namespace", target)
    install_crds(control_plane)
    controller = HelmController(control_plane, ns, work)
    control_plane.kubectl("create", "configmap", "shop-values", "-n", ns, "--from-literal=values.yaml=color: blue\n")
    controller.repository(charts.url)
    controller.chart_ready("1.0.0")
    controller.release(targetNamespace=target)
    # The release as last installed had debug on; the HelmRelease's values no longer do.
    controller.installed("1.0.0", {"greeting": "hi", "color": "blue", "debug": True},
                         release=f"{target}-shop", target=target)
    agent = build_agent(load_config(agent_config(control_plane, work, ns)))
    await agent.start()
    try:
        status = await eventually(agent, f"{ns}/shop", lambda s: s.state is AppState.OUT_OF_SYNC)
        [settings] = status.objects
        assert settings.key.namespace == target and settings.key.name == f"{target}-shop-settings"
        [difference] = settings.diff.differences if settings.diff else []
        assert difference.path == "/data/debug"
        assert difference.reason.startswith("not deployed yet: Git at shop 1.0.0 (sha256:")
        assert difference.reason.endswith(f"removes it (last applied by helm release {target}-shop revision 1)")
    finally:
        await agent.close()
