"""The running agent: live changes arrive through watches, commits through webhooks, apps split by shard."""

from __future__ import annotations

import asyncio

import pytest
from e2e_support import cm, eventually, live

from exporter.agent import Agent
from exporter.model import AppState, ObjectKey
from exporter.sharding import shard_of
from exporter.wiring import apply_config, build_agent, load_config


@pytest.fixture
async def running(sim, repo, write_config):
    agents: list[Agent] = []

    async def start(apps: dict, **extra) -> Agent:
        agent = build_agent(load_config(write_config(apps, repo.url, **extra)))
        await agent.start()
        agents.append(agent)
        return agent

    yield start
    for agent in agents:
        await agent.close()


def state(agent: Agent, app: str) -> AppState:
    return agent.snapshot()[app][1].state


async def test_a_live_edit_turns_the_app_out_of_sync_without_polling(sim, repo, running):
    repo.commit({"a/cm.yaml": cm("settings")})
    sim.apply(live(cm("settings")))
    agent = await running({"a": "a"}, interval="1h", gitPollInterval="1h")
    assert state(agent, "a") is AppState.HEALTHY
    sim.patch(ObjectKey("", "ConfigMap", "prod", "settings"), {"data": {"a": "2"}}, manager="kubectl-edit")
    await eventually(lambda: state(agent, "a") is AppState.OUT_OF_SYNC)
    sim.patch(ObjectKey("", "ConfigMap", "prod", "settings"), {"data": {"a": "1"}}, manager="kubectl-edit")
    await eventually(lambda: state(agent, "a") is AppState.HEALTHY)


async def test_a_deleted_object_makes_the_app_missing(sim, repo, running):
    repo.commit({"a/cm.yaml": cm("settings")})
    sim.apply(live(cm("settings")))
    agent = await running({"a": "a"}, interval="1h")
    sim.delete("", "ConfigMap", "prod", "settings")
    await eventually(lambda: state(agent, "a") is AppState.MISSING)


async def test_an_event_re_evaluates_only_the_app_that_owns_the_object(sim, repo, running):
    repo.commit({"a/cm.yaml": cm("one"), "b/cm.yaml": cm("two")})
    sim.apply(live(cm("one")))
    sim.apply(live(cm("two")))
    agent = await running({"a": "a", "b": "b"}, interval="1h", gitPollInterval="1h")
    before_b = agent.snapshot()["b"][1].evaluated_at
    sim.patch(ObjectKey("", "ConfigMap", "prod", "one"), {"data": {"a": "9"}}, manager="kubectl-edit")
    await eventually(lambda: state(agent, "a") is AppState.OUT_OF_SYNC)
    await asyncio.sleep(0.2)
    assert agent.snapshot()["b"][1].evaluated_at == before_b


async def test_an_object_removed_from_git_but_still_live_requires_pruning(sim, repo, running):
    repo.commit({"a/cm.yaml": cm("kept"), "a/old.yaml": cm("old")})
    sim.apply(live(cm("kept"), app="a"))
    sim.apply(live(cm("old"), app="a"))
    agent = await running({"a": "a"}, interval="1h")
    assert state(agent, "a") is AppState.HEALTHY
    repo.commit({"a/old.yaml": None}, "remove old")
    assert await agent.on_git_push([repo.url], "main") == 1
    await eventually(lambda: state(agent, "a") is AppState.OUT_OF_SYNC)
    status = agent.snapshot()["a"][1]
    assert [o.key.name for o in status.objects if o.requires_pruning] == ["old"]
    assert "requires pruning" in status.reason


async def test_a_push_webhook_brings_the_new_revision(sim, repo, running):
    first = repo.commit({"a/cm.yaml": cm("settings")})
    sim.apply(live(cm("settings")))
    agent = await running({"a": "a"}, interval="1h", gitPollInterval="1h")
    assert agent.snapshot()["a"][1].revision == first
    second = repo.commit({"a/cm.yaml": cm("settings").replace('"1"', '"2"')}, "bump")
    await agent.on_git_push([repo.url.replace("file://", "file://") + ".git"], "main")
    await eventually(lambda: agent.snapshot()["a"][1].revision == second)
    assert state(agent, "a") is AppState.OUT_OF_SYNC


async def test_two_shards_split_the_apps_without_overlap(sim, repo, write_config):
    apps = {f"app{i}": "a" for i in range(12)}
    repo.commit({"a/cm.yaml": cm("shared")})
    sim.apply(live(cm("shared")))
    config = load_config(write_config(apps, repo.url))
    shards = [build_agent(config, shard=(i, 2)) for i in range(2)]
    try:
        for agent in shards:
            await agent.start(watch=False)
        owned = [set(agent.snapshot()) for agent in shards]
    finally:
        for agent in shards:
            await agent.close()
    assert owned[0].isdisjoint(owned[1])
    assert owned[0] | owned[1] == set(apps)
    assert owned[0] == {a for a in apps if shard_of(a, 2) == 0}


async def test_reload_keeps_the_state_of_unchanged_apps(sim, repo, running, write_config):
    repo.commit({"a/cm.yaml": cm("one"), "b/cm.yaml": cm("two")})
    sim.apply(live(cm("one")))
    agent = await running({"a": "a"}, interval="1h")
    since = agent.snapshot()["a"][1].since
    await apply_config(agent, load_config(write_config({"a": "a", "b": "b"}, repo.url, interval="1h")))
    await eventually(lambda: "b" in agent.snapshot())
    assert state(agent, "b") is AppState.MISSING
    assert agent.snapshot()["a"][1].since == since


