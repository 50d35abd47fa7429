"""One broken app is Unknown with a reason a person can act on; every other app is still evaluated."""

from __future__ import annotations

import pytest
from e2e_support import live

from exporter.model import AppState
from exporter.wiring import build_agent, load_config

GOOD = """
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: fine}
    data: {a: "1"}
"""


@pytest.fixture
def broken_repo(repo, sim):
    repo.commit({
        "good/cm.yaml": GOOD,
        "badyaml/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: [\n",
        "nokind/cm.yaml": "apiVersion: v1\nmetadata: {name: nokind}\n",
        "crd/widget.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n",
        "secret/s.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData: {password: hunter2}\n",
    })
    sim.apply(live(GOOD))
    return repo


async def evaluate(config_path: str) -> dict:
    agent = build_agent(load_config(config_path))
    try:
        await agent.start(watch=False)
        return {name: status for name, (_, status) in agent.snapshot().items()}
    finally:
        await agent.close()


async def test_each_broken_app_is_unknown_with_its_reason_and_the_good_one_is_healthy(
        broken_repo, sim, write_config, tmp_path):
    sim.forbid("secrets", "list")
    config = write_config({
        "good": "good",
        "badyaml": "badyaml",
        "nokind": "nokind",
        "crd": "crd",
        "badrev": {"path": "good", "targetRevision": "no-such-branch"},
        "down": {"path": "good", "repoURL": f"file://{tmp_path}/does-not-exist"},
        "secret": "secret",
    }, broken_repo.url)
    statuses = await evaluate(config)
    assert statuses["good"].state is AppState.HEALTHY
    reasons = {name: statuses[name].reason for name in statuses if name != "good"}
    assert all(statuses[name].state is AppState.UNKNOWN for name in reasons), reasons
    assert "badyaml/cm.yaml:5" in reasons["badyaml"]
    assert "nokind/cm.yaml" in reasons["nokind"] and "kind" in reasons["nokind"]
    assert "Widget" in reasons["crd"] and "CRD" in reasons["crd"]
    assert "no-such-branch" in reasons["badrev"]
    assert "does-not-exist" in reasons["down"]
    assert "secrets" in reasons["secret"] and "forbid" in reasons["secret"].lower()
    assert "hunter2" not in str(statuses)


async def test_an_unreachable_cluster_makes_its_apps_unknown(repo, tmp_path):
    repo.commit({"good/cm.yaml": GOOD})
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\n"
        "clusters: [{name: gone, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t0ps3cret}}]\n"
        "contexts: [{name: gone, context: {cluster: gone, user: u}}]\n")
    config = tmp_path / "c.yaml"
    config.write_text(
        f"clusters: [{{name: gone, kubeconfig: '{kubeconfig}'}}]\ncacheDir: '{tmp_path}/cache'\n"
        f"apps: [{{name: a, source: {{repoURL: '{repo.url}', path: good, targetRevision: main}}, "
        "destination: {cluster: gone, namespace: prod}}]\n")
    statuses = await evaluate(str(config))
    assert statuses["a"].state is AppState.UNKNOWN
    assert "gone" in statuses["a"].reason and "t0ps3cret" not in statuses["a"].reason
