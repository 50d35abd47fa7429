"""How long a change in the cluster takes to reach the agent's change handler.

Starts a simulated cluster, a client and a live cache watching ConfigMaps, then makes 200 changes
one at a time and measures from the change to the ``on_event`` call for it (HTTP watch stream,
JSON decoding, cache update). Prints p50, p99 and max in milliseconds.

    python bench/kube_watch_latency.py [changes]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from typing import Any

from exporter.config_types import ClusterConfig
from exporter.kube.cache import LiveCache
from exporter.kube.client import KubeClient, ResourceInfo
from exporter.model import ObjectKey
from exporter.simulator import SimulatedCluster

CONFIGMAPS = ResourceInfo("", "v1", "ConfigMap", "configmaps", True)


async def main(changes: int) -> None:
    async with SimulatedCluster() as sim:
        key = ObjectKey("", "ConfigMap", "bench", "target")
        sim.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "target", "namespace": "bench"},
                   "data": {"n": "0"}})
        for i in range(500):  # neighbours the cache holds but the measured change does not touch
            sim.apply({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": f"other-{i}", "namespace": "bench"}, "data": {"n": str(i)}})
        arrived: asyncio.Queue[float] = asyncio.Queue()

        def on_event(k: ObjectKey, obj: dict[str, Any] | None) -> None:
            if k == key:
                arrived.put_nowait(time.perf_counter())

        with tempfile.TemporaryDirectory() as tmp:
            path = sim.write_kubeconfig(f"{tmp}/kubeconfig")
            client = await KubeClient.connect(ClusterConfig("bench", kubeconfig=path))
            cache = LiveCache(client, on_event)
            try:
                await cache.ensure(CONFIGMAPS)
                sim.patch(key, {"data": {"n": "warm-up"}})  # returns once the watch is open
                await asyncio.wait_for(arrived.get(), 5)
                latencies = []
                for n in range(1, changes + 1):
                    started = time.perf_counter()
                    sim.patch(key, {"data": {"n": str(n)}})
                    latencies.append((await asyncio.wait_for(arrived.get(), 5) - started) * 1000)
                    await asyncio.sleep(0.005)
            finally:
                await cache.close()
                await client.close()
        assert sim.write_attempts == 0
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"watch latency over {changes} changes: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {latencies[-1]:.2f} ms")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
