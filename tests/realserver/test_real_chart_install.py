"""The chart as people install it by name: ``helm package``, pushed to a real OCI registry on
loopback (Debian's docker-registry), ``helm install oci://...`` from there against the real API
server with Helm's own library, and a wrong value refused at install time by ``values.schema.json``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from control_plane import ControlPlane

helm = pytest.importorskip("helm_python", reason="needs helm-python-sdk (the helm extra)")
chart_servers = pytest.importorskip("chart_servers")

CHART = Path(__file__).resolve().parents[2] / "helm" / "gitops-drift-exporter"
VERSION = yaml.safe_load((CHART / "Chart.yaml").read_text())["version"]
CONFIG = {"clusters": [{"name": "in-cluster", "inCluster": True}],
          "apps": [{"name": "web", "source": {"repoURL": "https://github.com/acme/deploy.git", "path": "web"},
                    "destination": {"cluster": "in-cluster", "namespace": "web"}}]}


@pytest.fixture
def pushed(tmp_path: Path) -> Iterator[str]:
    """The packaged chart in a registry on loopback: its ``oci://`` repository."""
    registry = chart_servers.OciRegistry(tmp_path / "registry")
    try:
        archive = helm.package(str(CHART), destination=str(tmp_path))
        assert Path(archive).name == f"gitops-drift-exporter-{VERSION}.tgz"
        helm.push(archive, f"oci://{registry.host}/charts", plain_http=True)
        yield f"oci://{registry.host}/charts/gitops-drift-exporter"
    finally:
        registry.close()


def install(plane: ControlPlane, namespace: str, reference: str, values: dict[str, Any]) -> dict[str, Any]:
    config = helm.Config(kubeconfig_path=str(plane.admin_kubeconfig), namespace=namespace)
    try:
        return dict(config.install(reference, "gde", values, namespace=namespace, chart_version=VERSION,
                                   plain_http=True))
    finally:
        config.close()


def test_the_chart_installs_by_name_from_an_oci_registry(control_plane: ControlPlane, namespace: str,
                                                          pushed: str) -> None:
    values = {"config": CONFIG, "image": {"repository": "registry.example.com/platform/gitops-drift-exporter",
                                          "tag": "1.0.0"}}
    release = install(control_plane, namespace, pushed, values)
    assert "deployed" in str(release).lower()
    deployment = yaml.safe_load(control_plane.kubectl(
        "get", "deployment", "-n", namespace, "-l", "app.kubernetes.io/instance=gde", "-o", "yaml"))["items"]
    [container] = deployment[0]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.example.com/platform/gitops-drift-exporter:1.0.0"
    stored = yaml.safe_load(control_plane.kubectl(
        "get", "configmap", "-n", namespace, "-l", "app.kubernetes.io/instance=gde", "-o", "yaml"))["items"]
    configs = [yaml.safe_load(c["data"]["config.yaml"]) for c in stored if "config.yaml" in c.get("data", {})]
    assert [c["apps"] for c in configs] == [CONFIG["apps"]]


def test_a_wrong_value_is_refused_at_install_time_naming_it(control_plane: ControlPlane, namespace: str,
                                                            pushed: str) -> None:
    with pytest.raises(helm.HelmError) as refused:
        install(control_plane, namespace, pushed, {"config": CONFIG, "shards": "two"})
    assert "shards" in str(refused.value)
    assert control_plane.kubectl("get", "deployment", "-n", namespace, "-o", "name") == ""
