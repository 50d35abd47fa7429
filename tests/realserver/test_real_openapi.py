"""The server's own OpenAPI documents, read through the agent's client with its read-only identity."""

from __future__ import annotations

from control_plane import ControlPlane

from exporter.config_types import ClusterConfig
from exporter.diff.openapi import ServerSchemas
from exporter.kube.client import KubeClient


async def test_v2_and_v3_are_read_and_describe_the_kinds_users_write(control_plane: ControlPlane) -> None:
    client = await KubeClient.connect(ClusterConfig(name="real", kubeconfig=str(control_plane.agent_kubeconfig)))
    try:
        v2 = await client.openapi_v2()
        v3 = await client.openapi_v3()
    finally:
        await client.close()
    assert any("io.k8s.api.apps.v1.DeploymentSpec" in d.get("components", {}).get("schemas", {}) for d in v3)
    schemas = ServerSchemas(v2, v3)
    assert schemas.source == "v3"
    deployment = schemas.hints("apps", "v1", "Deployment")
    assert deployment is not None
    containers = deployment.for_api_version("apps/v1").fields["spec"].fields["template"].fields["spec"].fields[
        "containers"]
    assert containers.list_keys == (("name", None),)
    hpa = schemas.hints("autoscaling", "v2", "HorizontalPodAutoscaler")
    assert hpa is not None
    target = hpa.for_api_version("autoscaling/v2").fields["spec"].fields["metrics"].items.fields["pods"].fields[
        "target"].fields["averageValue"]
    assert target.quantity
