"""What Git declares for each app: the commit its revision names, and that commit rendered.

Revisions are resolved once per repository fetch (``Revisions``), and each app keeps its rendered
objects until its commit changes (``AppRuntime``). A render that fails is not tried again on every
pass: the same commit waits ``RENDER_BACKOFF`` seconds, doubling up to ``RENDER_BACKOFF_CAP``, so a
template that times out costs one time limit now and then, not one per evaluation; a new commit
or a changed app definition renders at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exporter.backoff import exponential
from exporter.charts import ChartCache, ChartError, ChartVersion, with_dependencies, with_inflated_charts
from exporter.clock import Clock
from exporter.config_types import AppConfig, SourceConfig
from exporter.git import GitCache, GitError
from exporter.model import AppStatus, Blind, Commit, KubeObject, ObjectKey
from exporter.oci import ArtifactCache, ArtifactError, ArtifactVersion
from exporter.render import RenderError, chart_uses, render_packed, source_root
from exporter.render.helm import load_values
from exporter.render.packing import EMPTY, pack, unpack
from exporter.render.pool import in_thread

#: After a failed render, the same commit is tried again after this long, doubling up to the cap.
RENDER_BACKOFF = 10.0
RENDER_BACKOFF_CAP = 600.0


@dataclass
class AppRuntime:
    """What the agent remembers about one app between evaluations."""

    config: AppConfig
    sha: str | None = None
    rendered_sha: str | None = None
    #: The rendered objects, packed (:mod:`exporter.render.packing`): ``desired`` unpacks them.
    desired_packed: bytes = EMPTY
    desired_keys: frozenset[ObjectKey] = frozenset()
    #: What the app declares to its cluster's event index: its desired objects, and the object
    #: that deploys it with that object's source (apps read from Flux).
    declared_keys: frozenset[ObjectKey] = frozenset()
    status: AppStatus | None = None
    #: Live objects as the last evaluation saw them (the cache's own dicts, not copies), so a freeze
    #: report can say what an event changed.
    live_seen: dict[ObjectKey, KubeObject] = field(default_factory=dict)
    #: The last failed render: (commit, reason), how many in a row, and when to try that commit again.
    render_error: tuple[str, str] | None = None
    render_failures: int = 0
    render_retry_at: float = 0.0
    #: The last unexpected evaluation error, logged with its traceback once rather than every pass.
    internal_error: str | None = None
    #: The commit ``sha`` names (subject and author), for an app of one Git source.
    commit: Commit | None = None

    @property
    def desired(self) -> list[KubeObject]:
        """The objects Git declares at ``rendered_sha``: a fresh copy on every read."""
        return unpack(self.desired_packed)

    @desired.setter
    def desired(self, objects: list[KubeObject]) -> None:
        self.desired_packed = pack(objects)


#: What one source resolved to: a commit SHA, a chart version with its digest, or an OCI
#: artifact's tag and digest.
SourceRevision = str | ChartVersion | ArtifactVersion
#: What a source that cannot be read raises.
SOURCE_ERRORS = (GitError, ChartError, ArtifactError)


class Revisions:
    """What each source's ``targetRevision`` names now: commit SHAs by (repository, revision),
    resolved once until the repository is fetched again, chart versions from the chart cache
    (which keeps version lists until its repository is read again), and OCI artifact digests
    from the artifact cache (likewise)."""

    def __init__(self, git: GitCache, charts: ChartCache | None = None) -> None:
        self.git = git
        self.charts = charts or ChartCache(git.cache_dir / "charts", git.credentials, timeout=git.timeout)
        self.artifacts = ArtifactCache(git.cache_dir / "artifacts", git.credentials, timeout=git.timeout)
        self._shas: dict[tuple[str, str], str] = {}

    async def resolve_source(self, source: SourceConfig) -> SourceRevision:
        """Raises one of ``SOURCE_ERRORS``."""
        if source.chart is not None:
            return await self.charts.resolve(source)
        if source.artifact is not None:
            return await self.artifacts.resolve(source)
        key = (source.repo_url, source.target_revision)
        sha = self._shas.get(key)
        if sha is None:
            sha = await self.git.resolve(*key)
            self._shas[key] = sha
        return sha

    async def resolve_all(self, app: AppConfig) -> list[SourceRevision]:
        return [await self.resolve_source(source) for source in app.sources]

    async def resolve(self, app: AppConfig) -> str:
        """The app's revision: the commit of a one-repository app, else every source's part."""
        return revision_text(app, await self.resolve_all(app))

    async def commit(self, app: AppConfig, sha: str | None) -> Commit | None:
        """The commit an app of one Git source is at, for people to recognise; None for charts,
        artifacts and apps of several sources, or when Git cannot say (the verdict does not wait
        on it)."""
        source = app.source
        if sha is None or app.more_sources or source.chart is not None or source.artifact is not None:
            return None
        try:
            return await self.git.commit(source.repo_url, sha)
        except GitError:
            return None

    def forget(self, repo_url: str) -> None:
        for key in [k for k in self._shas if k[0] == repo_url]:
            del self._shas[key]


#: Git sources made ready at once by ``prepare_checkouts``.
PREPARE_AT_ONCE = 4


async def prepare_checkouts(apps: Iterable[AppConfig], revisions: Revisions) -> None:
    """Resolve and check out every Git source the apps use, once each. At start this runs while
    the clusters are being listed, so that no app's first evaluation waits for a checkout (a
    repository of thousands of apps takes seconds to check out). Failures are left for each
    app's evaluation to report."""
    wanted = {(s.repo_url, s.target_revision): s for app in apps for s in app.sources if s.from_git}
    slots = asyncio.Semaphore(PREPARE_AT_ONCE)

    async def prepare(source: SourceConfig) -> None:
        async with slots:
            try:
                await revisions.git.checkout(source.repo_url, str(await revisions.resolve_source(source)))
            except GitError:
                pass

    await asyncio.gather(*(prepare(source) for source in wanted.values()))


