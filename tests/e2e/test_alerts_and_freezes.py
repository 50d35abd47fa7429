"""Alerts and freeze reports through the running agent: the clock, the channels and the windows wired together."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from aiohttp import web
from e2e_support import cm, eventually, live

from exporter.agent import Agent
from exporter.clock import FakeClock
from exporter.model import AppState, ObjectKey
from exporter.notify import Notifier
from exporter.windows import FreezeLog
from exporter.wiring import build_agent, load_config


@pytest.fixture
async def slack() -> AsyncIterator[tuple[str, list[dict]]]:
    """A local stand-in for a Slack incoming webhook, reached through slack-sdk."""
    received: list[dict] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(json.loads(await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/services/T0/B0/secret", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/services/T0/B0/secret", received
    await runner.cleanup()


@pytest.fixture
async def agent_with(sim, repo, write_config) -> AsyncIterator[Callable[..., object]]:
    agents: list[Agent] = []

    async def start(apps: dict, clock: FakeClock, **extra) -> Agent:
        config = load_config(write_config(apps, repo.url, interval="1h", gitPollInterval="1h", **extra))
        notifier = Notifier(config.notifications, clock, sleep=clock.skip) if config.notifications.channels else None
        agent = build_agent(config, clock=clock, notifier=notifier)
        await agent.start()
        agents.append(agent)
        return agent

    yield start
    for agent in agents:
        await agent.close()


def text_of(message: dict) -> str:
    return json.dumps(message)


async def test_an_app_bad_past_its_threshold_fires_once_and_resolves(sim, repo, agent_with, slack, monkeypatch):
    url, received = slack
    monkeypatch.setenv("TEST_SLACK_WEBHOOK", url)
    repo.commit({"a/cm.yaml": cm("settings")})
    sim.apply(live(cm("settings")))
    clock = FakeClock()
    agent = await agent_with({"a": "a"}, clock, notifications={
        "channels": [{"name": "ops", "type": "slack", "webhookUrlEnv": "TEST_SLACK_WEBHOOK"}],
        "routes": [{"channels": ["ops"]}]})
    assert agent.parts.notifier is not None
    sim.patch(ObjectKey("", "ConfigMap", "prod", "settings"), {"data": {"a": "2"}}, manager="kubectl-edit")
    await eventually(lambda: agent.snapshot()["a"][1].state is AppState.OUT_OF_SYNC)
    clock.advance(5 * 60)
    await agent.parts.notifier.tick()
    await agent.parts.notifier.flush()
    assert received == []  # still under the 10 minute threshold
    clock.advance(6 * 60)
    await agent.parts.notifier.tick()
    await agent.parts.notifier.flush()
    assert len(received) == 1 and "OutOfSync" in text_of(received[0]) and "/data/a" in text_of(received[0])
    sim.patch(ObjectKey("", "ConfigMap", "prod", "settings"), {"data": {"a": "1"}}, manager="kubectl-edit")
    await eventually(lambda: agent.snapshot()["a"][1].state is AppState.HEALTHY)
    await agent.parts.notifier.flush()
    assert len(received) == 2 and "recovered: Healthy" in text_of(received[1])


DENY_ALL_DAY = {"name": "freeze", "kind": "deny", "schedule": "0 0 * * *", "duration": "24h",
                "applications": ["*"]}


async def test_a_live_edit_during_a_freeze_is_a_violation_with_its_manager(sim, repo, agent_with, tmp_path):
    repo.commit({"a/cm.yaml": cm("settings")})
    sim.apply(live(cm("settings")))
    clock = FakeClock(datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp())
    agent = await agent_with({"a": "a"}, clock, windows=[DENY_ALL_DAY])
    assert agent.snapshot()["a"][1].frozen
    sim.patch(ObjectKey("", "ConfigMap", "prod", "settings"), {"data": {"a": "2"}}, manager="kubectl-edit")
    await eventually(lambda: len(agent.freezes()) == 1)
    violation = agent.freezes()[0]
    assert violation["app"] == "a" and violation["type"] == "live" and violation["manager"] == "kubectl-edit"


async def test_a_merge_during_a_freeze_is_a_violation_and_reported(sim, repo, agent_with, tmp_path):
    first = repo.commit({"a/cm.yaml": cm("settings")})
    sim.apply(live(cm("settings")))
    clock = FakeClock(datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp())
    log_path = tmp_path / "freeze.jsonl"
    agent = await agent_with({"a": "a"}, clock, windows=[DENY_ALL_DAY], freezeLog=str(log_path))
    second = repo.commit({"a/cm.yaml": cm("settings").replace('"1"', '"2"')}, "hotfix")
    await agent.on_git_push([repo.url], "main")
    await eventually(lambda: any(v["type"] == "git" for v in agent.freezes()))
    violation = next(v for v in agent.freezes() if v["type"] == "git")
    assert violation["revision_from"] == first and violation["revision_to"] == second
    await agent.freeze_log.flush()  # the file is written off the event loop
    report = FreezeLog(str(log_path), clock).report(clock.now() - 3600, "markdown")
    assert "| a |" in report.replace("|a|", "| a |") and "git" in report


async def test_outside_every_window_nothing_is_frozen(sim, repo, agent_with):
    repo.commit({"a/cm.yaml": cm("settings")})
    sim.apply(live(cm("settings")))
    clock = FakeClock(datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp())
    night = {**DENY_ALL_DAY, "schedule": "0 1 * * *", "duration": "1h"}
    agent = await agent_with({"a": "a"}, clock, windows=[night])
    assert not agent.snapshot()["a"][1].frozen
    sim.patch(ObjectKey("", "ConfigMap", "prod", "settings"), {"data": {"a": "2"}}, manager="kubectl-edit")
    await eventually(lambda: agent.snapshot()["a"][1].state is AppState.OUT_OF_SYNC)
    await asyncio.sleep(0.05)
    assert agent.freezes() == []
