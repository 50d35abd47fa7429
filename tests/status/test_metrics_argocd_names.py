"""``argocd_app_info``: Argo CD's family and labels, opt-in, so Argo CD's alert rules run unchanged."""

from __future__ import annotations

from dataclasses import replace

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from exporter.config import parse_config
from exporter.config_types import AppConfig, ArgoCDOrigin, Destination, SourceConfig
from exporter.metrics import AppStatusCollector
from exporter.metrics.argocd import ArgoCDNames, argocd_repo
from exporter.model import AppState, AppStatus, Health, Sync

NAMES = ArgoCDNames(servers={"prod": "https://prod.example.com:6443"})


def app(name: str = "web", *, origin: ArgoCDOrigin | None = None,
        repo: str = "https://git.example.com/Shop/Deploy.git") -> AppConfig:
    return AppConfig(name, SourceConfig(repo, path="apps/web"), Destination("prod", "shop"), project="payments",
                     argocd=origin)


def status(name: str = "web", state: AppState = AppState.OUT_OF_SYNC, sync: Sync = Sync.OUT_OF_SYNC,
           health: Health = Health.HEALTHY) -> AppStatus:
    return AppStatus(name, state, sync, health, "", revision="f00d", since=1.0, evaluated_at=2.0)


def info(text: str) -> list[dict[str, str]]:
    return [dict(s.labels) for f in text_string_to_metric_families(text) if f.name == "argocd_app_info"
            for s in f.samples if s.value == 1]


def test_the_family_is_not_exported_unless_switched_on():
    snapshot = {"web": (app(), status())}
    assert info(AppStatusCollector(lambda: snapshot, lambda: True).text()) == []


def test_an_app_from_the_config_carries_argo_cd_s_labels_and_values():
    snapshot = {"web": (app(), status())}
    [labels] = info(AppStatusCollector(lambda: snapshot, lambda: True, argocd=lambda: NAMES).text())
    assert labels == {"namespace": "argocd", "name": "web", "project": "payments", "autosync_enabled": "false",
                      "repo": "https://git.example.com/shop/deploy", "dest_server": "https://prod.example.com:6443",
                      "dest_namespace": "shop", "sync_status": "OutOfSync", "health_status": "Healthy",
                      "operation": ""}


def test_an_app_read_from_an_application_keeps_its_namespace_server_and_autosync():
    origin = ArgoCDOrigin(namespace="argocd-apps", server="https://kubernetes.default.svc", autosync=True)
    snapshot = {"web": (app(origin=origin), status(state=AppState.DEGRADED, sync=Sync.SYNCED,
                                                    health=Health.DEGRADED))}
    [labels] = info(AppStatusCollector(lambda: snapshot, lambda: True, argocd=lambda: NAMES).text())
    assert (labels["namespace"], labels["dest_server"], labels["autosync_enabled"]) == \
        ("argocd-apps", "https://kubernetes.default.svc", "true")
    assert (labels["sync_status"], labels["health_status"]) == ("Synced", "Degraded")


def test_the_registry_encoding_and_the_pre_rendered_text_agree_with_the_family_on():
    snapshot = {"web": (app(), status()), "api": (app("api"), status("api", AppState.HEALTHY, Sync.SYNCED))}
    collector = AppStatusCollector(lambda: snapshot, lambda: True, argocd=lambda: NAMES)
    registry = CollectorRegistry()
    registry.register(collector)
    assert sorted(map(sorted, map(dict.items, info(generate_latest(registry).decode())))) == \
        sorted(map(sorted, map(dict.items, info(collector.text()))))


def test_a_status_change_moves_the_sample_to_the_new_label_values():
    snapshot = {"web": (app(), status())}
    collector = AppStatusCollector(lambda: snapshot, lambda: True, argocd=lambda: NAMES)
    collector.text()
    snapshot["web"] = (snapshot["web"][0], replace(status(), state=AppState.HEALTHY, sync=Sync.SYNCED))
    assert [labels["sync_status"] for labels in info(collector.text())] == ["Synced"]


def test_switching_the_family_on_after_a_scrape_encodes_every_app_again():
    snapshot = {"web": (app(), status())}
    names: list[ArgoCDNames | None] = [None]
    collector = AppStatusCollector(lambda: snapshot, lambda: True, argocd=lambda: names[0])
    assert info(collector.text()) == []
    names[0] = NAMES
    assert [labels["name"] for labels in info(collector.text())] == ["web"]


@pytest.mark.parametrize(("url", "label"), [
    ("https://github.com/Org/Repo.git", "https://github.com/org/repo"),
    ("https://x-access-token:s3cr3t@github.com/org/repo.git", "https://github.com/org/repo"),
    ("git@github.com:Org/Repo.git", "git@github.com/org/repo"),
    ("ssh://git@gitlab.example.com/group/repo.git", "git@gitlab.example.com/group/repo"),
    ("https://gitea.example.com/org/repo", "https://gitea.example.com/org/repo"),
])
def test_the_repo_label_is_the_url_as_argo_cd_normalises_it_without_credentials(url, label):
    assert argocd_repo(url) == label


def test_the_config_switches_the_family_on_and_names_the_namespace():
    config = parse_config("metrics:\n  argocdAppInfo: true\n  argocdNamespace: gitops\n")
    assert (config.argocd_metrics, config.argocd_namespace) == (True, "gitops")


def test_a_misspelt_metrics_key_names_the_field_and_line():
    with pytest.raises(Exception) as caught:
        parse_config("metrics:\n  argocdAppinfo: true\n", "c.yaml")
    assert "c.yaml:2" in str(caught.value) and "argocdAppinfo" in str(caught.value)
