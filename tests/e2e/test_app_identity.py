"""An app is known by one name and by its own tracking settings: a generated app never replaces a
configured one, and an object is matched to an app with that app's label or annotation."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml
from e2e_support import cm, eventually, live

from exporter.agent import Agent
from exporter.model import AppState, ObjectKey
from exporter.wiring import build_agent, load_config


def with_compare(path: str, app: int, compare: dict) -> str:
    doc = yaml.safe_load(Path(path).read_text())
    doc["apps"][app]["compare"] = compare
    Path(path).write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture
async def started(sim, repo, write_config):
    agents: list[Agent] = []

    async def start(apps: dict, compare: dict | None = None, **extra) -> Agent:
        path = write_config(apps, repo.url, interval="1h", gitPollInterval="1h", **extra)
        if compare:
            for index, settings in compare.items():
                with_compare(path, index, settings)
        agent = build_agent(load_config(path))
        await agent.start(watch=False)
        agents.append(agent)
        return agent

    yield start
    for agent in agents:
        await agent.close()


async def test_a_generated_app_with_a_configured_apps_name_is_left_out_with_an_error(
        sim, repo, started, caplog) -> None:
    repo.commit({"services/web/cm.yaml": cm("generated"), "static/cm.yaml": cm("configured")})
    sim.apply(live(cm("configured")))
    generators = [{"git": {"repoURL": repo.url, "revision": "main", "directories": [{"path": "services/*"}]},
                   "template": {"name": "svc-{{path.basename}}",
                                "destination": {"cluster": "sim", "namespace": "prod"}}}]
    caplog.set_level(logging.ERROR)
    agent = await started({"svc-web": "static"}, appGenerators=generators)
    config, status = agent.snapshot()["svc-web"]
    assert config.source.path == "static" and status.state is AppState.HEALTHY
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("app name 'svc-web' is already used by" in e and "left out" in e for e in errors), errors


async def test_each_app_tracks_objects_with_its_own_label(sim, repo, started) -> None:
    repo.commit({"a/cm.yaml": cm("a-kept"), "b/cm.yaml": cm("b-kept")})
    sim.apply(live(cm("a-kept")))
    sim.apply(live(cm("b-kept")))
    stray = live(cm("b-old"))
    stray["metadata"]["labels"] = {"team.example.com/app": "b"}
    sim.apply(stray)
    decoy = live(cm("a-old"), app="b")  # b's name under the default label, which b does not use
    sim.apply(decoy)
    # App a keeps the default tracking label; app b tracks with a label of its own.
    agent = await started({"a": "a", "b": "b"}, compare={1: {"trackingLabel": "team.example.com/app"}})
    pruned = {name: [o.key.name for o in status.objects if o.requires_pruning]
              for name, (_, status) in agent.snapshot().items()}
    assert pruned == {"a": [], "b": ["b-old"]}


async def test_an_object_two_apps_declare_is_each_apps_until_one_drops_it(sim, repo, write_config) -> None:
    repo.commit({"a/cm.yaml": cm("shared"), "b/cm.yaml": cm("shared")})
    sim.apply(live(cm("shared")))
    sim.apply(live(cm("own-b")))
    agent = build_agent(load_config(write_config({"a": "a", "b": "b"}, repo.url, interval="1h", gitPollInterval="1h")))
    await agent.start()
    try:
        shared = ObjectKey("", "ConfigMap", "prod", "shared")
        sim.patch(shared, {"data": {"a": "2"}})
        await eventually(lambda: all(agent.snapshot()[n][1].state is AppState.OUT_OF_SYNC for n in "ab"))

        repo.commit({"b/cm.yaml": cm("own-b")})
        await agent.poll_sources()
        await eventually(lambda: agent.snapshot()["b"][1].state is AppState.HEALTHY)
        b_evaluated = agent.snapshot()["b"][1]
        sim.patch(shared, {"data": {"a": "1"}})
        await eventually(lambda: agent.snapshot()["a"][1].state is AppState.HEALTHY)
        assert agent.snapshot()["b"][1] is b_evaluated  # no longer b's: its edit did not touch b
    finally:
        await agent.close()