def revision_text(app: AppConfig, parts: list[SourceRevision]) -> str:
    """One string that changes whenever any source moves: the SHA alone for an app of one Git
    source (as always), Flux's ``<tag>@sha256:<digest>`` for an app of one OCI artifact, else
    ``web 1.4.2 (sha256:…) + <sha>`` in source order."""
    if len(parts) == 1 and not isinstance(parts[0], ChartVersion):
        return str(parts[0])
    return " + ".join(f"{source.chart} {part}" if isinstance(part, ChartVersion) else str(part)
                      for source, part in zip(app.sources, parts, strict=True))


async def _user_values(tree: Path, rel: str, source: SourceConfig, refs: dict[str, Path]) -> dict[str, Any] | None:
    """The app's values for the chart at ``tree/rel`` (value files, then inline values), or None
    where they cannot be read yet: the render reports why, with the file and line."""
    try:
        return await in_thread(load_values, tree / rel, tree, source.helm, rel, refs)
    except (RenderError, OSError):
        return None


async def render_sources(app: AppConfig, parts: list[SourceRevision], revisions: Revisions,
                         time_limit: float, build_options: Sequence[str] = ()) -> bytes:
    """Check out or fetch every source, then render the ones that declare objects, with the
    checkouts of ``ref`` sources at hand for ``$ref/...`` value files. Charts that a Git chart
    depends on, or that a kustomization inflates, are fetched first: rendering is offline.
    The objects come packed (:mod:`exporter.render.packing`)."""
    trees: list[Path] = []
    refs: dict[str, Path] = {}
    for source, part in zip(app.sources, parts, strict=True):
        if isinstance(part, ChartVersion):
            trees.append(await revisions.charts.fetch(source, part))
            continue
        if isinstance(part, ArtifactVersion):
            trees.append(await revisions.artifacts.fetch(source, part))
            continue
        if source.type == "directory" and not source.ref:  # reads its own directory and nothing else
            tree = await revisions.git.checkout_directory(source.repo_url, part, source.path)
        else:
            tree = await revisions.git.checkout(source.repo_url, part)
        if source.type == "helm" and source.renders:
            rel = source.path.strip("/") or "."
            tree = await with_dependencies(tree, rel, revisions.charts, time_limit,
                                           await _user_values(tree, rel, source, refs))
        elif source.type == "kustomize" and source.renders:
            uses = await chart_uses(source_root(tree, source.path)[0], tree)
            tree = await with_inflated_charts(tree, uses, revisions.charts, time_limit)
        trees.append(tree)
        if source.ref:
            refs[source.ref] = tree
    packed = [await render_packed(app, tree, timeout=time_limit, source=source, refs=refs,
                                  build_options=build_options)
              for source, tree in zip(app.sources, trees, strict=True) if source.renders]
    if len(packed) == 1:
        return packed[0]
    return pack([obj for part in packed for obj in unpack(part)])


async def update_desired(rt: AppRuntime, revisions: Revisions, clock: Clock, render_timeout: float,
                         on_new_commit: Callable[[AppRuntime, str, str], None],
                         build_options: Sequence[str] = ()) -> str | None:
    """Bring ``rt.desired`` to the commit the app's revision names now; the reason it could not
    (Git or render error, or a failed render still backing off), or None."""
    app = rt.config
    try:
        parts = await revisions.resolve_all(app)
    except SOURCE_ERRORS as exc:
        return Blind(exc)
    sha = revision_text(app, parts)
    if rt.sha is not None and sha != rt.sha:
        on_new_commit(rt, rt.sha, sha)
    rt.sha = sha
    if rt.commit is None or rt.commit.sha != sha:
        rt.commit = await revisions.commit(app, sha)
    if rt.rendered_sha == sha:
        return None
    if rt.render_error is not None and rt.render_error[0] == sha and clock.now() < rt.render_retry_at:
        return rt.render_error[1]  # the same commit failed moments ago: back off
    try:
        rt.desired_packed = await render_sources(app, parts, revisions, render_timeout, build_options)
    except (*SOURCE_ERRORS, RenderError) as exc:
        # A source that cannot be fetched is the agent's blindness; a render that fails is Git's content.
        reason = str(exc) if isinstance(exc, RenderError) else Blind(exc)
        render_failed(rt, sha, reason, clock)
        return reason
    rt.rendered_sha = sha
    rt.render_error, rt.render_failures = None, 0
    return None


def render_failed(rt: AppRuntime, sha: str, reason: str, clock: Clock) -> None:
    """Remember a failed render of ``sha`` and when to try it again."""
    rt.rendered_sha = None
    rt.render_failures = rt.render_failures + 1 if rt.render_error and rt.render_error[0] == sha else 1
    rt.render_error = (sha, reason)
    delay = exponential(rt.render_failures, RENDER_BACKOFF, RENDER_BACKOFF_CAP)
    rt.render_retry_at = clock.now() + delay


def under(file: str, path: str) -> bool:
    """Whether a changed ``file`` lies under an app's ``path`` (the repository root holds all)."""
    root = path.strip("/")
    return root in ("", ".") or file == root or file.startswith(root + "/")
