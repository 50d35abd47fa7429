"""The benchmark fleet is only as realistic as its live objects: ``bench/fleet_app/live.json`` must be
what a real API server returns for ``bench/fleet_app/manifests.yaml``, and the simulated cluster
that serves it must keep and move field ownership as the real one does."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
from control_plane import ControlPlane

from exporter.model import ObjectKey
from exporter.simulator import SimulatedCluster

FLEET_APP = Path(__file__).resolve().parents[2] / "bench" / "fleet_app"

#: What differs between two captures of the same manifests: identities, clocks, allocated
#: addresses, and the ReplicaSet names (their hash covers the namespace-specific pod template).
VOLATILE = {"uid", "resourceVersion", "creationTimestamp", "time", "lastTransitionTime", "lastUpdateTime",
            "lastScaleTime", "clusterIP", "clusterIPs"}


def _capture_module() -> Any:
    spec = importlib.util.spec_from_file_location("fleet_capture", FLEET_APP / "capture.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def steady(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: steady(v) for k, v in value.items() if k not in VOLATILE}
        if "managedFields" in out:  # entries are not kept in any particular order
            out["managedFields"] = sorted(out["managedFields"], key=lambda m: (m["manager"], m.get("subresource", "")))
        return out
    if isinstance(value, list):
        return [steady(v) for v in value]
    if isinstance(value, str):
        return re.sub(r'ReplicaSet "[a-z0-9-]+"', 'ReplicaSet "…"', value)
    return value


def checked_in(namespace: str, version: str) -> list[dict[str, Any]]:
    """The capture kept for the control plane of ``version`` (its folder name: what each version
    stores and defaults differs)."""
    capture = _capture_module()
    text = (FLEET_APP / capture.capture_file(version)).read_text(encoding="utf-8").replace(capture.TOKEN, namespace)
    objects: list[dict[str, Any]] = json.loads(text)["objects"]
    return objects


@pytest.fixture(scope="module")
def captured(control_plane: ControlPlane) -> tuple[str, list[dict[str, Any]]]:
    namespace = "fleet-check"
    control_plane.kubectl("create", "namespace", namespace)
    return namespace, _capture_module().capture(control_plane, namespace)


def test_the_benchmark_fleet_app_is_what_the_real_server_returns(captured, control_plane: ControlPlane) -> None:
    namespace, live = captured
    expected = checked_in(namespace, control_plane.assets.name)
    assert [(o["kind"], o["metadata"]["name"]) for o in live] == \
        [(o["kind"], o["metadata"]["name"]) for o in expected]
    for real, kept in zip(live, expected, strict=True):
        assert steady(real) == steady(kept), \
            f"{real['kind']} {real['metadata']['name']}: live.json is stale; run bench/fleet_app/capture.py"


def test_the_fleet_app_has_status_from_each_controller(captured) -> None:
    _namespace, live = captured
    writers = {(o["kind"], m["manager"]) for o in live for m in o["metadata"]["managedFields"]
               if m.get("subresource") == "status"}
    assert writers >= {("Deployment", "kube-controller-manager"), ("PodDisruptionBudget", "kube-controller-manager"),
                       ("HorizontalPodAutoscaler", "kube-controller-manager"),
                       ("Ingress", "nginx-ingress-controller"), ("Database", "database-operator")}


async def test_a_loaded_object_moves_field_ownership_as_the_real_server_does(captured,
                                                                             control_plane: ControlPlane) -> None:
    namespace, live = captured
    config = next(o for o in live if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "config-00")
    control_plane.request("PATCH", f"/api/v1/namespaces/{namespace}/configmaps/config-00?fieldManager=kubectl-edit",
                          json.dumps({"data": {"mode": "edited"}}), "application/merge-patch+json")
    real = control_plane.request("GET", f"/api/v1/namespaces/{namespace}/configmaps/config-00")
    async with SimulatedCluster() as sim:
        sim.load(config)
        fake = sim.patch(ObjectKey.of(config), {"data": {"mode": "edited"}}, manager="kubectl-edit",
                         patch_type="merge")

    def owners(obj: dict[str, Any]) -> dict[str, Any]:
        return {m["manager"]: m["fieldsV1"] for m in obj["metadata"]["managedFields"]}

    assert owners(fake) == owners(real)
    assert owners(real)["kubectl-edit"] == {"f:data": {"f:mode": {}}}
    assert fake["metadata"]["annotations"] == real["metadata"]["annotations"]
