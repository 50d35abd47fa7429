"""Apps whose chart comes from a Helm repository, with values from a Git repository, on a running
agent: a new chart version re-renders only the apps whose range takes it, a values commit only the
apps that read that repository."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import yaml
from chart_servers import HelmRepo, OciRegistry
from e2e_support import GitRepo, eventually, live

from exporter.agent import Agent
from exporter.model import AppState
from exporter.status import app_diff
from exporter.wiring import build_agent, load_config


@pytest.fixture
def helm_repo(tmp_path: Path) -> Iterator[HelmRepo]:
    repo = HelmRepo(tmp_path / "helm-repo")
    yield repo
    repo.close()


def configmap(app: str, version: str, greeting: str) -> str:
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {app}-web}}\n"
            f"data: {{chartVersion: \"{version}\", greeting: {greeting}}}\n")


@pytest.fixture
async def agent(sim, tmp_path, helm_repo) -> AsyncIterator[tuple[Agent, GitRepo]]:
    values = GitRepo(tmp_path / "values")
    values.commit({"env/prod.yaml": "greeting: from-git\n"})
    helm_repo.publish("web", "1.0.0")
    for app, greeting in (("follower", "hello"), ("pinned", "hello"), ("multi", "from-git")):
        sim.apply(live(configmap(app, "1.0.0", greeting)))
    chart = {"repoURL": helm_repo.url, "chart": "web"}
    apps = [
        {"name": "follower", "source": {**chart, "targetRevision": "^1.0.0"}},
        {"name": "pinned", "source": {**chart, "targetRevision": "1.0.0"}},
        {"name": "multi", "sources": [
            {**chart, "targetRevision": "1.0.0", "helm": {"valueFiles": ["$values/env/prod.yaml"]}},
            {"repoURL": values.url, "targetRevision": "main", "ref": "values"}]},
    ]
    config = {
        "clusters": [{"name": "sim", "kubeconfig": sim.write_kubeconfig(str(tmp_path / "kubeconfig")),
                      "context": "sim"}],
        "cacheDir": str(tmp_path / "cache"), "interval": "1h", "gitPollInterval": "1h",
        "apps": [{**a, "destination": {"cluster": "sim", "namespace": "prod"}} for a in apps],
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    running = build_agent(load_config(str(tmp_path / "config.yaml")))
    await running.start()
    yield running, values
    await running.close()


def status(agent: Agent, app: str):
    return agent.snapshot()[app][1]


async def test_chart_apps_render_from_the_repository_and_match_the_cluster(agent):
    running, _values = agent
    assert {name: status(running, name).state for name in ("follower", "pinned", "multi")} == \
        dict.fromkeys(("follower", "pinned", "multi"), AppState.HEALTHY)
    assert status(running, "pinned").revision.startswith("web 1.0.0 (sha256:")


async def test_a_new_chart_version_re_renders_only_the_apps_whose_range_takes_it(agent, helm_repo):
    running, _values = agent
    pinned, multi = status(running, "pinned"), status(running, "multi")
    helm_repo.publish("web", "1.1.0")
    await running.poll_sources()
    await eventually(lambda: status(running, "follower").revision.startswith("web 1.1.0 (sha256:"))
    await eventually(lambda: status(running, "follower").state is AppState.OUT_OF_SYNC)
    assert "chartVersion" in app_diff(running.snapshot()["follower"][1])
    assert status(running, "pinned") is pinned and status(running, "multi") is multi  # not evaluated again
    assert sum(p == "/web-1.1.0.tgz" for p in helm_repo.requests) == 1


async def test_a_values_commit_re_renders_only_the_apps_that_read_that_repository(agent):
    running, values = agent
    follower, pinned = status(running, "follower"), status(running, "pinned")
    sha = values.commit({"env/prod.yaml": "greeting: changed-in-git\n"})
    await running.on_git_push([values.url], "main")
    await eventually(lambda: status(running, "multi").revision.endswith(f" + {sha}"))
    assert status(running, "multi").state is AppState.OUT_OF_SYNC
    assert "changed-in-git" in app_diff(running.snapshot()["multi"][1])
    assert status(running, "follower") is follower and status(running, "pinned") is pinned


async def test_a_chart_repository_that_goes_away_makes_its_apps_unknown_with_the_reason(agent, helm_repo):
    running, _values = agent
    helm_repo.close()
    await running.poll_sources()
    await eventually(lambda: status(running, "pinned").state is AppState.UNKNOWN)
    assert "connection refused" in status(running, "pinned").reason
    assert {status(running, n).state for n in ("follower", "multi")} == {AppState.UNKNOWN}


async def test_a_chart_in_git_gets_its_undeclared_dependencies_from_their_repository(sim, repo, write_config,
                                                                                      helm_repo):
    helm_repo.publish("db", "1.2.0")
    deps = [{"name": "db", "version": "^1.0.0", "repository": helm_repo.url}]
    repo.commit({"web/Chart.yaml": yaml.safe_dump({"apiVersion": "v2", "name": "web", "version": "0.1.0",
                                                   "dependencies": deps}),
                 "web/templates/cm.yaml": configmap("{{ .Release.Name }}", "0.1.0", "hello")})
    sim.apply(live(configmap("shop", "0.1.0", "hello")))
    sim.apply(live(configmap("shop", "1.2.0", "hello").replace("shop-web", "shop-db")))
    running = build_agent(load_config(write_config({"shop": {"path": "web", "helm": {"releaseName": "shop"}}}, repo.url)))
    await running.start()
    try:
        shop = status(running, "shop")
        assert (shop.state, [o.key.name for o in shop.objects]) == (AppState.HEALTHY, ["shop-db", "shop-web"])
    finally:
        await running.close()


KUSTOMIZE_BASE = """\
helmCharts:
  - name: web
    repo: {repo}
    version: 1.0.0
    releaseName: monitoring
    namespace: prod
    valuesFile: values.yaml
