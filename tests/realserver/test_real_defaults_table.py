"""Every entry of the hand-kept defaults table (what Go code defaults and no schema states) proven on
the real server: each kind is created with every parent field the table's paths need, and every
value the table would fill in must be what the server stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from control_plane import ControlPlane

from exporter.diff import defaults
from exporter.diff.schema import with_defaults

PROBE = {"httpGet": {"path": "/", "port": 8080}}
CONTAINER = {"name": "app", "image": "nginx:1.25", "ports": [{"containerPort": 8080}],
             "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
             "livenessProbe": PROBE, "readinessProbe": PROBE, "startupProbe": PROBE}
POD_SPEC = {
    "containers": [CONTAINER, {"name": "latest", "image": "busybox"}],
    "initContainers": [{"name": "init", "image": "busybox:1.36", "ports": [{"containerPort": 9090}],
                        "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}],
    "volumes": [
        {"name": "cm", "configMap": {"name": "cm"}},
        {"name": "secret", "secret": {"secretName": "s"}},
        {"name": "projected", "projected": {"sources": [{"configMap": {"name": "cm"}}]}},
        {"name": "downward", "downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}},
        {"name": "host", "hostPath": {"path": "/var/log"}},
    ],
}
LABELS = {"app": "table"}


def template() -> dict[str, Any]:
    return {"metadata": {"labels": LABELS}, "spec": json.loads(json.dumps(POD_SPEC))}


def job_template() -> dict[str, Any]:
    spec = template()
    spec["spec"]["restartPolicy"] = "OnFailure"  # the default, Always, is one a Job refuses
    return spec


OBJECTS: dict[str, dict[str, Any]] = {
    "Pod": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "table"}, "spec": POD_SPEC},
    "Deployment": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "table"},
                   "spec": {"selector": {"matchLabels": LABELS}, "template": template(),
                            "strategy": {"rollingUpdate": {}}}},
    "ReplicaSet": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "table"},
                   "spec": {"selector": {"matchLabels": LABELS}, "template": template()}},
    "StatefulSet": {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "table"},
                    "spec": {"serviceName": "table", "selector": {"matchLabels": LABELS}, "template": template(),
                             "updateStrategy": {"rollingUpdate": {}},
                             "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                                 "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}},
    "DaemonSet": {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "table"},
                  "spec": {"selector": {"matchLabels": LABELS}, "template": template(),
                           "updateStrategy": {"rollingUpdate": {}}}},
    "Job": {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "table"}, "spec": {"template": job_template()}},
    "CronJob": {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "table"},
                "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": job_template()}}}},
    "Service": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "table"},
                "spec": {"selector": LABELS, "ports": [{"port": 80}]}},
    "Service/NodePort": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "table-np"},
                         "spec": {"type": "NodePort", "selector": LABELS, "ports": [{"port": 80}]}},
    "Service/LoadBalancer": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "table-lb"},
                             "spec": {"type": "LoadBalancer", "selector": LABELS, "ports": [{"port": 80}]}},
    "PersistentVolumeClaim": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "table"},
                              "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}},
    "PersistentVolume": {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "$NS-table"},
                         "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                                  "hostPath": {"path": "/tmp/table"}}},
    "Secret": {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "table"}, "stringData": {"a": "b"}},
}


def filled(manifest: Any, defaulted: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """The leaves ``defaulted`` has and ``manifest`` lacks: what the table fills in, and where."""
    out: list[tuple[tuple[Any, ...], Any]] = []
    if isinstance(defaulted, dict):
        for key, value in defaulted.items():
            if not isinstance(manifest, dict) or key not in manifest:
                out.append(((*path, key), value))
            else:
                out += filled(manifest[key], value, (*path, key))
    elif isinstance(defaulted, list) and isinstance(manifest, list):
        for index, (m, d) in enumerate(zip(manifest, defaulted, strict=False)):
            out += filled(m, d, (*path, index))
    return out


def at(obj: Any, path: tuple[Any, ...]) -> Any:
    for token in path:
        obj = obj[token]
    return obj


def pattern(path: tuple[Any, ...]) -> str:
    return ".".join("[]" if isinstance(t, int) else str(t) for t in path).replace(".[]", "[]")


def table_entries() -> set[tuple[str, str]]:
    entries = {(kind, path) for kind, paths in defaults.KIND_DEFAULTS.items() for path in paths}
    for kind, location in defaults.POD_SPEC_LOCATIONS.items():
        if kind == "ReplicationController":
            continue  # a kind users no longer write; the Pod template paths are the same as below
        # A Job's Pods must name a restartPolicy (the server refuses the default, Always), so that
        # entry can only ever apply to the other kinds.
        entries |= {(kind, f"{location}.{p}") for p in defaults.POD_SPEC_DEFAULTS
                    if not (kind in ("Job", "CronJob") and p == "restartPolicy")}
        entries |= {(kind, f"{location}.{c}[].{p}") for c in ("containers", "initContainers")
                    for p in defaults.CONTAINER_DEFAULTS if not (c == "initContainers" and "Probe" in p)}
    return entries


@pytest.fixture(scope="module")
def stored(control_plane: ControlPlane) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Each manifest and what the real server stored for it."""
    namespace = "defaults-table"
    control_plane.kubectl("create", "namespace", namespace, check=False)
    control_plane.kubectl("create", "serviceaccount", "default", "-n", namespace, check=False)
    out = {}
    for name, manifest in OBJECTS.items():
        manifest = json.loads(json.dumps(manifest).replace("$NS", namespace))
        control_plane.kubectl("create", "--validate=false", "-n", namespace, "-f", "-", input=yaml.safe_dump(manifest))
        kind = manifest["kind"].lower()
        args = [kind, manifest["metadata"]["name"]]
        if kind not in ("persistentvolume", "customresourcedefinition"):
            args += ["-n", namespace]
        out[name] = (manifest, control_plane.get(*args))
    return out


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_every_default_the_table_fills_in_is_what_the_server_stores(stored, name: str) -> None:
    manifest, live = stored[name]
    expected = filled(manifest, with_defaults(manifest))
    assert expected, "the table fills in nothing here"
    wrong = {pattern(path): (value, at(live, path) if _has(live, path) else "(absent)")
             for path, value in expected if not _has(live, path) or at(live, path) != value}
    assert wrong == {}


def test_every_table_entry_is_exercised(stored) -> None:
    seen = {(manifest["kind"], pattern(path)) for manifest, _ in stored.values()
            for path, _ in filled(manifest, with_defaults(manifest))}
    assert table_entries() - seen == set()


def _has(obj: Any, path: tuple[Any, ...]) -> bool:
    try:
        at(obj, path)
    except (KeyError, IndexError, TypeError):
        return False
    return True
