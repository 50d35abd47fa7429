"""The config file: what a valid one turns into, and what users are told when theirs is wrong."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from exporter.config import ConfigError, parse_duration
from exporter.wiring import load_config

DATA = Path(__file__).parent / "data"

MINIMAL_APP = """\
clusters:
  - name: prod
apps:
  - name: web
    source:
      repoURL: https://git.example.com/deploy.git
      path: apps/web
    destination:
      cluster: prod
"""


def copy_full_example(tmp_path: Path) -> None:
    """full.yaml as config.yaml, with the kubeconfig it names beside it."""
    shutil.copy(DATA / "full.yaml", tmp_path / "config.yaml")
    shutil.copytree(DATA / "kube", tmp_path / "kube")


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def errors_of(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    prefix = f"{path}:"
    assert all(e.startswith(prefix) for e in info.value.errors), info.value.errors
    return [e[len(prefix):] for e in info.value.errors]


def test_full_example_loads_every_section(tmp_path: Path) -> None:
    copy_full_example(tmp_path)
    config = load_config(str(tmp_path / "config.yaml"))

    assert (config.interval, config.git_poll_interval, config.git_timeout, config.render_timeout) == (
        120.0, 5400.0, 45.0, 90.0)
    assert config.cache_dir == str(tmp_path / "cache")
    assert config.webhook_secret_env == "GIT_WEBHOOK_SECRET"
    assert config.freeze_log == str(tmp_path / "state/freeze.jsonl")
    assert [(c.name, c.kubeconfig, c.context, c.in_cluster) for c in config.clusters] == [
        ("prod", str(tmp_path / "kube/prod.yaml"), "prod-admin", False), ("local", None, None, True)]
    assert config.repositories[0].token_file == "/var/run/secrets/git/token"
    assert config.repositories[1].ssh_key_file == str(tmp_path / "keys/id_ed25519")

    web, api = config.apps
    assert web.name == "web" and web.project == "shop" and web.labels == {"team": "storefront"}
    assert web.source.target_revision == "main" and web.source.path == "apps/web"
    assert web.source.directory.recurse and web.source.directory.include == "{*.yaml,*.json}"
    assert (web.destination.cluster, web.destination.namespace) == ("prod", "web")
    assert web.origin == f"{tmp_path / 'config.yaml'}:37"

    assert api.source.type == "helm"
    assert api.source.target_revision == "v1.10"  # kept as written, not read as the number 1.1
    assert api.source.helm.release_name == "api-prod"
    assert api.source.helm.value_files == ["values-prod.yaml"]
    assert api.source.helm.values == {"replicas": 3}
    assert api.source.helm.skip_crds
    assert api.notifications.bad_states == ["Degraded", "Missing"]
    assert api.notifications.repeat == 86400.0

    gen, = config.generators
    assert gen.directories == ["services/*"] and gen.exclude == ["services/legacy"]
    assert gen.template["source"]["repoURL"] == "https://git.example.com/platform/deploy.git"

    check, = config.health_checks
    assert (check.group, check.kind, check.cel[1]["status"]) == ("example.com", "Widget", "Progressing")

    freeze, maintenance = config.windows
    assert (freeze.kind, freeze.duration, freeze.time_zone) == ("deny", 2.5 * 86400, "Europe/Berlin")
    assert maintenance.maintenance and maintenance.clusters == ["prod"]

    assert [c.name for c in config.notifications.channels] == ["ops", "teams"]
    assert config.notifications.channels[0].webhook_url_file == str(tmp_path / "secrets/slack-webhook")
    assert config.notifications.freeze_channel == "ops"
    assert config.notifications.mute_in_maintenance


def test_defaults_apply_to_apps_that_do_not_override(tmp_path: Path) -> None:
    copy_full_example(tmp_path)
    web, api = load_config(str(tmp_path / "config.yaml")).apps

    # api sets no thresholds: it gets the defaults; web overrides threshold only.
    assert api.notifications.threshold == 600.0 and api.notifications.channels == ["ops"]
    assert web.notifications.threshold == 300.0 and web.notifications.channels == ["ops"]
    assert web.notifications.state_thresholds == {"Progressing": 1200.0}


def test_global_ignore_rules_come_before_the_apps_own(tmp_path: Path) -> None:
    copy_full_example(tmp_path)
    web, api = load_config(str(tmp_path / "config.yaml")).apps

    assert [r.json_pointers or r.jq_path_expressions or r.managed_fields_managers
            for r in web.compare.ignore_differences] == [
        ["/spec/replicas"], [".data.timestamp"], ["kube-controller-manager"]]
    assert [r.json_pointers for r in api.compare.ignore_differences] == [["/spec/replicas"]]
    assert web.compare.ignore_differences[0].origin.endswith("config.yaml:29")
    assert web.compare.ignore_differences[1].origin.endswith("config.yaml:52")


def test_misspelt_key_names_line_and_suggests_the_right_one(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, MINIMAL_APP.replace("    source:", "    sorce:"))
    assert "5: apps[0]: unknown field 'sorce'; did you mean 'source'?" in errors


def test_wrong_type_is_named_with_its_field_path(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, MINIMAL_APP + "    labels: [a, b]\n")
    assert errors == ["10: apps[0].labels: must be a mapping of strings, not a list"]


def test_source_type_outside_the_known_ones_is_refused(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, MINIMAL_APP.replace("      path: apps/web", "      type: jsonnet"))
    assert errors == ["7: apps[0].source.type: must be one of directory, kustomize, helm, not 'jsonnet'"]


def test_destination_cluster_must_be_a_configured_cluster(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, MINIMAL_APP.replace("cluster: prod", "cluster: prd"))
    assert errors == ["9: apps[0].destination.cluster: unknown cluster 'prd'; did you mean 'prod'?"]


def test_two_apps_with_one_name_are_refused(tmp_path: Path) -> None:
    second = MINIMAL_APP.split("apps:\n", 1)[1]
    errors = errors_of(tmp_path, MINIMAL_APP + second)
    assert len(errors) == 1
    assert errors[0].startswith("10: apps[1].name: duplicate app name 'web' (first at ")
    assert errors[0].endswith("config.yaml:4)")


def test_yaml_that_does_not_parse_says_invalid_yaml_with_file_line_and_column(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, """\
        clusters:
          - name: prod
        apps:
          - name: web
            source: repoURL: x
        """)
    assert errors == ["5:20: invalid YAML: mapping values are not allowed in this context"]


def test_a_missing_key_in_a_flow_mapping_says_invalid_yaml_where(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, "clusters:\n  - {name: prod\napps: []\n")
    assert errors == ["3:5: invalid YAML: did not find expected ',' or '}'"]


def test_inline_git_token_is_refused(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, """\
        repositories:
          - url: https://git.example.com/
            token: ghp_abcdef
        """)
    assert errors == ["3: repositories[0].token: inline secrets are not accepted; use tokenFile or tokenEnv"]
    assert "ghp_abcdef" not in "".join(errors)


def test_inline_slack_webhook_is_refused(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, """\
        notifications:
          channels:
            - name: ops
              type: slack
              webhookUrl: https://hooks.slack.com/services/T000/B000/XXXX
        """)
    assert errors[0] == ("5: notifications.channels[0].webhookUrl: inline secrets are not accepted; "
                         "use webhookUrlFile or webhookUrlEnv")
    assert not any("hooks.slack.com" in e for e in errors)


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90.0), ("10m", 600.0), ("4h", 14400.0), ("1d", 86400.0), ("1h30m", 5400.0), (45, 45.0),
    ("2.5", 2.5), ("1m30s", 90.0)])
def test_durations_are_read_as_seconds(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["ten minutes", "10 m", "h", "1x", "", "-5"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration|negative"):
        parse_duration(text)


def test_a_bad_duration_in_the_file_is_reported_at_its_line(tmp_path: Path) -> None:
    assert errors_of(tmp_path, "interval: 5 minutes\n") == [
        "1: interval: must be a duration like 90s, 10m, 4h, 1d or 1h30m, not '5 minutes'"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, """\
        interval: soon
        clusters:
          - name: prod
        apps:
          - name: web
            sorce: {}
            destination: {cluster: nowhere}
          - name: api
            source: {repoURL: x, type: ksonnet}
            destination: {cluster: prod}
        windows:
          - kind: sometimes
            schedule: "every day"
            duration: 1h
        """)
    assert errors == [
        "6: apps[0]: unknown field 'sorce'; did you mean 'source'?",
        "5: apps[0].source: is required",
        "7: apps[0].destination.cluster: unknown cluster 'nowhere'; expected one of prod",
        "9: apps[1].source.type: must be one of directory, kustomize, helm, not 'ksonnet'",
        "12: windows[0].kind: must be one of allow, deny, not 'sometimes'",
        "13: windows[0].schedule: must be a cron schedule of five fields, not 'every day'",
        "1: interval: must be a duration like 90s, 10m, 4h, 1d or 1h30m, not 'soon'",
    ]


def test_error_text_lists_one_problem_per_line(tmp_path: Path) -> None:
    path = write(tmp_path, "interval: soon\ngitTimeout: never\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).splitlines() == info.value.errors and len(info.value.errors) == 2


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read"):
        load_config(str(tmp_path / "nope.yaml"))


def test_generator_template_with_unknown_placeholder_is_refused_at_load(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, """\
        clusters: [{name: prod}]
        appGenerators:
          - git:
              repoURL: https://git.example.com/deploy.git
              directories: ["apps/*"]
            template:
              name: "{{path.basename}}"
              destination:
                cluster: prod
                namespace: "{{path.dirname}}"
        """)
    assert errors == ["10: appGenerators[0].template.destination.namespace: unknown placeholder "
                      "'{{path.dirname}}'; use path, path.basename, path.basenameNormalized or path[N]"]


def test_the_example_in_the_documentation_loads(tmp_path: Path) -> None:
    doc = (Path(__file__).parents[2] / "docs/configuration.md").read_text()
    example = doc.rsplit("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "config.yaml").write_text(example)
    shutil.copytree(DATA / "kube", tmp_path / "kube")
    config = load_config(str(tmp_path / "config.yaml"))
    assert [a.name for a in config.apps] == ["web", "api", "monitoring", "payments"]
    assert len(config.generators) == 1
    assert [type(s).__name__ for s in config.app_sources] == ["ArgoCDAppSource", "FluxAppSource"]


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    assert errors_of(tmp_path, "- just\n- a list\n") == ["1: (top level): must be a mapping, not a list"]


def test_helm_values_given_as_a_yaml_string_must_parse(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, MINIMAL_APP.replace("      path: apps/web", """\
      path: charts/web
      helm:
        values: |
          replicas: 3
          image: tag: x"""))
    assert errors == ["11: apps[0].source.helm.values: is not valid YAML: "
                      "mapping values are not allowed in this context"]


def test_apply_managers_add_to_the_deployers_found_from_evidence(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL_APP + "    compare:\n      applyManagers: [deploy-bot]\n"))
    assert config.apps[0].compare.apply_managers == ["deploy-bot"]
    errors = errors_of(tmp_path, MINIMAL_APP + "    compare:\n      applyManagers: {deploy-bot: yes}\n")
    assert len(errors) == 1 and errors[0].startswith("11: apps[0].compare.applyManagers: must be a list")
