"""Blind, but never Healthy: when the agent cannot see a cluster for longer than ``staleAfter``,
the apps that read from it turn Unknown at once (no full pass needed), ``/readyz`` says why, and
they recover within seconds of the cluster coming back."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from e2e_support import cm, eventually, live
from fault_proxy import FaultProxy, rewrite_kubeconfig

from exporter.agent import Agent
from exporter.metrics import REGISTRY
from exporter.model import AppState
from exporter.server import build_app, serve
from exporter.wiring import build_agent, load_config


@pytest.fixture
async def proxy(sim):
    p = await FaultProxy(sim.url).start()
    yield p
    await p.close()


@pytest.fixture
async def blind_agent(sim, repo, write_config, proxy, tmp_path):
    repo.commit({"a/cm.yaml": cm("settings")})
    sim.apply(live(cm("settings")))
    path = write_config({"a": "a"}, repo.url, interval="1h", gitPollInterval="1h", staleAfter="1s")
    rewrite_kubeconfig(str(tmp_path / "kubeconfig"), proxy.url)  # where write_config put it
    agent = build_agent(load_config(path))
    await agent.start()
    runner = await serve(build_app(agent, metrics_registry=REGISTRY), "127.0.0.1", 0)
    host, port = runner.addresses[0][:2]
    yield agent, f"http://{host}:{port}"
    await runner.cleanup()
    await agent.close()


def state(agent: Agent) -> AppState:
    return agent.snapshot()["a"][1].state


async def readyz(base: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(base + "/readyz") as response:
        return response.status, await response.text()


@pytest.mark.parametrize("fault", ["down", "500"])
async def test_a_cluster_the_agent_cannot_see_turns_its_apps_unknown_then_back(blind_agent, proxy, fault):
    agent, base = blind_agent
    assert state(agent) is AppState.HEALTHY
    assert await readyz(base) == (200, "ok\n")
    started = time.monotonic()
    if fault == "down":
        await proxy.go_down()
    else:
        proxy.mode, proxy.status = "status", 500
        proxy.cut()
    await eventually(lambda: state(agent) is AppState.UNKNOWN, timeout=10)
    assert time.monotonic() - started < 5  # the bound is 1s; no full pass (1h) was needed
    reason = agent.snapshot()["a"][1].reason
    assert reason.startswith("cluster sim: cannot follow configmaps for ")
    code, text = await readyz(base)
    assert code == 503 and text.startswith("not ready: cluster sim: cannot follow configmaps")
    if fault == "down":
        await proxy.come_back()
    else:
        proxy.mode = "pass"
    back = time.monotonic()
    await eventually(lambda: state(agent) is AppState.HEALTHY, timeout=15)
    assert time.monotonic() - back < 12
    while await readyz(base) != (200, "ok\n"):  # every watched type back, not only the app's
        assert time.monotonic() - back < 15, "never ready again"
        await asyncio.sleep(0.1)


async def test_a_blip_shorter_than_the_bound_does_not_flap(blind_agent, proxy):
    agent, _ = blind_agent
    proxy.cut()  # a dropped stream, reconnected at once
    seen = set()
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        seen.add(state(agent))
        await asyncio.sleep(0.05)
    assert seen == {AppState.HEALTHY}