async def test_namespaced_rbac_falls_back_to_watching_the_apps_namespaces(sim, repo, running):
    repo.commit({"a/cm.yaml": cm("settings")})
    sim.apply(live(cm("settings")))
    sim.forbid("configmaps", "*", cluster_wide_only=True)
    agent = await running({"a": "a"}, interval="1h")
    assert state(agent, "a") is AppState.HEALTHY
    sim.patch(ObjectKey("", "ConfigMap", "prod", "settings"), {"data": {"a": "2"}}, manager="kubectl-edit")
    await eventually(lambda: state(agent, "a") is AppState.OUT_OF_SYNC)


async def test_apps_of_a_generator_whose_repository_went_away_stay_as_unknown(sim, repo, write_config, tmp_path):
    repo.commit({"apps/one/cm.yaml": cm("one"), "apps/two/cm.yaml": cm("two")})
    sim.apply(live(cm("one")))
    sim.apply(live(cm("two")))
    generator = {"git": {"repoURL": repo.url, "revision": "main", "directories": [{"path": "apps/*"}]},
                 "template": {"name": "{{path.basename}}",
                              "destination": {"cluster": "sim", "namespace": "prod"}}}
    config_path = write_config({}, repo.url, appGenerators=[generator], interval="1h")
    agent = build_agent(load_config(config_path), cache_dir=str(tmp_path / "agent-cache"))
    try:
        await agent.start()
        assert {n: s.state for n, (_, s) in agent.snapshot().items()} == {
            "one": AppState.HEALTHY, "two": AppState.HEALTHY}
        repo.path.rename(tmp_path / "gone")
        await apply_config(agent, load_config(write_config({}, repo.url, appGenerators=[generator], interval="2h")))
        await agent.on_git_push([repo.url], "main")
        await eventually(lambda: all(s.state is AppState.UNKNOWN for _, s in agent.snapshot().values()))
        assert set(agent.snapshot()) == {"one", "two"}
    finally:
        await agent.close()


async def test_run_is_not_ready_while_a_generator_has_never_listed_its_apps(sim, write_config, tmp_path):
    from e2e_support import GitRepo
    services = tmp_path / "services"
    generator = {"git": {"repoURL": str(services), "revision": "main", "directories": [{"path": "apps/*"}]},
                 "template": {"name": "{{path.basename}}", "destination": {"cluster": "sim", "namespace": "prod"}}}
    config_path = write_config({}, str(services), appGenerators=[generator], interval="1h", gitPollInterval="1h")
    agent = build_agent(load_config(config_path), cache_dir=str(tmp_path / "agent-cache"))
    try:
        await agent.start()
        assert not agent.ready()
        reason = agent.not_ready_reason()
        assert reason is not None and reason.startswith(f"app generator {config_path}:") and str(services) in reason
        GitRepo(services).commit({"apps/one/cm.yaml": cm("one")})
        sim.apply(live(cm("one")))
        await agent.poll_sources()
        await eventually(lambda: "one" in agent.snapshot())
        assert agent.ready() and agent.not_ready_reason() is None
        await eventually(lambda: state(agent, "one") is AppState.HEALTHY)
    finally:
        await agent.close()


async def test_a_missing_default_kubeconfig_is_the_app_s_reason_and_the_readiness_reason(
        repo, tmp_path, monkeypatch):
    from exporter.wiring import parse_config
    missing = tmp_path / "nowhere" / "config"
    monkeypatch.setenv("KUBECONFIG", str(missing))
    repo.commit({"a/cm.yaml": cm("one")})
    config = parse_config(f"""
clusters: [{{name: prod}}]
cacheDir: {tmp_path / 'cache'}
apps: [{{name: a, source: {{repoURL: "{repo.url}", path: a}}, destination: {{cluster: prod}}}}]
""", str(tmp_path / "config.yaml"))
    agent = build_agent(config)
    try:
        await agent.start(watch=False)
        status = agent.snapshot()["a"][1]
        assert status.state is AppState.UNKNOWN
        assert status.reason == f"cluster prod: kubeconfig {missing} does not exist"
        assert agent.not_ready_reason() == f"cluster prod: kubeconfig {missing} does not exist"
    finally:
        await agent.close()


async def test_a_reload_keeps_an_unchanged_cluster_and_swaps_in_a_changed_one(sim, repo, running, write_config,
                                                                                 tmp_path):
    repo.commit({"a/cm.yaml": cm("one")})
    sim.apply(live(cm("one")))
    agent = await running({"a": "a"}, interval="1h")
    first = agent.parts.clusters["sim"]
    await apply_config(agent, load_config(write_config({"a": "a"}, repo.url, interval="2h")))
    assert agent.parts.clusters["sim"] is first  # same cluster settings: its caches are kept
    moved = tmp_path / "kubeconfig-moved"
    moved.write_text((tmp_path / "kubeconfig").read_text())
    await apply_config(agent, load_config(write_config(
        {"a": "a"}, repo.url, interval="2h", clusters=[{"name": "sim", "kubeconfig": str(moved), "context": "sim"}])))
    second = agent.parts.clusters["sim"]
    assert second is not first and second.error is None
    assert first.cache is not None and not first.cache.informers  # the old one stopped watching
    assert agent.parts.lister.clusters is agent.parts.clusters  # Argo CD sources read the new one too
    sim.patch(ObjectKey("", "ConfigMap", "prod", "one"), {"data": {"a": "2"}}, manager="kubectl-edit")
    await eventually(lambda: state(agent, "a") is AppState.OUT_OF_SYNC)  # events come from the new cluster
