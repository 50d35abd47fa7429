"""``check`` and ``diff`` from the command line, against a real Git repository and a simulated cluster."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import yaml
from e2e_support import live

from exporter.model import ObjectKey

CONFIGMAP = """
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings}
    data: {MODE: fast, LIMIT: "10"}
"""
DEPLOYMENT = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: web, image: "nginx:1.27", resources: {limits: {cpu: "1"}}}]
"""
ROLLED_OUT = {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
              "availableReplicas": 2, "conditions": [{"type": "Available", "status": "True"}]}


async def cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "exporter.cli", *args,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_all_good_exits_zero(sim, repo, write_config):
    repo.commit({"web/cm.yaml": CONFIGMAP, "web/deploy.yaml": DEPLOYMENT})
    sim.apply(live(CONFIGMAP))
    sim.apply(live(DEPLOYMENT, status=ROLLED_OUT))
    code, out, err = await cli("check", "--config", write_config({"web": "web"}, repo.url))
    assert code == 0, out + err
    assert "web" in out and "Healthy" in out


async def test_each_state_is_reported_and_something_bad_exits_one(sim, repo, write_config):
    repo.commit({"good/cm.yaml": CONFIGMAP, "drift/cm.yaml": CONFIGMAP.replace("settings", "drifted"),
                 "gone/cm.yaml": CONFIGMAP.replace("settings", "never-applied")})
    sim.apply(live(CONFIGMAP))
    sim.apply(live(CONFIGMAP.replace("settings", "drifted")))
    sim.patch(ObjectKey("", "ConfigMap", "prod", "drifted"), {"data": {"LIMIT": "99"}}, manager="kubectl-edit")
    config = write_config({"good": "good", "drift": "drift", "gone": "gone"}, repo.url)
    code, out, err = await cli("check", "--config", config, "--output", "json")
    assert code == 1, err
    apps = {a["name"]: a for a in json.loads(out)}
    assert apps["good"]["status"] == "Healthy"
    assert apps["drift"]["status"] == "OutOfSync"
    assert apps["gone"]["status"] == "Missing"
    drifted = [o for o in apps["drift"]["objects"] if o["differences"]]
    assert drifted and drifted[0]["differences"][0]["path"] == "/data/LIMIT"
    assert drifted[0]["differences"][0]["desired"] == "10" and drifted[0]["differences"][0]["live"] == "99"


async def test_server_defaults_and_canonical_quantities_are_not_drift(sim, repo, write_config):
    repo.commit({"web/deploy.yaml": DEPLOYMENT})
    served = live(DEPLOYMENT, status=ROLLED_OUT)
    container = served["spec"]["template"]["spec"]["containers"][0]
    container.update({"imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log",
                      "terminationMessagePolicy": "File", "resources": {"limits": {"cpu": "1000m"}}})
    served["spec"].update({"revisionHistoryLimit": 10, "progressDeadlineSeconds": 600})
    sim.apply(served)
    code, out, err = await cli("check", "--config", write_config({"web": "web"}, repo.url), "--app", "web")
    assert code == 0, out + err


async def test_diff_prints_a_unified_diff_of_the_drifted_field(sim, repo, write_config):
    repo.commit({"web/cm.yaml": CONFIGMAP})
    sim.apply(live(CONFIGMAP))
    sim.patch(ObjectKey("", "ConfigMap", "prod", "settings"), {"data": {"MODE": "slow"}}, manager="kubectl-edit")
    code, out, err = await cli("diff", "--config", write_config({"web": "web"}, repo.url), "web")
    assert code == 1, err
    assert "ConfigMap" in out and "settings" in out
    assert "-  MODE: fast" in out.replace("- MODE", "-  MODE") or "MODE: fast" in out
    assert "slow" in out


async def test_a_config_typo_is_refused_with_file_line_and_field(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("clusters:\n  - name: c\n    inCluster: true\napps:\n  - name: a\n    sorce: {}\n")
    code, out, err = await cli("check", "--config", str(config))
    assert code == 2
    assert f"{config}:6" in err and "sorce" in err and "Traceback" not in err


async def test_unknown_app_is_a_clear_error(sim, repo, write_config):
    repo.commit({"web/cm.yaml": CONFIGMAP})
    code, out, err = await cli("check", "--config", write_config({"web": "web"}, repo.url), "--app", "nope")
    assert code == 2 and "no app named 'nope'" in err


async def test_an_app_generator_that_cannot_list_its_apps_makes_check_exit_two(sim, repo, write_config, tmp_path):
    repo.commit({"web/cm.yaml": CONFIGMAP})
    sim.apply(live(CONFIGMAP))
    missing = tmp_path / "no-such-repo"
    config = write_config({"web": "web"}, repo.url, appGenerators=[{
        "git": {"repoURL": str(missing), "directories": [{"path": "services/*"}]},
        "template": {"name": "svc-{{path.basename}}", "destination": {"cluster": "sim", "namespace": "prod"}}}])
    code, out, err = await cli("check", "--config", config)
    assert code == 2, out + err
    assert "web" in out and "Healthy" in out  # what could be evaluated is still shown
    assert f"check: app generator {config}:" in err and str(missing) in err and "Traceback" not in err


async def test_a_config_with_no_apps_is_not_all_good(sim, write_config, repo):
    config = write_config({}, repo.url)
    code, out, err = await cli("check", "--config", config)
    assert code == 2 and out == ""  # no table header for no rows
    assert err.strip().endswith(f"check: no apps were evaluated ({config} lists none)")


def point_at_a_dead_server(config: Path, kubeconfig: Path) -> None:
    """The config's cluster moved to a port nothing listens on."""
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "sim",
        "clusters": [{"name": "sim", "cluster": {"server": "http://127.0.0.1:9"}}],
        "users": [{"name": "sim", "user": {"token": "t"}}],
        "contexts": [{"name": "sim", "context": {"cluster": "sim", "user": "sim"}}]}))
    doc = yaml.safe_load(config.read_text())
    doc["clusters"][0]["kubeconfig"] = str(kubeconfig)
    config.write_text(yaml.safe_dump(doc))


