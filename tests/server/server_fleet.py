"""A small fleet of apps held in real ``AppConfig``/``AppStatus`` dataclasses: the server tests' data.

``FleetSource`` is the ``StatusSource`` the agent implements, reduced to a dict the test can edit:
the server under test reads it exactly as it reads the agent.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
from aiohttp import web

from exporter.config_types import AppConfig, Destination, SourceConfig
from exporter.history import Transition
from exporter.model import (
    AppState,
    AppStatus,
    Commit,
    FieldDiff,
    Health,
    HealthResult,
    ObjectDiff,
    ObjectKey,
    ObjectStatus,
    Sync,
)
from exporter.server import normalise_repo_url

SHA_A = "3f5e2a9c1b7d4e6f8a0b2c4d6e8f0a1b3c5d7e9f"
SHA_B = "9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c"
#: What ``git show`` says of the two commits.
SUBJECTS = {SHA_A: ("Raise the payments timeout to 90s", "Dana Ruiz"),
            SHA_B: ("Ingest: three replicas for the backfill", "Lee Okafor")}


def app_config(name: str, *, project: str = "shop", cluster: str = "prod", namespace: str = "",
               labels: dict[str, str] | None = None,
               repo: str = "https://github.com/acme/deploy.git") -> AppConfig:
    return AppConfig(
        name=name,
        source=SourceConfig(repo_url=repo, target_revision="main", path=f"apps/{name}"),
        destination=Destination(cluster=cluster, namespace=namespace or name),
        project=project,
        labels=labels or {},
    )


def app_status(name: str, state: AppState, *, reason: str = "", since_ago: float = 300.0,
               objects: list[ObjectStatus] | None = None, frozen: bool = False,
               revision: str | None = SHA_A) -> AppStatus:
    health = {AppState.DEGRADED: Health.DEGRADED, AppState.PROGRESSING: Health.PROGRESSING,
              AppState.SUSPENDED: Health.SUSPENDED, AppState.MISSING: Health.MISSING,
              AppState.UNKNOWN: Health.UNKNOWN}.get(state, Health.HEALTHY)
    sync = {AppState.OUT_OF_SYNC: Sync.OUT_OF_SYNC, AppState.MISSING: Sync.OUT_OF_SYNC,
            AppState.UNKNOWN: Sync.UNKNOWN}.get(state, Sync.SYNCED)
    good = state in (AppState.HEALTHY, AppState.SUSPENDED)
    now = time.time()
    return AppStatus(
        name=name, state=state, sync=sync, health=health, reason=reason or f"all objects {state}",
        revision=revision, target_revision="main", objects=objects or [],
        since=now - since_ago, bad_since=None if good else now - since_ago, evaluated_at=now - 5,
        frozen=frozen,
        commit=Commit(revision, *SUBJECTS[revision], now - 3600) if revision in SUBJECTS else None,
    )


def deployment(name: str, namespace: str, *, health: Health = Health.HEALTHY, message: str = "",
               image_live: str | None = None) -> ObjectStatus:
    desired = {"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": name, "namespace": namespace},
               "spec": {"template": {"spec": {"containers": [{"name": name, "image": f"{name}:1.4.0"}]}}}}
    live = None
    diffs: list[FieldDiff] = []
    if image_live:
        live = {**desired, "spec": {"template": {"spec": {"containers": [{"name": name, "image": image_live}]}}}}
        diffs.append(FieldDiff("/spec/template/spec/containers/0/image", f"{name}:1.4.0", image_live,
                               reason="changed live by kubectl-set", direction="live"))
    return ObjectStatus(
        key=ObjectKey("apps", "Deployment", namespace, name), api_version="apps/v1", exists=True,
        sync=Sync.OUT_OF_SYNC if diffs else Sync.SYNCED, health=HealthResult(health, message, "specific"),
        diff=ObjectDiff(
            sync=Sync.OUT_OF_SYNC if diffs else Sync.SYNCED, differences=diffs,
            ignored=[FieldDiff("/spec/replicas", 2, 5, ignored_by="managedFieldsManagers: kube-controller-manager")],
            desired_view=desired, live_view=live or desired),
    )


def service(name: str, namespace: str, *, exists: bool = True) -> ObjectStatus:
    return ObjectStatus(
        key=ObjectKey("", "Service", namespace, name), api_version="v1", exists=exists,
        sync=Sync.SYNCED if exists else Sync.OUT_OF_SYNC,
        health=HealthResult(Health.HEALTHY if exists else Health.MISSING, "", "fallback" if exists else ""),
    )


def fleet() -> dict[str, tuple[AppConfig, AppStatus]]:
    """Seven apps, one per state, across two projects and two clusters."""
    apps = [
        (app_config("checkout", labels={"team": "payments", "tier": "web"}),
         app_status("checkout", AppState.HEALTHY, since_ago=7200,
                    objects=[deployment("checkout", "checkout"), service("checkout", "checkout")])),
        (app_config("payments-api", labels={"team": "payments"}),
         app_status("payments-api", AppState.DEGRADED, since_ago=420,
                    reason="Deployment payments-api: ProgressDeadlineExceeded",
                    objects=[deployment("payments-api", "payments-api", health=Health.DEGRADED,
                                        message="ReplicaSet has timed out progressing.",
                                        image_live="payments-api:1.3.9"),
                             service("payments-api", "payments-api")])),
        (app_config("search", project="platform", cluster="staging", labels={"team": "search"}),
         app_status("search", AppState.OUT_OF_SYNC, reason="Deployment search: 1 field differs", frozen=True,
                    objects=[deployment("search", "search", image_live="search:edge")])),
        (app_config("ingest", project="platform", labels={"team": "data"}),
         app_status("ingest", AppState.PROGRESSING, reason="Deployment ingest: 1 of 3 replicas updated",
                    since_ago=40, revision=SHA_B)),
        (app_config("billing-worker", cluster="staging", labels={"team": "payments"}),
         app_status("billing-worker", AppState.MISSING, reason="Service billing-worker is missing",
                    objects=[service("billing-worker", "billing-worker", exists=False)])),
        (app_config("legacy", project="platform", repo="git@gitlab.example.com:ops/legacy.git"),
         app_status("legacy", AppState.UNKNOWN, reason="git fetch failed: repository not found", revision=None)),
        (app_config("nightly-batch", project="platform", labels={"team": "data"}),
         app_status("nightly-batch", AppState.SUSPENDED, reason="CronJob nightly-batch is suspended")),
    ]
    return {config.name: (config, status) for config, status in apps}


@dataclass
class FleetSource:
    """An editable ``StatusSource``: tests change ``apps`` and the server sees the next snapshot."""

    apps: dict[str, tuple[AppConfig, AppStatus]] = field(default_factory=fleet)
    is_ready: bool = True
    freeze_list: list[dict[str, Any]] = field(default_factory=list)
    pushes: list[tuple[list[str], str | None]] = field(default_factory=list)
    #: State changes by app, as the agent's history book keeps them.
    histories: dict[str, list[Transition]] = field(default_factory=dict)

    def snapshot(self) -> Mapping[str, tuple[AppConfig, AppStatus]]:
        return dict(self.apps)

    def ready(self) -> bool:
        return self.is_ready

    def not_ready_reason(self) -> str | None:
        return None if self.is_ready else "caches have not synced yet"

    def freezes(self) -> list[dict[str, Any]]:
        return list(self.freeze_list)

    def history_of(self, name: str) -> list[Transition]:
        return list(self.histories.get(name, []))

    async def on_git_push(self, repo_urls: list[str], branch: str | None) -> int:
        self.pushes.append((repo_urls, branch))
        pushed = {normalise_repo_url(u) for u in repo_urls}
        return sum(1 for config, _ in self.apps.values()
                   if normalise_repo_url(config.source.repo_url) in pushed
                   and branch in (None, config.source.target_revision))

    def set_state(self, name: str, state: AppState, reason: str) -> None:
        config, status = self.apps[name]
        self.apps[name] = (config, replace(status, state=state, reason=reason, since=time.time()))


@dataclass
class Served:
    """A running server: its base URL, the source behind it and a client session."""

    url: str
    source: FleetSource
    session: aiohttp.ClientSession


def shard_sources(count: int) -> list[FleetSource]:
    """The test fleet split as a sharded agent splits it: each source holds only its shard's apps."""
    from exporter.sharding import shard_of

    return [FleetSource(apps={name: entry for name, entry in fleet().items() if shard_of(name, count) == index})
            for index in range(count)]


