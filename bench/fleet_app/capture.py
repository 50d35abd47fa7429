"""Capture the live form of the fleet app from a real Kubernetes 1.24 API server.

    KUBEBUILDER_ASSETS=build/k8s-1.24 python bench/fleet_app/capture.py

Applies ``crd.yaml`` and ``manifests.yaml`` with ``kubectl apply`` (client-side: last-applied
annotation, manager ``kubectl-client-side-apply``), then lets status be written the way a working
cluster writes it: the pods the ReplicaSets create are marked Ready through ``pods/status`` as the
kubelet does, so the real deployment, replica-set and disruption controllers fill the Deployment
and PodDisruptionBudget statuses; the HPA (whose controller needs a metrics server), the Ingress
(an ingress controller) and the Database (its operator) get theirs through the ``status``
subresource under those controllers' manager names. The objects are then read back exactly as the
server serves them and written to ``live.json``, which ``bench/fleet.py`` loads into its simulated
clusters. ``tests/realserver/test_fleet_app.py`` repeats the capture and checks ``live.json`` still
matches it.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: The word the manifests use for the app's namespace; the bench replaces it per app.
TOKEN = "fleet-app"


def manifests(namespace: str = TOKEN) -> list[dict[str, Any]]:
    text = (HERE / "manifests.yaml").read_text(encoding="utf-8").replace(TOKEN, namespace)
    return [d for d in yaml.safe_load_all(text) if d]


def crd() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((HERE / "crd.yaml").read_text(encoding="utf-8"))
    return doc


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _path(obj: dict[str, Any], namespace: str) -> str:
    group, _, version = obj["apiVersion"].rpartition("/")
    kind = obj["kind"].lower()
    plural = kind[:-1] + "ies" if kind.endswith("y") else kind + ("es" if kind.endswith("s") else "s")
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    return f"{prefix}/namespaces/{namespace}/{plural}/{obj['metadata']['name']}"


def _status(plane: Any, path: str, status: dict[str, Any], manager: str) -> None:
    plane.request("PATCH", f"{path}/status?fieldManager={manager}", json.dumps({"status": status}),
                  "application/merge-patch+json")


def _wait(check: Any, what: str, within: float = 90.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.3)


def _pods_ready(plane: Any, namespace: str) -> bool:
    """Act as the kubelet: every pod that exists is Running and Ready. True once all 3 are."""
    pods = plane.get("pods", "-n", namespace)["items"]
    now = _now()
    for pod in pods:
        if (pod.get("status") or {}).get("phase") == "Running":
            continue
        spec = pod["spec"]
        status = {
            "phase": "Running", "podIP": "10.244.0.10", "hostIP": "192.0.2.10", "startTime": now,
            "conditions": [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
                           for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
            "initContainerStatuses": [
                {"name": c["name"], "image": c["image"], "imageID": "", "ready": True, "restartCount": 0,
                 "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now,
                                          "finishedAt": now}}} for c in spec.get("initContainers", [])],
            "containerStatuses": [
                {"name": c["name"], "image": c["image"], "imageID": "", "ready": True, "started": True,
                 "restartCount": 0, "state": {"running": {"startedAt": now}}} for c in spec["containers"]],
        }
        plane.request("PATCH", f"/api/v1/namespaces/{namespace}/pods/{pod['metadata']['name']}/status"
                      "?fieldManager=kubelet", json.dumps({"status": status}), "application/merge-patch+json")
    return len(pods) == 3 and all((p.get("status") or {}).get("phase") == "Running" for p in pods)


def capture(plane: Any, namespace: str) -> list[dict[str, Any]]:
    """Apply the fleet app into ``namespace`` (which must exist) and return its live objects."""
    if not any(i["metadata"]["name"] == "databases.fleet.example.com"
               for i in plane.get("crd")["items"]):
        plane.kubectl("apply", "-f", "-", input=yaml.safe_dump(crd()))
        plane.kubectl("wait", "--for=condition=Established", "crd/databases.fleet.example.com", "--timeout=60s")
    docs = manifests(namespace)
    plane.kubectl("apply", "-n", namespace, "-f", "-", input=yaml.safe_dump_all(docs))
    _wait(lambda: _pods_ready(plane, namespace), "the pods")

    def settled() -> bool:
        deployments = [plane.get("deployment", name, "-n", namespace) for name in ("web", "worker")]
        pdb = plane.get("pdb", "worker", "-n", namespace).get("status") or {}
        return all((d.get("status") or {}).get("availableReplicas") == d["spec"]["replicas"]
                   and d["status"].get("observedGeneration") == d["metadata"]["generation"]
                   and d["status"].get("updatedReplicas") == d["spec"]["replicas"] for d in deployments) \
            and pdb.get("currentHealthy") == 2 and pdb.get("observedGeneration") == 1

    _wait(settled, "the controllers to report the Deployments and the PodDisruptionBudget")
    by_kind = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    now = _now()
    _status(plane, _path(by_kind[("HorizontalPodAutoscaler", "web")], namespace), {
        "currentReplicas": 1, "desiredReplicas": 1, "lastScaleTime": now,
        "currentMetrics": [{"type": "Resource", "resource": {
            "name": "cpu", "current": {"averageUtilization": 12, "averageValue": "31m"}}}],
        "conditions": [
            {"type": "AbleToScale", "status": "True", "lastTransitionTime": now, "reason": "ReadyForNewScale",
             "message": "recommended size matches current size"},
            {"type": "ScalingActive", "status": "True", "lastTransitionTime": now, "reason": "ValidMetricFound",
             "message": "the HPA was able to successfully calculate a replica count from cpu resource "
                        "utilization (percentage of request)"},
            {"type": "ScalingLimited", "status": "True", "lastTransitionTime": now, "reason": "TooFewReplicas",
             "message": "the desired replica count is less than the minimum replica count"}]},
        "kube-controller-manager")
    _status(plane, _path(by_kind[("Ingress", "web")], namespace),
            {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}, "nginx-ingress-controller")
    _status(plane, _path(by_kind[("Database", "web")], namespace), {
        "phase": "Ready", "observedGeneration": 1, "endpoint": f"db.{namespace}.svc:5432",
        "conditions": [{"type": "Ready", "status": "True", "reason": "Provisioned", "lastTransitionTime": now,
                        "message": "database is ready"}]}, "database-operator")
    return [plane.request("GET", _path(d, namespace)) for d in docs]


def main() -> None:
    sys.path.insert(0, str(ROOT / "tests" / "realserver"))
    from control_plane import ControlPlane, assets_dir

    assets = assets_dir()
    if assets is None:
        sys.exit("set KUBEBUILDER_ASSETS to a folder with kube-apiserver, kube-controller-manager and etcd")
    with tempfile.TemporaryDirectory(prefix="fleet-capture-") as tmp:
        plane = ControlPlane(assets, Path(tmp)).start()
        try:
            plane.kubectl("create", "namespace", TOKEN)
            objects = capture(plane, TOKEN)
            definition = plane.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                                              "databases.fleet.example.com")
        finally:
            plane.stop()
    target = HERE / capture_file(assets.name)
    target.write_text(json.dumps({"crd": definition, "objects": objects}, indent=1) + "\n")
    print(f"wrote {target}: {len(objects)} objects")


def capture_file(version: str) -> str:
    """Where the capture of the control plane in folder ``version`` is kept: ``live.json`` (what the
    benchmark serves) for Kubernetes 1.24, ``live-k8s-1.36.json`` and so on for the others."""
    return "live.json" if version in ("k8s-1.24", "") else f"live-{version}.json"


if __name__ == "__main__":
    main()
