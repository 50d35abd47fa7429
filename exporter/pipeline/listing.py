"""The app list: the apps the config names, those app generators make from a repository's
directories, and those Argo CD's Applications and Flux's Kustomizations describe.

A generator or an Argo CD source that fails keeps the apps it made last time, so they stay
visible (as Unknown once evaluated) rather than vanishing from dashboards; the failure is
remembered, so ``check`` can refuse to call a partial list "all good" and ``/readyz`` can say
that a source has never listed its apps.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from exporter.config_types import AppConfig, Config, FluxAppSource, RepoCredentials, SyncWindowConfig
from exporter.generators import expand, without_clashes
from exporter.git import GitCache
from exporter.pipeline.argo_apps import AppSourceError, read_applications
from exporter.pipeline.clusters import Cluster
from exporter.pipeline.flux_apps import read_flux
from exporter.sharding import shard_of
from exporter.windows import WindowSchedule

log = logging.getLogger(__name__)


class AppLister:
    """Works the app list out again on start, reload and Argo CD events."""

    def __init__(self, git: GitCache, clusters: Mapping[str, Cluster], windows: WindowSchedule,
                 shard: tuple[int, int] | None) -> None:
        self.git = git
        self.clusters = clusters
        self.windows = windows
        self.shard = shard
        #: Source origin (a generator's or an appSources entry's file:line) -> why it failed last.
        self.errors: dict[str, str] = {}
        #: Origins that have listed their apps at least once.
        self.listed: set[str] = set()
        self._made: dict[str, tuple[list[AppConfig], list[SyncWindowConfig]]] = {}

    def _failed(self, origin: str, reason: str) -> tuple[list[AppConfig], list[SyncWindowConfig]]:
        log.error("%s", reason)
        self.errors[origin] = reason
        return self._made.get(origin, ([], []))

    def _worked(self, origin: str, made: tuple[list[AppConfig], list[SyncWindowConfig]]) -> None:
        self._made[origin] = made
        self.listed.add(origin)
        self.errors.pop(origin, None)

    async def apps(self, config: Config) -> list[AppConfig]:
        """Every app this agent (or shard) evaluates; updates the windows with Argo CD's."""
        apps = list(config.apps)
        for gen in config.generators:
            try:
                made = await expand(gen, self.git)
                self._worked(gen.origin, (made, []))
            except Exception as exc:
                made = self._failed(gen.origin, f"app generator {gen.origin}: {exc}")[0]
            apps += without_clashes(apps, made)
        windows = list(config.windows)
        discovered: list[RepoCredentials] = []
        for source in config.app_sources:
            found: tuple[list[AppConfig], list[SyncWindowConfig]]
            try:
                if isinstance(source, FluxAppSource):
                    flux = await read_flux(source, self.clusters)
                    found = (flux.apps, [])
                    discovered += flux.credentials
                else:
                    found = await read_applications(source, self.clusters, [c.name for c in config.clusters])
                self._worked(source.origin, found)
            except AppSourceError as exc:
                found = self._failed(source.origin, str(exc))
            apps += without_clashes(apps, found[0])
            windows += found[1]
        if config.app_sources:
            self.windows.replace(windows)
            self._use_credentials(discovered)
        if self.shard is not None:
            index, count = self.shard
            apps = [a for a in apps if shard_of(a.name, count) == index]
        return apps

    def _use_credentials(self, discovered: list[RepoCredentials]) -> None:
        """Put the credentials read from Flux sources' Secrets in place of the last ones, in the
        list the Git, chart and artifact caches share (in place: they hold the same list). A
        source whose Secret failed to read this time keeps none."""
        shared = self.git.credentials
        shared[:] = [c for c in shared if not c.secret] + discovered

    def never_listed(self) -> str | None:
        """Why a source that has never listed its apps failed; None when every one has."""
        return next((reason for origin, reason in self.errors.items() if origin not in self.listed), None)
