"""What the cluster probe costs: requests per minute to one API server, by ``staleAfter``.

Starts a simulated cluster and a live cache watching the kinds the agent watches on every
cluster (the 14 kinds it looks for extraneous objects in) plus two app kinds, then runs the probe's
rounds for one minute of a fake clock and counts the requests the client sent
(``gitops_kube_requests_total``), readiness reads and permission lists apart. Prints one line per
``staleAfter``.

    python bench/probe_cost.py [staleAfter seconds ...]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile

from exporter.clock import FakeClock
from exporter.config_types import ClusterConfig
from exporter.instruments import REGISTRY
from exporter.kube.cache import LiveCache
from exporter.kube.client import KubeClient
from exporter.kube.probing import ClusterProbe, plan
from exporter.pipeline.clusters import EXTRANEOUS_KINDS
from exporter.simulator import SimulatedCluster

APP_KINDS = (("policy/v1", "PodDisruptionBudget"), ("networking.k8s.io/v1", "NetworkPolicy"))


def requests(cluster: str) -> dict[str, float]:
    counts: dict[str, float] = {}
    for family in REGISTRY.collect():
        if family.name != "gitops_kube_requests":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total") and sample.labels["cluster"] == cluster:
                counts[sample.labels["verb"]] = counts.get(sample.labels["verb"], 0.0) + sample.value
    return counts


async def measure(stale_after: float) -> None:
    name = f"bench-{stale_after:g}"
    async with SimulatedCluster() as sim:
        with tempfile.TemporaryDirectory() as tmp:
            path = sim.write_kubeconfig(f"{tmp}/kubeconfig")
            client = await KubeClient.connect(ClusterConfig(name=name, kubeconfig=path, context="sim"))
            clock = FakeClock()
            cache = LiveCache(client, clock=clock, stale_after=stale_after)
            try:
                for api_version, kind in (*EXTRANEOUS_KINDS, *APP_KINDS):
                    res = await client.resolve(api_version, kind)
                    if res is not None:
                        await cache.ensure(res)
                probe = ClusterProbe(client, cache, clock, stale_after)
                before = requests(name)
                period = plan(stale_after, len(cache.informers)).period
                rounds = round(60.0 / period)
                for _ in range(rounds):
                    await probe.round()
                    clock.advance(period)
                after = requests(name)
                got = {verb: after.get(verb, 0.0) - before.get(verb, 0.0) for verb in after}
                scopes = len(cache.informers)
                cycle = period * -(-scopes // max(1, plan(stale_after, scopes).lists))
                print(f"staleAfter {stale_after:>5g}s: period {period:5.2f}s, {scopes} scopes, "
                      f"{got.get('get', 0):.0f} readiness reads + {got.get('list', 0):.0f} lists "
                      f"= {got.get('get', 0) + got.get('list', 0):.0f} requests/min; every scope listed again within {cycle:.0f}s")
            finally:
                await cache.close()
                await client.close()


async def main(bounds: list[float]) -> None:
    for stale_after in bounds:
        await measure(stale_after)


if __name__ == "__main__":
    asyncio.run(main([float(a) for a in sys.argv[1:]] or [10.0, 30.0, 60.0, 300.0]))