@dataclass
class Shards:
    """Sibling servers on 127.0.0.1, each serving one shard's apps and asking the others for theirs."""

    urls: list[str]
    sources: list[FleetSource]
    runners: list[web.AppRunner]
    session: aiohttp.ClientSession

    def served(self, index: int) -> Served:
        return Served(self.urls[index], self.sources[index], self.session)

    async def stop(self, index: int) -> None:
        """Take one shard down: its port then refuses connections, as a crashed pod's would."""
        await self.runners[index].cleanup()


async def start_shards(sources: list[FleetSource], *, timeout: float = 3.0, page_refresh_seconds: float = 5.0,
                       peer_urls: dict[int, str] | None = None) -> tuple[list[str], list[web.AppRunner]]:
    """Serve ``sources[i]`` as shard i of ``len(sources)``; ``peer_urls`` replaces some peers' addresses.

    Every socket is bound before any server starts, so each shard knows its siblings' ports from
    the beginning, as it knows their DNS names in a cluster.
    """
    from exporter.metrics import REGISTRY
    from exporter.server import build_app
    from exporter.server.fleet import Fleet

    count = len(sources)
    sockets = []
    for _ in sources:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
    urls = [f"http://127.0.0.1:{sock.getsockname()[1]}" for sock in sockets]
    peers = {i: url for i, url in enumerate(urls)} | (peer_urls or {})
    runners = []
    for index, (source, sock) in enumerate(zip(sources, sockets, strict=True)):
        fleet = Fleet(index, count, {i: url for i, url in peers.items() if i != index}, timeout)
        app = build_app(source, metrics_registry=REGISTRY, page_refresh_seconds=page_refresh_seconds, fleet=fleet)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        runners.append(runner)
    return urls, runners
