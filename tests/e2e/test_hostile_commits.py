"""A commit alone must not break the agent: the app it breaks is Unknown with the reason, the
others keep being evaluated, and a render that keeps failing is not retried on every pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import cm, live

from exporter.agent import Agent
from exporter.clock import FakeClock
from exporter.metrics import REGISTRY
from exporter.model import AppState
from exporter.pipeline.desired import RENDER_BACKOFF
from exporter.wiring import build_agent, load_config

BOMB = (Path(__file__).parent.parent / "render" / "data" / "alias-bomb.yaml").read_text()


@pytest.fixture
async def agent_for(sim, repo, write_config):
    agents: list[Agent] = []

    async def start(apps: dict, clock: FakeClock | None = None) -> Agent:
        agent = build_agent(load_config(write_config(apps, repo.url, interval="1h", gitPollInterval="1h")), clock=clock)
        await agent.start(watch=False)
        agents.append(agent)
        return agent

    yield start
    for agent in agents:
        await agent.close()


async def test_an_alias_bomb_with_a_live_twin_makes_only_its_app_unknown(sim, repo, agent_for):
    repo.commit({"bomb/cm.yaml": BOMB, "good/cm.yaml": cm("fine")})
    sim.apply(live("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '1'}\n"))
    sim.apply(live(cm("fine")))
    agent = await agent_for({"bomb": "bomb", "good": "good"})
    bomb = agent.snapshot()["bomb"][1]
    assert bomb.state is AppState.UNKNOWN
    assert bomb.reason == "bomb/cm.yaml:7: document 1: aliases expand to more than 2,000,000 values"
    assert agent.snapshot()["good"][1].state is AppState.HEALTHY


def _renders(result: str) -> float:
    return REGISTRY.get_sample_value("gitops_render_duration_seconds_count",
                                     {"type": "directory", "result": result}) or 0.0


async def test_a_failing_render_backs_off_and_a_new_commit_is_rendered_at_once(sim, repo, agent_for):
    repo.commit({"a/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: [unclosed\n"})
    clock = FakeClock()
    agent = await agent_for({"a": "a"}, clock)
    assert agent.snapshot()["a"][1].state is AppState.UNKNOWN
    failed = _renders("error")
    await agent.evaluate("a")
    await agent.evaluate("a")
    assert _renders("error") == failed  # the same commit is not rendered again right away
    assert "a/cm.yaml" in agent.snapshot()["a"][1].reason
    clock.advance(RENDER_BACKOFF + 1)
    await agent.evaluate("a")
    assert _renders("error") == failed + 1  # after the backoff it is tried again
    await agent.evaluate("a")
    assert _renders("error") == failed + 1  # and the next wait is longer
    repo.commit({"a/cm.yaml": cm("x")}, "fix")
    sim.apply(live(cm("x")))
    await agent.on_git_push([repo.url], "main")
    await agent.evaluate("a")
    assert agent.snapshot()["a"][1].state is AppState.HEALTHY
