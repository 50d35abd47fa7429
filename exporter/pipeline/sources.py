"""Keeping the apps' sources current: Git repositories, chart repositories and OCI artifacts
polled on the same interval (or a push webhook), and only the apps that read a moved source evaluated again.

A source that cannot be read makes the apps reading it Unknown with the reason (what they last
rendered may no longer be what the source says); when it recovers they are evaluated again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from exporter.config_types import SourceConfig
from exporter.git import GitError
from exporter.model import Blind
from exporter.pipeline.desired import SOURCE_ERRORS, AppRuntime, Revisions, under
from exporter.pipeline.table import AppTable
from exporter.urls import normalise_repo_url

log = logging.getLogger(__name__)


def _git_urls(rt: AppRuntime) -> set[str]:
    return {s.repo_url for s in rt.config.sources if s.from_git}


def _chart_urls(rt: AppRuntime) -> set[str]:
    return {s.repo_url for s in rt.config.sources if s.chart is not None}


def _artifact_urls(rt: AppRuntime) -> set[str]:
    return {s.repo_url for s in rt.config.sources if s.artifact is not None}


def _plain_directory(rt: AppRuntime) -> bool:
    """One Git source rendered as plain manifests: a commit that misses its path changes nothing."""
    return not rt.config.more_sources and rt.config.source.from_git and rt.config.source.type == "directory"


class SourceWatch:
    """Polls the apps' repositories, remembers which cannot be read, and marks the apps to evaluate."""

    def __init__(self, revisions: Revisions, apps: AppTable, mark: Callable[[str], None]) -> None:
        self.revisions = revisions
        self._table = apps
        self._mark = mark
        #: Repository URL -> why it cannot be read now.
        self.errors: dict[str, str] = {}

    def error_for(self, rt: AppRuntime) -> str | None:
        """Why the app cannot be evaluated against its sources now, or None."""
        found = next((self.errors[s.repo_url] for s in rt.config.sources if s.repo_url in self.errors), None)
        return Blind(found) if found is not None else None

    def _readers(self, url: str) -> list[AppRuntime]:
        return [rt for rt in self._table.runtimes() if any(s.repo_url == url for s in rt.config.sources)]

    async def poll(self) -> None:
        """Fetch every Git repository, and read every chart repository's versions and every OCI
        artifact's tags and digests again."""
        apps = self._table.runtimes()
        for url in sorted(set().union(*map(_git_urls, apps))):
            try:
                moved = await self.revisions.git.changed(url)
            except GitError as exc:
                self.failed(url, str(exc))
                continue
            if self.recovered(url) or moved:
                await self.refresh(url)
        for urls, cache in ((_chart_urls, self.revisions.charts), (_artifact_urls, self.revisions.artifacts)):
            for url in sorted(set().union(*map(urls, apps))):
                try:
                    moved = await cache.changed(url)
                except SOURCE_ERRORS as exc:
                    self.failed(url, str(exc))
                    continue
                if self.recovered(url) or moved:
                    await self.refresh(url)

    async def on_push(self, repo_urls: list[str], branch: str | None) -> int:
        """A push webhook: fetch the named Git repositories now; the number of apps on that branch."""
        wanted = {normalise_repo_url(u) for u in repo_urls}
        known: dict[str, bool] = {}  # thousands of apps name a handful of URLs

        def pushed(source: SourceConfig) -> bool:
            if not source.from_git:
                return False
            hit = known.get(source.repo_url)
            if hit is None:
                hit = known[source.repo_url] = normalise_repo_url(source.repo_url) in wanted
            return hit

        hit = [rt for rt in self._table.runtimes() for s in rt.config.sources
               if pushed(s) and (branch is None or s.target_revision in (branch, "HEAD"))]
        urls = {s.repo_url for rt in hit for s in rt.config.sources if pushed(s)}
        for url in sorted(urls):
            try:
                await self.revisions.git.fetch(url)
            except GitError as exc:
                self.failed(url, str(exc))
                continue
            self.recovered(url)
            await self.refresh(url)
        return len({rt.config.name for rt in hit})

    def failed(self, url: str, reason: str) -> None:
        log.warning("%s", reason)
        self.errors[url] = reason
        for rt in self._readers(url):
            self._mark(rt.config.name)

    def recovered(self, url: str) -> bool:
        """Clear a read error; True when there was one (its apps need evaluating again)."""
        if self.errors.pop(url, None) is None:
            return False
        for rt in self._readers(url):
            self._mark(rt.config.name)
        return True

    async def refresh(self, url: str) -> None:
        """After ``url`` moved: evaluate the apps whose revision changed; a plain-manifest app whose
        path no commit touched renders to the same objects, so it keeps its verdict and only shows
        the new revision. With many apps in one repository this keeps a push from re-rendering the
        whole fleet, and a new chart version re-renders only the apps whose range takes it."""
        self.revisions.forget(url)
        changed: dict[tuple[str, str], set[str] | None] = {}
        moved_only: list[AppRuntime] = []
        for rt in self._readers(url):
            try:
                sha = await self.revisions.resolve(rt.config)
            except SOURCE_ERRORS:
                self._mark(rt.config.name)
                continue
            if sha == rt.sha:
                continue
            if rt.sha is None or rt.rendered_sha != rt.sha or not _plain_directory(rt) or rt.status is None:
                self._mark(rt.config.name)
                continue
            if (rt.sha, sha) not in changed:
                try:
                    changed[(rt.sha, sha)] = set(await self.revisions.git.changed_files(url, rt.sha, sha))
                except GitError:
                    changed[(rt.sha, sha)] = None
            files = changed[(rt.sha, sha)]
            if files is None or any(under(f, rt.config.source.path) for f in files):
                self._mark(rt.config.name)
                continue
            rt.sha = rt.rendered_sha = sha
            rt.commit = await self.revisions.commit(rt.config, sha)
            rt.status = replace(rt.status, revision=sha, commit=rt.commit)
            moved_only.append(rt)
        if moved_only:
            self._table.publish_runtimes(moved_only)