"""

PROD_OVERLAY = """\
resources: [../../base]
labels:
  - pairs: {env: prod}
"""


async def test_a_kustomize_overlay_on_a_helm_chart_base_inflates_the_chart_from_its_repository(
        sim, repo, write_config, helm_repo):
    helm_repo.publish("web", "1.0.0")
    repo.commit({"monitoring/base/kustomization.yaml": KUSTOMIZE_BASE.format(repo=helm_repo.url),
                 "monitoring/base/values.yaml": "greeting: from-the-base\n",
                 "monitoring/overlays/prod/kustomization.yaml": PROD_OVERLAY})
    expected = live(configmap("monitoring", "1.0.0", "from-the-base"))
    expected["metadata"]["labels"] = {"env": "prod"}
    sim.apply(expected)
    running = build_agent(load_config(write_config({"monitoring": {"path": "monitoring/overlays/prod",
                                                             "type": "kustomize"}}, repo.url)))
    await running.start()
    try:
        assert status(running, "monitoring").state is AppState.HEALTHY, status(running, "monitoring").reason
        sim.apply({**expected, "data": {**expected["data"], "greeting": "edited-live"}})
        await eventually(lambda: status(running, "monitoring").state is AppState.OUT_OF_SYNC)
    finally:
        await running.close()
    assert not (Path(repo.path) / "monitoring" / "base" / "charts").exists()


async def test_a_chart_from_an_oci_registry_is_evaluated_and_its_tag_digest_is_the_revision(
        sim, tmp_path, write_config):
    registry = OciRegistry(tmp_path / "registry")
    try:
        registry.publish("web", "2.0.0", greeting="oci")
        sim.apply(live(configmap("edge", "2.0.0", "oci")))
        path = write_config({"edge": {"repoURL": registry.url, "chart": "web", "targetRevision": "~2.0"}}, "unused",
                            repositories=[{"url": f"oci://{registry.host}", "plainHttp": True}])
        running = build_agent(load_config(path))
        await running.start()
        try:
            edge = status(running, "edge")
            assert edge.state is AppState.HEALTHY, edge.reason
            assert edge.revision.startswith("web 2.0.0 (sha256:")
        finally:
            await running.close()
    finally:
        registry.close()
