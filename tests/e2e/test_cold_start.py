"""The cold start: apps are evaluated cluster by cluster as each is listed, and it leaves the
garbage collector nothing to find."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any

import yaml
from e2e_support import cm, eventually, live
from fault_proxy import FaultProxy, rewrite_kubeconfig

from exporter.model import AppState
from exporter.simulator import SimulatedCluster
from exporter.wiring import build_agent, load_config


def two_cluster_config(tmp_path: Path, repo_url: str, kubeconfigs: dict[str, str]) -> str:
    doc: dict[str, Any] = {
        "clusters": [{"name": name, "kubeconfig": path, "context": "sim"} for name, path in kubeconfigs.items()],
        "cacheDir": str(tmp_path / "cache"), "interval": "1h", "gitPollInterval": "1h",
        "apps": [{"name": f"app-{name}", "source": {"repoURL": repo_url, "targetRevision": "main", "path": "a"},
                  "destination": {"cluster": name, "namespace": "prod"}} for name in kubeconfigs],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


async def test_a_listed_cluster_s_apps_are_evaluated_while_another_cluster_is_still_listing(
        sim: SimulatedCluster, repo: Any, tmp_path: Path) -> None:
    repo.commit({"a/cm.yaml": cm("settings")})
    sim.apply(live(cm("settings")))
    async with SimulatedCluster() as slow_sim:
        slow_sim.apply(live(cm("settings")))
        proxy = await FaultProxy(slow_sim.url).start()
        try:
            slow = rewrite_kubeconfig(slow_sim.write_kubeconfig(str(tmp_path / "slow-kubeconfig")), proxy.url)
            fast = sim.write_kubeconfig(str(tmp_path / "fast-kubeconfig"))
            agent = build_agent(load_config(two_cluster_config(tmp_path, repo.url, {"fast": fast, "slow": slow})))
            proxy.hold()
            starting = asyncio.ensure_future(agent.start())
            await eventually(lambda: "app-fast" in agent.snapshot())
            assert agent.snapshot()["app-fast"][1].state is AppState.HEALTHY
            assert "app-slow" not in agent.snapshot() and not starting.done()
            proxy.release()
            await asyncio.wait_for(starting, 10)
            assert agent.snapshot()["app-slow"][1].state is AppState.HEALTHY
            await agent.close()
        finally:
            proxy.release()
            await proxy.close()


async def test_a_cold_start_leaves_next_to_no_cyclic_garbage(sim: SimulatedCluster, repo: Any,
                                                             write_config: Any) -> None:
    # Each comparison once made a reference cycle: thousands per cold start of a real fleet,
    # which the collector has to find while the start keeps it paused.
    repo.commit({f"app-{i}/cm-{j}.yaml": cm(f"cm-{i}-{j}") for i in range(20) for j in range(10)})
    for i in range(20):
        for j in range(10):
            sim.apply(live(cm(f"cm-{i}-{j}")))
    agent = build_agent(load_config(write_config({f"app-{i}": f"app-{i}" for i in range(20)}, repo.url,
                                           interval="1h", gitPollInterval="1h")))
    found: list[int] = []

    def collected(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            found.append(info["collected"])

    gc.collect()
    gc.callbacks.append(collected)
    try:
        await agent.start()
    finally:
        gc.callbacks.remove(collected)
        await agent.close()
    assert all(state.state is AppState.HEALTHY for _, state in agent.snapshot().values())
    assert found, "the start collects once at its end"
    assert found[-1] < 200, f"{found[-1]} objects in reference cycles after 200 comparisons"
