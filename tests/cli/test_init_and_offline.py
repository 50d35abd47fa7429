"""``init`` writes a starter config a newcomer can run at once; ``check --offline`` checks a config
in CI without clusters, Git or secrets."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

from exporter.config_types import Config
from exporter.offline import secret_notes
from exporter.wiring import parse_config

FIXTURES = Path(__file__).parent / "fixtures"
KUBECONFIG = str(FIXTURES / "eks-kubeconfig.yaml")


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "exporter.cli", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd, env=env)


def init(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path / "config.yaml"
    return run_cli("init", "--repo", "https://github.com/org/deploy.git", "--kubeconfig", KUBECONFIG,
                   "--output", str(out), *args), out


def test_init_names_the_current_context_s_cluster_and_check_offline_accepts_it(tmp_path):
    done, out = init(tmp_path, "--path", "apps/*")
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load(out.read_text())
    assert config["clusters"] == [{"name": "prod-eu", "kubeconfig": KUBECONFIG,
                                   "context": "arn:aws:eks:eu-west-1:123456789012:cluster/Prod-EU"}]
    assert config["appGenerators"][0]["git"]["directories"] == [{"path": "apps/*"}]
    assert "https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com" in out.read_text()  # said in a comment
    checked = run_cli("check", "--offline", "--config", str(out))
    assert (checked.returncode, checked.stdout.splitlines()[0]) == \
        (0, f"{out}: valid: 1 cluster, 0 apps, 1 app generator")


def test_init_with_a_plain_path_writes_one_app_in_the_named_context(tmp_path):
    done, out = init(tmp_path, "--path", "clusters/staging/web", "--context", "staging", "--namespace", "web")
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load(out.read_text())
    [app] = config["apps"]
    assert (app["name"], app["source"]["path"], app["destination"]) == \
        ("web", "clusters/staging/web", {"cluster": "staging", "namespace": "web"})


def test_every_commented_section_of_the_starter_is_valid_once_uncommented(tmp_path):
    done, out = init(tmp_path)
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    # the commented keys start lower case (or indented); the prose around them starts upper case
    uncommented = "\n".join(re.sub(r"^# (?=[a-z][A-Za-z]*:|  )", "", line) for line in text.splitlines())
    config: Config = parse_config(uncommented, str(out))
    assert (len(config.repositories), len(config.notifications.channels), len(config.windows)) == (1, 1, 1)
    assert config.argocd_metrics and config.freeze_log
    assert config.apps[0].compare.ignore_differences[-1].json_pointers == ["/spec/replicas"]


def test_init_does_not_replace_a_config_unless_forced(tmp_path):
    (tmp_path / "config.yaml").write_text("# mine\n")
    done, out = init(tmp_path)
    assert (done.returncode, done.stderr.strip()) == \
        (2, f"gitops-drift-exporter: {out} exists; pass --force to replace it")
    assert out.read_text() == "# mine\n"
    assert init(tmp_path, "--force")[0].returncode == 0 and "clusters:" in out.read_text()


def test_init_without_a_kubeconfig_says_so_in_one_line(tmp_path):
    done = run_cli("init", "--repo", "https://github.com/org/deploy.git", "--kubeconfig", str(tmp_path / "none"),
                   "--output", str(tmp_path / "config.yaml"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"gitops-drift-exporter: kubeconfig {tmp_path / 'none'} does not exist; pass --kubeconfig and --context, "
        "or --in-cluster"]


def test_init_in_cluster_writes_the_service_account_cluster_to_stdout():
    done = run_cli("init", "--repo", "https://github.com/org/deploy.git", "--in-cluster", "--output", "-")
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(done.stdout)["clusters"] == [{"name": "in-cluster", "inCluster": True}]


def test_check_offline_contacts_neither_cluster_nor_git(tmp_path):
    # A server and a repository that would each take the full timeout to fail.
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "clusters": [{"name": "c", "cluster": {"server": "https://10.255.255.1:6443"}}],
        "users": [{"name": "u", "user": {"token": "t"}}]}))
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "clusters": [{"name": "c", "kubeconfig": str(kubeconfig)}],
        "apps": [{"name": "web", "source": {"repoURL": "https://10.255.255.1/org/repo.git", "path": "web"},
                  "destination": {"cluster": "c", "namespace": "web"}}]}))
    started = time.monotonic()
    done = run_cli("check", "--offline", "--config", str(config))
    assert (done.returncode, done.stdout.strip()) == (0, f"{config}: valid: 1 cluster, 1 app")
    assert time.monotonic() - started < 30


def test_check_offline_refuses_a_broken_ignore_rule_and_window_naming_file_and_line(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("clusters: [{name: c, inCluster: true}]\n"
                      "apps:\n"
                      "  - name: web\n"
                      "    source: {repoURL: 'https://git.example.com/r.git', path: web}\n"
                      "    destination: {cluster: c}\n"
                      "    compare:\n"
                      "      ignoreDifferences: [{kind: Deployment, jqPathExpressions: ['.spec.[']}]\n"
                      "windows: [{kind: deny, schedule: '61 * * * *', duration: 1h}]\n")
    done = run_cli("check", "--offline", "--config", str(config))
    assert done.returncode == 2 and done.stdout == ""
    assert "jqPathExpressions" in done.stderr and "61 * * * *" in done.stderr
    assert "Traceback" not in done.stderr


def test_check_offline_notes_the_secrets_that_are_not_here_without_failing(tmp_path):
    config = parse_config("repositories: [{url: 'https://github.com/org/', tokenEnv: GDE_TEST_TOKEN}]\n"
                          "notifications:\n"
                          f"  channels: [{{name: team, type: slack, webhookUrlFile: {tmp_path / 'hook'}}}]\n",
                          str(tmp_path / "config.yaml"))
    assert secret_notes(config, environ={}) == [
        "repositories[0] (https://github.com/org/): variable GDE_TEST_TOKEN is not set here",
        f"notifications channel team: file {tmp_path / 'hook'} does not exist here"]
    (tmp_path / "hook").write_text("https://hooks.slack.com/x")
    assert secret_notes(config, environ={"GDE_TEST_TOKEN": "t"}) == []