async def test_an_unreachable_cluster_is_could_not_run_not_a_bad_app(sim, repo, write_config, tmp_path):
    repo.commit({"web/cm.yaml": CONFIGMAP})
    config = write_config({"web": "web"}, repo.url)
    point_at_a_dead_server(Path(config), tmp_path / "dead.kubeconfig")
    code, out, err = await cli("check", "--config", config)
    assert code == 2, out + err
    assert "Unknown" in out and "check: could not evaluate web: cluster sim unreachable" in err


async def test_a_repository_that_cannot_be_read_is_could_not_run(sim, write_config, tmp_path):
    code, out, err = await cli("check", "--config", write_config({"web": "web"}, str(tmp_path / "no-such-repo")))
    assert code == 2, out + err
    assert "check: could not evaluate web:" in err and "Traceback" not in err


async def test_manifests_that_do_not_render_are_a_bad_app(sim, repo, write_config):
    repo.commit({"web/kustomization.yaml": "resources: [missing.yaml]\n"})
    code, out, err = await cli("check", "--config", write_config({"web": {"path": "web"}}, repo.url))
    assert code == 1, out + err
    assert "Unknown" in out and "could not evaluate" not in err


async def test_check_app_evaluates_only_that_app(sim, repo, write_config):
    """The other app's repository is a listener on loopback: it is never even connected to."""
    connections = 0

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.close()

    server = await asyncio.start_server(count, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    repo.commit({"web/cm.yaml": CONFIGMAP})
    sim.apply(live(CONFIGMAP))
    config = write_config({"web": "web", "other": {"repoURL": f"http://127.0.0.1:{port}/other.git", "path": "."}},
                          repo.url)
    try:
        code, out, err = await cli("check", "--config", config, "--app", "web")
    finally:
        server.close()
    assert code == 0, out + err
    assert connections == 0
    assert "other" not in out


async def test_a_cache_directory_that_cannot_be_made_is_a_clear_error(sim, repo, write_config, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache should go\n")
    repo.commit({"web/cm.yaml": CONFIGMAP})
    code, out, err = await cli("check", "--config", write_config({"web": "web"}, repo.url),
                               "--cache-dir", str(blocker / "cache"))
    assert code == 2 and "Traceback" not in err
    assert f"cannot use the cache directory {blocker / 'cache'}: Not a directory" in err


async def test_a_starter_config_from_init_evaluates_the_repository_s_apps(sim, repo, tmp_path):
    repo.commit({"apps/web/settings.yaml": CONFIGMAP, "apps/api/settings.yaml": CONFIGMAP.replace("settings", "api")})
    sim.apply(live(CONFIGMAP))
    kubeconfig = sim.write_kubeconfig(str(tmp_path / "kubeconfig"), context="dev")
    config = str(tmp_path / "config.yaml")
    code, _, err = await cli("init", "--repo", repo.url, "--path", "apps/*", "--revision", "main",
                             "--namespace", "prod", "--kubeconfig", kubeconfig, "--output", config)
    assert code == 0, err
    code, out, err = await cli("check", "--config", config, "--output", "json", "--cache-dir", str(tmp_path / "c"))
    assert {a["name"]: a["status"] for a in json.loads(out)} == {"web": "Healthy", "api": "Missing"}, err
    assert code == 1


async def test_every_log_line_of_a_check_at_info_is_the_agent_s_own(sim, repo, write_config):
    # A library's internals (the simulated server's, the Kubernetes client's, aiohttp's) are not the
    # user's business at INFO; the agent's own lines say what it did.
    repo.commit({"web/settings.yaml": CONFIGMAP})
    sim.apply(live(CONFIGMAP))
    code, _, err = await cli("check", "--config", write_config({"web": "web"}, repo.url),
                             "--log-level", "info", "--log-format", "json")
    loggers = {json.loads(line)["logger"] for line in err.splitlines() if line.startswith("{")}
    assert code == 0 and loggers and all(name.split(".")[0] == "exporter" for name in loggers), err
    assert all(line.startswith("{") for line in err.splitlines() if line.strip()), err


async def test_check_names_the_commit_an_app_is_at_by_subject_and_author(sim, repo, write_config):
    sha = repo.commit({"web/settings.yaml": CONFIGMAP}, "Settings: fast mode for the sale")
    sim.apply(live(CONFIGMAP))
    code, out, err = await cli("check", "--config", write_config({"web": "web"}, repo.url), "--output", "json")
    [app] = json.loads(out)
    assert code == 0, err
    assert app["commit"]["sha"] == sha == app["revision"]
    assert app["commit"]["subject"] == "Settings: fast mode for the sale"
    assert app["commit"]["author"] == repo.git("log", "-1", "--format=%an")
    assert app["revisionUrl"] is None  # a local repository has no commit page
