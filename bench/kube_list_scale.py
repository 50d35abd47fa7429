"""What the first list of a large resource type costs: time and memory held by the cache.

Fills a simulated cluster with N Deployments shaped like real ones (managed fields, templates,
probes), lets a live cache list them in pages of 500 over HTTP, and prints the wall time of the
list (untraced) and, in a second run under tracemalloc, the memory still held once the list is
done, which is the cached objects plus the server's reusable buffers.

    python bench/kube_list_scale.py [objects]
"""

from __future__ import annotations

import asyncio
import gc
import sys
import tempfile
import time
import tracemalloc
from typing import Any

from exporter.config_types import ClusterConfig
from exporter.kube.cache import LiveCache
from exporter.kube.client import KubeClient, ResourceInfo
from exporter.simulator import SimulatedCluster

DEPLOYMENTS = ResourceInfo("apps", "v1", "Deployment", "deployments", True)


def deployment(i: int) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": f"svc-{i}", "app.kubernetes.io/instance": f"app-{i % 50}"}
    container = {
        "name": "main", "image": f"registry.example.com/svc-{i}:1.{i % 7}.0", "args": ["--port", "8080"],
        "ports": [{"containerPort": 8080, "name": "http"}],
        "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "REPLICA", "value": str(i)}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 10},
    }
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": f"svc-{i}", "namespace": f"team-{i % 20}", "labels": labels},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app.kubernetes.io/name": f"svc-{i}"}},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}}}


async def main(count: int) -> None:
    async with SimulatedCluster() as sim:
        for i in range(count):
            sim.apply(deployment(i))
        with tempfile.TemporaryDirectory() as tmp:
            client = await KubeClient.connect(ClusterConfig("bench", kubeconfig=sim.write_kubeconfig(f"{tmp}/kc")))
            try:
                timed = LiveCache(client)
                started = time.perf_counter()
                await timed.ensure(DEPLOYMENTS)
                elapsed = time.perf_counter() - started
                assert sum(1 for _ in timed.objects("apps", "Deployment")) == count
                await timed.close()
                del timed
                gc.collect()
                tracemalloc.start()
                measured = LiveCache(client)
                await measured.ensure(DEPLOYMENTS)
                gc.collect()
                held, _peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                await measured.close()
            finally:
                await client.close()
    print(f"first list of {count} Deployments (pages of 500, server and client in one process): "
          f"{elapsed:.2f} s, {count / elapsed:.0f} objects/s; "
          f"memory held after the list: {held / 2**20:.1f} MiB ({held / count / 1024:.1f} KiB per object)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
