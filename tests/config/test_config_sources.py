"""Chart sources and multi-source apps in the config file, and what users are told when they are wrong."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from exporter.config import ConfigError
from exporter.config_types import FluxAppSource
from exporter.wiring import load_config


def load(tmp_path: Path, apps: str, extra: str = ""):
    path = tmp_path / "config.yaml"
    path.write_text("clusters:\n  - name: prod\n" + textwrap.dedent(extra) + "apps:\n" +
                    textwrap.indent(textwrap.dedent(apps), "  "))
    return load_config(str(path))


def errors(tmp_path: Path, apps: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, apps)
    return [e.split(":", 1)[1] for e in info.value.errors]


def test_a_chart_from_a_helm_repository_is_a_helm_source_with_its_version_range(tmp_path):
    config = load(tmp_path, """\
        - name: web
          source: {repoURL: https://charts.example.com, chart: web, targetRevision: ^1.4.0,
                   helm: {valueFiles: [values-prod.yaml]}}
          destination: {cluster: prod}
    """)
    source = config.apps[0].source
    assert (source.repo_url, source.chart, source.target_revision, source.type) == \
        ("https://charts.example.com", "web", "^1.4.0", "helm")
    assert source.helm.value_files == ["values-prod.yaml"]


def test_a_chart_without_a_target_revision_follows_the_newest_stable_version(tmp_path):
    config = load(tmp_path, """\
        - name: web
          source: {repoURL: "oci://registry.example.com/charts", chart: web}
          destination: {cluster: prod}
    """)
    assert config.apps[0].source.target_revision == "*"


def test_sources_keep_their_order_and_the_first_is_the_app_source(tmp_path):
    config = load(tmp_path, """\
        - name: web
          sources:
            - repoURL: https://charts.example.com
              chart: web
              targetRevision: 1.2.3
              helm: {valueFiles: [$values/env/prod/web.yaml]}
            - {repoURL: https://git.example.com/values.git, targetRevision: main, ref: values}
          destination: {cluster: prod}
    """)
    app = config.apps[0]
    assert [s.chart for s in app.sources] == ["web", None]
    assert app.more_sources[0].ref == "values"
    assert [s.renders for s in app.sources] == [True, False]


def test_a_value_file_naming_an_unknown_ref_is_refused_with_the_refs_there_are(tmp_path):
    assert errors(tmp_path, """\
        - name: web
          sources:
            - {repoURL: https://charts.example.com, chart: web, helm: {valueFiles: [$valeus/prod.yaml]}}
            - {repoURL: https://git.example.com/values.git, ref: values}
          destination: {cluster: prod}
    """) == ["6: apps[0].sources[0].helm.valueFiles: '$valeus/prod.yaml' names no source: "
             "unknown ref 'valeus'; did you mean 'values'?"]


@pytest.mark.parametrize(("source", "message"), [
    ("{repoURL: https://git.example.com/deploy.git, chart: web, path: charts/web}",
     "apps[0].source.path: does not apply to a chart source (the chart is the whole source)"),
    ("{repoURL: git@github.com:org/charts.git, chart: web}",
     "apps[0].source.repoURL: a chart source needs a Helm repository (http:// or https://) or an OCI registry "
     "(oci://), not 'git@github.com:org/charts.git'"),
    ("{repoURL: https://charts.example.com, chart: org/web}",
     "apps[0].source.chart: must be a chart name, not 'org/web'"),
    ("{repoURL: https://git.example.com/values.git, ref: 'my values'}",
     "apps[0].source.ref: must be a name of letters, digits, '-' and '_', not 'my values'"),
])
def test_a_malformed_chart_source_is_named_by_its_field(tmp_path, source, message):
    found = errors(tmp_path, f"- name: web\n  source: {source}\n  destination: {{cluster: prod}}\n")
    assert [e.split(": ", 1)[1] for e in found] == [message]


def test_source_and_sources_together_are_refused(tmp_path):
    assert [e.split(": ", 1)[1] for e in errors(tmp_path, """\
        - name: web
          source: {repoURL: https://git.example.com/a.git}
          sources: [{repoURL: https://git.example.com/b.git}]
          destination: {cluster: prod}
    """)] == ["apps[0].sources: set either source or sources, not both"]


def test_sources_that_only_lend_files_render_nothing_and_are_refused(tmp_path):
    assert [e.split(": ", 1)[1] for e in errors(tmp_path, """\
        - name: web
          sources: [{repoURL: https://git.example.com/values.git, ref: values}]
          destination: {cluster: prod}
    """)] == ["apps[0].sources: every source only lends files (ref without path or chart); nothing would be rendered"]


def test_a_chart_repository_may_be_plain_http_with_its_password_in_a_file(tmp_path):
    (tmp_path / "pw").write_text("x")
    config = load(tmp_path, """\
        - name: web
          source: {repoURL: "oci://127.0.0.1:5000/charts", chart: web}
          destination: {cluster: prod}
    """, extra=f"""\
        repositories:
          - {{url: "oci://127.0.0.1:5000", username: reader, tokenFile: {tmp_path / 'pw'}, plainHttp: true}}
    """)
    creds = config.repositories[0]
    assert (creds.plain_http, creds.insecure_skip_tls_verify, creds.username) == (True, False, "reader")


def test_kustomize_build_options_are_split_and_kept_per_source_and_for_all(tmp_path):
    config = load(tmp_path, """\
        - name: web
          source: {repoURL: https://git.example.com/a.git, path: k,
                   kustomize: {buildOptions: "--enable-helm --load-restrictor=LoadRestrictionsNone"}}
          destination: {cluster: prod}
    """, extra="kustomize: {buildOptions: --enable-helm}\n")
    source = config.apps[0].source
    assert (source.type, source.kustomize_build_options) == \
        ("kustomize", ["--enable-helm", "--load-restrictor", "LoadRestrictionsNone"])
    assert config.kustomize_build_options == ["--enable-helm"]


@pytest.mark.parametrize(("options", "message"), [
    ("--enable-exec", "'--enable-exec' is not passed to kustomize; allowed: --enable-helm, --enable-managedby-label, "
                      "--helm-api-versions, --helm-debug, --helm-kube-version, --load-restrictor, --reorder"),
    ("--load-restrictor LoadRestrictionsAny",
     "--load-restrictor must be one of LoadRestrictionsRootOnly, LoadRestrictionsNone, not 'LoadRestrictionsAny'"),
    ("--helm-kube-version", "'--helm-kube-version' needs a value"),
])
def test_kustomize_build_options_that_would_run_code_or_are_malformed_are_refused(tmp_path, options, message):
    found = errors(tmp_path, f"""\
        - name: web
          source: {{repoURL: https://git.example.com/a.git, kustomize: {{buildOptions: "{options}"}}}}
          destination: {{cluster: prod}}
    """)
    assert [e.split(": ", 1)[1] for e in found] == [f"apps[0].source.kustomize.buildOptions: {message}"]


def test_argo_cd_app_sources_name_their_cluster_namespace_selector_and_destination_map(tmp_path):
    config = load(tmp_path, "[]\n", extra="""\
        appSources:
          - argocd:
              cluster: prod
              namespace: gitops
              labelSelector: team=shop
              destinations: {"https://10.0.0.1:6443": prod}
    """)
    [source] = config.app_sources
    assert (source.cluster, source.namespace, source.label_selector, source.destinations) == \
        ("prod", "gitops", "team=shop", {"https://10.0.0.1:6443": "prod"})


def test_an_app_source_on_an_unknown_cluster_is_refused_with_the_clusters_there_are(tmp_path):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, "[]\n", extra="appSources:\n  - argocd: {cluster: prdo}\n")
    assert [e.split(": ", 2)[2] for e in info.value.errors] == ["unknown cluster 'prdo'; did you mean 'prod'?"]


def test_flux_app_sources_name_their_cluster_namespace_and_selector(tmp_path):
    config = load(tmp_path, "[]\n", extra="""\
        appSources:
          - flux: {cluster: prod, namespace: flux-system, labelSelector: team=shop}
          - flux: {cluster: prod}
    """)
    first, every = config.app_sources
    assert isinstance(first, FluxAppSource) and isinstance(every, FluxAppSource)
    assert (first.cluster, first.namespace, first.label_selector) == ("prod", "flux-system", "team=shop")
    assert every.namespace == "", "no namespace reads Kustomizations in every namespace"


def test_a_flux_source_maps_names_and_refuses_a_key_that_is_not_namespace_slash_name(tmp_path):
    config = load(tmp_path, "[]\n", extra="appSources:\n  - flux: {cluster: prod, names: {flux-system/podinfo: podinfo}}\n")
    assert config.app_sources[0].names == {"flux-system/podinfo": "podinfo"}
    with pytest.raises(ConfigError) as info:
        load(tmp_path, "[]\n", extra="appSources:\n  - flux: {cluster: prod, names: {podinfo: web}}\n")
    assert info.value.errors[0].endswith(
        "appSources[0].flux.names.podinfo: must be NAMESPACE/NAME of a Kustomization or HelmRelease")


def test_a_flux_source_refuses_argo_cd_destinations_by_name(tmp_path):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, "[]\n", extra="appSources:\n  - flux: {cluster: prod, destinations: {a: prod}}\n")
    assert "appSources[0].flux: unknown field 'destinations'" in info.value.errors[0]


def test_an_app_source_naming_both_argo_cd_and_flux_is_refused(tmp_path):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, "[]\n", extra="appSources:\n  - {flux: {cluster: prod}, argocd: {cluster: prod}}\n")
    assert [e.split(": ", 2)[2] for e in info.value.errors] == ["must have exactly one of argocd, flux"]


# --- kubeconfig problems are named at load, with the field's line ---------------------------------

KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: admin
contexts:
  - {name: admin, context: {cluster: prod, user: admin}}
  - {name: reader, context: {cluster: prod, user: reader}}
clusters:
  - {name: prod, cluster: {server: "https://127.0.0.1:6443"}}
users:
  - {name: admin, user: {token: x}}
"""


def cluster_errors(tmp_path, cluster: str) -> list[str]:
    path = tmp_path / "config.yaml"
    path.write_text(f"clusters:\n  - {cluster}\n")
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    return [e.removeprefix(f"{path}:") for e in info.value.errors]


def test_a_kubeconfig_that_does_not_exist_is_named_at_load(tmp_path):
    assert cluster_errors(tmp_path, "{name: prod, kubeconfig: kube/prod.yaml}") == [
        f"2: clusters[0].kubeconfig: kubeconfig {tmp_path}/kube/prod.yaml does not exist"]


def test_an_unreadable_kubeconfig_is_named_at_load(tmp_path):
    (tmp_path / "kube").mkdir()
    assert cluster_errors(tmp_path, "{name: prod, kubeconfig: kube}") == [
        f"2: clusters[0].kubeconfig: kubeconfig {tmp_path}/kube is a directory, not a file"]


def test_a_context_the_kubeconfig_lacks_is_named_with_the_contexts_it_has(tmp_path):
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    assert cluster_errors(tmp_path, "{name: prod, kubeconfig: kubeconfig, context: prod-admin}") == [
        f"2: clusters[0].context: kubeconfig {tmp_path}/kubeconfig has no context 'prod-admin' (contexts: admin, reader)"]


def test_a_context_whose_user_is_missing_is_named(tmp_path):
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    assert cluster_errors(tmp_path, "{name: prod, kubeconfig: kubeconfig, context: reader}") == [
        f"2: clusters[0].context: context 'reader' in kubeconfig {tmp_path}/kubeconfig names user 'reader', "
        "which the file does not define"]


def test_a_kubeconfig_that_is_not_yaml_says_where(tmp_path):
    (tmp_path / "kubeconfig").write_text("contexts: [\n")
    assert cluster_errors(tmp_path, "{name: prod, kubeconfig: kubeconfig}") == [
        f"2: clusters[0].kubeconfig: kubeconfig {tmp_path}/kubeconfig is not valid YAML at line 2, column 1: "
        "did not find expected node content"]


def test_a_flux_source_reads_its_sources_secrets_only_when_asked(tmp_path):
    config = load(tmp_path, "[]\n", extra="appSources:\n  - flux: {cluster: prod, readSourceSecrets: true}\n"
                                          "  - flux: {cluster: prod}\n")
    asked, default = config.app_sources
    assert isinstance(asked, FluxAppSource) and asked.read_source_secrets
    assert isinstance(default, FluxAppSource) and not default.read_source_secrets
    with pytest.raises(ConfigError) as info:
        load(tmp_path, "[]\n", extra="appSources:\n  - flux: {cluster: prod, readSourceSecrets: sometimes}\n")
    assert "appSources[0].flux.readSourceSecrets" in info.value.errors[0]
