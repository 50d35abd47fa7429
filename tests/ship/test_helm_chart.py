"""The Helm chart, rendered by Helm's own engine (helm-python-sdk): what a cluster would receive.

The agent must stay read-only and locked down whatever the values, ship the same rules and
dashboards as ``rules/`` and ``grafana/``, and switch to a StatefulSet when sharded.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from .conftest import REPO

CHART = REPO / "helm" / "gitops-drift-exporter"
RELEASE = "gde"
NAMESPACE = "monitoring"
READ_VERBS = {"get", "list", "watch"}
ALL_ON: dict[str, Any] = {
    "shards": 3,
    "serviceMonitor": {"enabled": True, "additionalLabels": {"release": "kube-prometheus-stack"}},
    "prometheusRule": {"enabled": True},
    "grafanaDashboards": {"enabled": True},
    "rbac": {"namespaced": True, "namespaces": ["shop", "billing"]},
    "notifications": {"existingSecret": "gde-notifications"},
    "gitCredentials": {"existingSecret": "gde-git"},
}


def render(values: dict[str, Any] | None = None, chart: Path = CHART) -> list[dict[str, Any]]:
    with helm.Chart.load(chart) as loaded:
        manifests = loaded.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    return [
        doc
        for path, text in sorted(manifests.items())
        if path.endswith(".yaml")
        for doc in yaml.load_all(text, Loader=yaml.CSafeLoader)
        if doc
    ]


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = of_kind(docs, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def workload(docs: list[dict[str, Any]]) -> dict[str, Any]:
    found = of_kind(docs, "Deployment") + of_kind(docs, "StatefulSet")
    assert len(found) == 1
    return found[0]


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    containers = workload(docs)["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


@pytest.fixture(scope="module")
def default_docs() -> list[dict[str, Any]]:
    return render()


@pytest.fixture(scope="module")
def all_on_docs() -> list[dict[str, Any]]:
    return render(ALL_ON)


@pytest.fixture(params=["default", "all-on"])
def docs(request: pytest.FixtureRequest, default_docs: list[dict[str, Any]], all_on_docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return default_docs if request.param == "default" else all_on_docs


# --- lint -----------------------------------------------------------------------------------


@pytest.mark.parametrize("values", [None, ALL_ON], ids=["default", "all-on"])
def test_chart_lints_without_errors_or_warnings(values: dict[str, Any] | None) -> None:
    report = helm.lint(CHART, values, strict=True)
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not problems and not report["errors"], report


# --- read-only RBAC ---------------------------------------------------------------------------


def test_no_role_grants_anything_but_get_list_watch(docs: list[dict[str, Any]]) -> None:
    roles = of_kind(docs, "ClusterRole") + of_kind(docs, "Role")
    assert roles
    for role in roles:
        for rule in role["rules"]:
            assert set(rule["verbs"]) <= READ_VERBS, f"{role['kind']} {role['metadata']['name']}: {rule}"
            assert "*" not in rule["verbs"]


def test_default_install_reads_every_namespace_through_one_cluster_role(default_docs: list[dict[str, Any]]) -> None:
    role = one(default_docs, "ClusterRole")
    binding = one(default_docs, "ClusterRoleBinding")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role["metadata"]["name"]}
    account = one(default_docs, "ServiceAccount")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": NAMESPACE}]
    assert workload(default_docs)["spec"]["template"]["spec"]["serviceAccountName"] == account["metadata"]["name"]
    assert not of_kind(default_docs, "Role")


def test_namespaced_rbac_grants_a_role_in_each_listed_namespace_only(all_on_docs: list[dict[str, Any]]) -> None:
    assert not of_kind(all_on_docs, "ClusterRole") and not of_kind(all_on_docs, "ClusterRoleBinding")
    roles = {r["metadata"]["namespace"]: r for r in of_kind(all_on_docs, "Role")}
    bindings = {b["metadata"]["namespace"]: b for b in of_kind(all_on_docs, "RoleBinding")}
    assert set(roles) == set(bindings) == {"shop", "billing"}
    for namespace, binding in bindings.items():
        assert binding["roleRef"]["name"] == roles[namespace]["metadata"]["name"]
        assert binding["subjects"][0]["namespace"] == NAMESPACE


def test_namespaced_rbac_without_namespaces_is_refused_by_name() -> None:
    with pytest.raises(helm.HelmError, match=r"rbac\.namespaces"):
        render({"rbac": {"namespaced": True}})


def test_schema_refuses_a_write_verb_in_rbac_rules() -> None:
    values = {"rbac": {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "patch"]}]}}
    with pytest.raises(helm.HelmValuesError, match=r"/rbac/rules/0/verbs/1"):
        render(values)


def test_templates_refuse_a_write_verb_even_when_schema_validation_is_skipped(tmp_path: Path) -> None:
    """``helm install --skip-schema-validation`` must not be a way to make the agent writable."""
    chart = tmp_path / "gitops-drift-exporter"
    shutil.copytree(CHART, chart)
    (chart / "values.schema.json").unlink()
    values = {"rbac": {"rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list", "delete"]}]}}
    with pytest.raises(helm.HelmError, match=r'rbac\.rules\[0\]\.verbs: "delete" is not allowed'):
        render(values, chart=chart)


# --- values schema ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"shards": "x"}, "/shards"),
        ({"shards": 0}, "/shards"),
        ({"logFormat": "xml"}, "/logFormat"),
        ({"image": {"repository": "r", "tag": "latest"}}, "/image/tag"),
        ({"serviceMonitr": {"enabled": True}}, "serviceMonitr"),
    ],
    ids=["shards-not-a-number", "shards-zero", "unknown-log-format", "latest-tag", "misspelt-key"],
)
def test_schema_rejects_bad_values_and_names_the_field(values: dict[str, Any], where: str) -> None:
    with pytest.raises(helm.HelmValuesError) as error:
        render(values)
    assert where in str(error.value)


# --- pod hardening ----------------------------------------------------------------------------


def test_pod_runs_as_non_root_with_runtime_default_seccomp(docs: list[dict[str, Any]]) -> None:
    pod = workload(docs)["spec"]["template"]["spec"]["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert pod["runAsUser"] == 65532 and pod["runAsUser"] != 0
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}


def test_container_is_locked_down(docs: list[dict[str, Any]]) -> None:
    security = container(docs)["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert security.get("privileged") is not True


def test_writable_paths_are_emptydirs_for_tmp_and_the_cache(docs: list[dict[str, Any]]) -> None:
    spec = workload(docs)["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: m for m in container(docs)["volumeMounts"]}
    for path in ("/tmp", "/var/cache/gitops-drift-exporter"):
        assert "emptyDir" in volumes[mounts[path]["name"]], path
    config = next(d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"].endswith("-config"))
    assert yaml.safe_load(config["data"]["config.yaml"])["cacheDir"] == "/var/cache/gitops-drift-exporter"


def test_probes_check_healthz_for_liveness_and_readyz_for_readiness(docs: list[dict[str, Any]]) -> None:
    agent = container(docs)
    assert agent["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert agent["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert agent["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}


def test_container_has_resource_requests_and_a_memory_limit(docs: list[dict[str, Any]]) -> None:
    resources = container(docs)["resources"]
    assert resources["requests"]["cpu"] and resources["requests"]["memory"]
    assert resources["limits"]["memory"]


def test_agent_runs_with_the_mounted_config_and_listens_on_the_probed_port(docs: list[dict[str, Any]]) -> None:
    agent = container(docs)
    args = agent["args"]
    assert args[0] == "run"
    config_path = args[args.index("--config") + 1]
    assert args[args.index("--listen") + 1] == "0.0.0.0:8080"
    mount = next(m for m in agent["volumeMounts"] if m["mountPath"] == config_path)
    assert mount["readOnly"] is True and mount["subPath"] == "config.yaml"


def test_container_command_line_is_one_the_agents_cli_accepts(docs: list[dict[str, Any]]) -> None:
    from exporter.cli import build_parser

    args = container(docs)["args"]
    try:
        parsed = build_parser().parse_args(args)
    except SystemExit:
        pytest.fail(f"gitops-drift-exporter rejects the chart's arguments {args}")
    assert parsed.command == "run"
    assert parsed.config == "/etc/gitops-drift-exporter/config.yaml"


def test_logs_are_json_by_default(default_docs: list[dict[str, Any]]) -> None:
    env = {e["name"]: e.get("value") for e in container(default_docs)["env"]}
    assert env["GITOPS_LOG_FORMAT"] == "json"


def test_each_shard_pod_resolves_to_its_own_shard_of_the_total(all_on_docs: list[dict[str, Any]]) -> None:
    from exporter.cli import parse_shard

    statefulset = one(all_on_docs, "StatefulSet")
    count = next(e["value"] for e in container(all_on_docs)["env"] if e["name"] == "GITOPS_SHARD_COUNT")
    pods = [f"{statefulset['metadata']['name']}-{ordinal}" for ordinal in range(statefulset["spec"]["replicas"])]
    shards = [parse_shard(None, {"GITOPS_SHARD_COUNT": count, "POD_NAME": pod}) for pod in pods]
    assert shards == [(0, 3), (1, 3), (2, 3)]


def test_rendered_config_is_one_the_agent_loads() -> None:
    from exporter.wiring import parse_config

    values = {"config": {
        "clusters": [{"name": "in-cluster", "inCluster": True}],
        "apps": [{"name": "shop", "project": "retail",
                  "source": {"repoURL": "https://git.example.com/shop.git", "targetRevision": "main", "path": "deploy"},
                  "destination": {"cluster": "in-cluster", "namespace": "shop"}}],
    }}
    for docs in (render(), render(values)):
        text = one(docs, "ConfigMap")["data"]["config.yaml"]
        config = parse_config(text, "/etc/gitops-drift-exporter/config.yaml")
        assert config.cache_dir == "/var/cache/gitops-drift-exporter"
        assert [c.name for c in config.clusters] == ["in-cluster"]


def test_image_is_the_projects_image_at_the_charts_app_version(default_docs: list[dict[str, Any]]) -> None:
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    assert container(default_docs)["image"] == f"ghcr.io/gitops-drift-exporter/gitops-drift-exporter:{app_version}"


# --- configuration and secrets ----------------------------------------------------------------


def test_config_values_are_rendered_into_the_mounted_config_map() -> None:
    config = {
        "clusters": [{"name": "prod", "inCluster": True}],
        "apps": [{"name": "shop", "source": {"repoURL": "https://git.example.com/shop.git", "path": "deploy"},
                  "destination": {"cluster": "prod", "namespace": "shop"}}],
    }
    docs = render({"config": config})
    config_map = one(docs, "ConfigMap")
    assert yaml.safe_load(config_map["data"]["config.yaml"]) == {**config, "cacheDir": "/var/cache/gitops-drift-exporter"}
    volumes = workload(docs)["spec"]["template"]["spec"]["volumes"]
    assert {"name": "config", "configMap": {"name": config_map["metadata"]["name"]}} in volumes


def test_changing_the_config_rolls_the_pods() -> None:
    def checksum(values: dict[str, Any]) -> str:
        annotations: dict[str, str] = workload(render(values))["spec"]["template"]["metadata"]["annotations"]
        return annotations["checksum/config"]

    assert checksum({"config": {"interval": "60s"}}) != checksum({"config": {"interval": "120s"}})


def test_existing_config_map_replaces_the_rendered_one() -> None:
    docs = render({"existingConfigMap": "team-gitops-config"})
    assert not of_kind(docs, "ConfigMap")
    volumes = workload(docs)["spec"]["template"]["spec"]["volumes"]
    assert {"name": "config", "configMap": {"name": "team-gitops-config"}} in volumes


def test_notification_secret_is_mounted_read_only_as_files(all_on_docs: list[dict[str, Any]]) -> None:
    spec = workload(all_on_docs)["spec"]["template"]["spec"]
    volume = next(v for v in spec["volumes"] if v.get("secret", {}).get("secretName") == "gde-notifications")
    mount = next(m for m in container(all_on_docs)["volumeMounts"] if m["name"] == volume["name"])
    assert mount == {"name": volume["name"], "mountPath": "/etc/gitops-drift-exporter/secrets", "readOnly": True}
    assert volume["secret"]["defaultMode"] & 0o007 == 0, "secret files must not be world-readable"
    env_values = json.dumps(container(all_on_docs)["env"])
    assert "secretKeyRef" not in env_values, "secrets are files, never environment variables"


def test_without_notification_secret_nothing_is_mounted(default_docs: list[dict[str, Any]]) -> None:
    assert not any("secret" in v for v in workload(default_docs)["spec"]["template"]["spec"]["volumes"])


# --- sharding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shards", [1, 3])
def test_persistence_keeps_app_state_on_a_claim_that_outlives_the_pod(shards: int) -> None:
    docs = render({"shards": shards, "persistence": {"enabled": True, "size": "1Gi", "storageClassName": "fast"}})
    mounts = {m["name"]: m["mountPath"] for m in container(docs)["volumeMounts"]}
    assert mounts["state"] == "/var/lib/gitops-drift-exporter"
    config = yaml.safe_load(one(docs, "ConfigMap")["data"]["config.yaml"])
    assert config["stateFile"] == "/var/lib/gitops-drift-exporter/app-state.json"
    if shards == 1:
        claim = one(docs, "PersistentVolumeClaim")
        volumes = {v["name"]: v for v in workload(docs)["spec"]["template"]["spec"]["volumes"]}
        assert volumes["state"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
        spec = claim["spec"]
    else:
        assert of_kind(docs, "PersistentVolumeClaim") == []
        (template,) = workload(docs)["spec"]["volumeClaimTemplates"]
        assert template["metadata"]["name"] == "state"
        spec = template["spec"]
    assert spec["resources"]["requests"]["storage"] == "1Gi" and spec["storageClassName"] == "fast"
    assert spec["accessModes"] == ["ReadWriteOnce"]


def test_without_persistence_app_state_stays_in_the_cache_volume(default_docs: list[dict[str, Any]]) -> None:
    config = yaml.safe_load(one(default_docs, "ConfigMap")["data"]["config.yaml"])
    assert "stateFile" not in config and of_kind(default_docs, "PersistentVolumeClaim") == []


def test_one_shard_is_a_single_deployment_replaced_not_rolled(default_docs: list[dict[str, Any]]) -> None:
    assert not of_kind(default_docs, "StatefulSet")
    deployment = one(default_docs, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    names = {e["name"] for e in container(default_docs)["env"]}
    assert "GITOPS_SHARD_COUNT" not in names


def test_several_shards_are_a_statefulset_whose_pods_know_their_ordinal_and_count(all_on_docs: list[dict[str, Any]]) -> None:
    assert not of_kind(all_on_docs, "Deployment")
    statefulset = one(all_on_docs, "StatefulSet")
    assert statefulset["spec"]["replicas"] == 3
    env = {e["name"]: e for e in container(all_on_docs)["env"]}
    assert env["GITOPS_SHARD_COUNT"]["value"] == "3"
    assert env["POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    governing = [s for s in of_kind(all_on_docs, "Service") if s["metadata"]["name"] == statefulset["spec"]["serviceName"]]
    assert governing and governing[0]["spec"]["clusterIP"] == "None"


def test_each_shard_asks_its_siblings_at_their_pod_names_under_the_governing_service(all_on_docs: list[dict[str, Any]]) -> None:
    from exporter.cli import parse_peers

    statefulset = one(all_on_docs, "StatefulSet")
    name, governing = statefulset["metadata"]["name"], statefulset["spec"]["serviceName"]
    agent = container(all_on_docs)
    env = {e["name"]: e.get("value") for e in agent["env"]}
    port = next(p["containerPort"] for p in agent["ports"] if p["name"] == "http")
    fleet = parse_peers(None, (1, 3), env=env)
    assert fleet.peers == {i: f"http://{name}-{i}.{governing}.{NAMESPACE}.svc:{port}" for i in (0, 2)}


def test_one_shard_asks_no_siblings(default_docs: list[dict[str, Any]]) -> None:
    assert "GITOPS_PEER_URL_TEMPLATE" not in {e["name"] for e in container(default_docs)["env"]}


# --- Prometheus and Grafana integration --------------------------------------------------------


def test_service_monitor_and_prometheus_rule_only_when_enabled(default_docs: list[dict[str, Any]]) -> None:
    assert not of_kind(default_docs, "ServiceMonitor")
    assert not of_kind(default_docs, "PrometheusRule")
    assert not [d for d in of_kind(default_docs, "ConfigMap") if "grafana_dashboard" in d["metadata"]["labels"]]


def test_service_monitor_scrapes_the_metrics_service_once_as_the_job_the_alerts_select(all_on_docs: list[dict[str, Any]]) -> None:
    monitor = one(all_on_docs, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    selector = monitor["spec"]["selector"]["matchLabels"]
    selected = [s for s in of_kind(all_on_docs, "Service") if selector.items() <= s["metadata"]["labels"].items()]
    assert len(selected) == 1, "shards would be scraped twice through two Services"
    service = selected[0]
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    job = service["metadata"]["labels"][monitor["spec"]["jobLabel"]]
    alerts = (REPO / "rules" / "alerts.yaml").read_text()
    assert f'up{{job="{job}"}}' in alerts


def test_pods_carry_scrape_annotations_unless_a_service_monitor_scrapes_them(
    default_docs: list[dict[str, Any]], all_on_docs: list[dict[str, Any]]
) -> None:
    default_annotations = workload(default_docs)["spec"]["template"]["metadata"]["annotations"]
    assert default_annotations["prometheus.io/scrape"] == "true"
    assert default_annotations["prometheus.io/port"] == "8080"
    assert "prometheus.io/scrape" not in workload(all_on_docs)["spec"]["template"]["metadata"]["annotations"]


def test_prometheus_rule_holds_exactly_the_rules_in_the_repository(all_on_docs: list[dict[str, Any]]) -> None:
    expected = []
    for name in ("alerts.yaml", "recording.yaml"):
        expected += yaml.safe_load((REPO / "rules" / name).read_text())["groups"]
    assert one(all_on_docs, "PrometheusRule")["spec"]["groups"] == expected


@pytest.mark.parametrize("name", ["alerts.yaml", "recording.yaml"])
def test_chart_copy_of_rules_is_identical_to_rules_dir(name: str) -> None:
    assert (CHART / "files" / "rules" / name).read_bytes() == (REPO / "rules" / name).read_bytes(), (
        f"copy rules/{name} to {CHART.relative_to(REPO)}/files/rules/"
    )


def test_chart_copies_of_dashboards_are_identical_to_grafana_dir() -> None:
    originals = {p.name: p.read_bytes() for p in (REPO / "grafana").glob("*.json")}
    copies = {p.name: p.read_bytes() for p in (CHART / "files" / "dashboards").glob("*.json")}
    assert copies == originals, f"copy grafana/*.json to {CHART.relative_to(REPO)}/files/dashboards/"


def test_each_dashboard_is_a_config_map_the_grafana_sidecar_picks_up(all_on_docs: list[dict[str, Any]]) -> None:
    maps = [d for d in of_kind(all_on_docs, "ConfigMap") if d["metadata"]["labels"].get("grafana_dashboard") == "1"]
    shipped = {}
    for config_map in maps:
        ((key, text),) = config_map["data"].items()
        shipped[key] = json.loads(text)
    expected = {p.name: json.loads(p.read_text()) for p in (REPO / "grafana").glob("*.json")}
    assert shipped == expected


# --- the install guide ------------------------------------------------------------------------

INSTALL_GUIDE = (REPO / "docs" / "install.md").read_text()


def _guide_values() -> dict[str, Any]:
    blocks = re.findall(r"```yaml\n# my-values\.yaml\n(.*?)```", INSTALL_GUIDE, re.S)
    assert len(blocks) == 1, "docs/install.md should hold one ```yaml block starting with '# my-values.yaml'"
    values: dict[str, Any] = yaml.safe_load(blocks[0])
    return values


def test_install_guide_values_render_and_the_agent_loads_their_config() -> None:
    from exporter.wiring import parse_config

    docs = render(_guide_values())
    (text,) = [d["data"]["config.yaml"] for d in of_kind(docs, "ConfigMap") if "config.yaml" in d["data"]]
    config = parse_config(text, "/etc/gitops-drift-exporter/config.yaml")
    assert [app.name for app in config.apps] == ["shop"]
    mounts = {m["mountPath"] for m in container(docs)["volumeMounts"]}
    for channel in config.notifications.channels:
        assert channel.webhook_url_file and any(channel.webhook_url_file.startswith(m + "/") for m in mounts)
    for repository in config.repositories:
        assert repository.token_file and any(repository.token_file.startswith(m + "/") for m in mounts)


def test_install_guide_commands_install_the_chart_and_reach_its_service() -> None:
    section = INSTALL_GUIDE.split("## Install in three commands", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the install section has no sh block"
    commands = [c for c in block.group(1).splitlines() if c]
    assert len(commands) == 3
    install = shlex.split(commands[1])
    assert install[:2] == ["helm", "install"]
    release, chart_path = install[2], install[3]
    assert chart_path.endswith("/helm/gitops-drift-exporter")
    namespace = install[install.index("--namespace") + 1]
    forward = shlex.split(commands[2])
    assert forward[forward.index("--namespace") + 1] == namespace
    service = next(a for a in forward if a.startswith("svc/")).removeprefix("svc/")
    with helm.Chart.load(CHART) as loaded:
        manifests = loaded.render(_guide_values(), name=release, namespace=namespace)
    services = [
        d for p, t in manifests.items() if p.endswith(".yaml")
        for d in yaml.safe_load_all(t) if isinstance(d, dict) and d.get("kind") == "Service"
    ]
    assert service in {s["metadata"]["name"] for s in services}
