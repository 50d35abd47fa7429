"""OCI artifacts as sources, as Flux's source-controller reads an ``OCIRepository``: the reference
resolved to a digest (``ref.digest`` as written, else the newest tag a ``ref.semver`` range
admits, else ``ref.tag``, else ``latest``), the selected layer (``layerSelector.mediaType``, else
the first) unpacked once per digest in the cache, and read again on the Git poll interval.

The revision is written as Flux writes it (``<tag>@sha256:<digest>``, or the digest alone when
pinned), so the deployer's ``lastAppliedRevision`` compares with it as it is.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import aiohttp

from exporter.config_types import ArtifactOptions, RepoCredentials, SourceConfig
from exporter.git import GitError, basic_credentials, matching_credentials
from exporter.oci.registry import RegistryClient, RegistryError, parse_reference
from exporter.semver import VersionNotFound, pick_version
from exporter.urls import safe_url

__all__ = ["HELM_CHART_LAYER", "ArtifactCache", "ArtifactError", "ArtifactVersion"]

#: Helm's chart layer: unpacked, its one directory is the chart (an ``OCIRepository`` a
#: HelmRelease's ``chartRef`` names selects it).
HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
T = TypeVar("T")


class ArtifactError(Exception):
    """An OCI artifact could not be resolved or unpacked; the message says which and why."""


@dataclass(frozen=True)
class ArtifactVersion:
    """What an artifact reference resolved to: the tag (empty for a digest pin) and the digest."""

    tag: str
    digest: str

    def __str__(self) -> str:
        return f"{self.tag}@{self.digest}" if self.tag else self.digest


def _options(source: SourceConfig) -> ArtifactOptions:
    return source.artifact or ArtifactOptions()


class ArtifactCache:
    """Tags and tag digests by repository (kept until :meth:`changed` reads them again), and
    unpacked layers on disk by repository, digest and layer type."""

    def __init__(self, root: Path, credentials: Sequence[RepoCredentials] = (), *, timeout: float = 60) -> None:
        self.root = root
        self.credentials = credentials
        self.timeout = timeout
        self._tags: dict[str, list[str]] = {}
        self._digests: dict[tuple[str, str], str] = {}
        #: How each repository was last reached (plain HTTP or not), for reading it again.
        self._reached: dict[str, SourceConfig] = {}
        self._pulls: dict[Path, asyncio.Task[Path]] = {}

    async def _call(self, source: SourceConfig, what: str, work: Callable[[RegistryClient], Awaitable[T]]) -> T:
        """Run ``work(client)`` against the source's registry within the time limit."""
        url = source.repo_url
        try:
            reference = parse_reference(url)
            user = basic_credentials(url, self.credentials, "registry password")
        except (ValueError, GitError) as exc:
            raise ArtifactError(f"{safe_url(url)}: {exc}") from None
        creds = matching_credentials(url, self.credentials)
        plain = _options(source).plain_http or bool(creds and creds.plain_http)
        verify = not (creds and creds.insecure_skip_tls_verify)
        try:
            async with asyncio.timeout(self.timeout), aiohttp.ClientSession() as session:
                return await work(RegistryClient(reference, session, user, plain, verify))
        except TimeoutError:
            raise ArtifactError(f"{reference}: {what}: timed out after {self.timeout:g}s") from None
        except RegistryError as exc:
            raise ArtifactError(f"{exc} while {what}") from None

    async def _tag_list(self, source: SourceConfig) -> list[str]:
        if source.repo_url not in self._tags:
            self._tags[source.repo_url] = await self._call(source, "listing tags", lambda c: c.tags())
        return self._tags[source.repo_url]

    async def _digest(self, source: SourceConfig, tag: str) -> str:
        key = (source.repo_url, tag)
        if key not in self._digests:
            async def head(client: RegistryClient) -> str:
                return (await client.manifest(tag))[0]
            self._digests[key] = await self._call(source, f"resolving tag {tag}", head)
        return self._digests[key]

    async def resolve(self, source: SourceConfig) -> ArtifactVersion:
        """The digest ``source.target_revision`` names now (a digest, a semver range, or a tag), with
        the tag it came through."""
        ref = source.target_revision.strip() or "latest"
        self._reached[source.repo_url] = source
        if re.fullmatch(r"sha256:[0-9a-f]{64}", ref):
            return ArtifactVersion("", ref)
        if ref.startswith("sha256:"):
            raise ArtifactError(f"{safe_url(source.repo_url)}: '{ref}' is not a sha256 digest")
        if _options(source).semver:
            tags = await self._tag_list(source)
            wanted = _options(source).semver_filter
            if wanted:
                try:
                    tags = [t for t in tags if re.search(wanted, t)]
                except re.error as exc:
                    raise ArtifactError(f"semverFilter '{wanted}' is not a regular expression: {exc}") from None
            try:
                ref = pick_version(tags, ref, safe_url(source.repo_url))
            except (VersionNotFound, ValueError) as exc:
                raise ArtifactError(str(exc)) from None
        return ArtifactVersion(ref, await self._digest(source, ref))

    async def changed(self, url: str) -> bool:
        """Read ``url``'s tags and the digests of the tags in use again; True when any moved."""
        moved = False
        probe = self._reached.get(url) or SourceConfig(repo_url=url, artifact=ArtifactOptions())
        if url in self._tags:
            old = self._tags.pop(url)
            moved |= await self._tag_list(probe) != old
        for key in [k for k in self._digests if k[0] == url]:
            old_digest = self._digests.pop(key)
            moved |= await self._digest(probe, key[1]) != old_digest
        return moved

    def repositories(self) -> list[str]:
        return sorted({url for url in self._tags} | {url for url, _ in self._digests})

    async def fetch(self, source: SourceConfig, version: ArtifactVersion) -> Path:
        """The unpacked layer of ``version``: pulled once, then kept."""
        media = _options(source).media_type
        ident = hashlib.sha256(f"{parse_or_url(source.repo_url)}\0{media}".encode()).hexdigest()[:16]
        target = self.root / f"{ident}-{version.digest.removeprefix('sha256:')[:32]}"
        if not target.is_dir():
            task = self._pulls.get(target)
            if task is None:
                task = asyncio.ensure_future(self._pull(source, version, target))
                self._pulls[target] = task
                task.add_done_callback(lambda _t: self._pulls.pop(target, None))
            await asyncio.shield(task)
        content = target / "content"
        if media == HELM_CHART_LAYER:
            charts = [p for p in content.iterdir() if p.is_dir()]
            if len(charts) != 1:
                raise ArtifactError(f"{safe_url(source.repo_url)}@{version.digest}: the chart layer holds "
                                    f"{len(charts)} directories, not one chart")
            return charts[0]
        return content

    async def _pull(self, source: SourceConfig, version: ArtifactVersion, target: Path) -> Path:
        media = _options(source).media_type

        async def layer(client: RegistryClient) -> bytes:
            _, manifest = await client.manifest(version.digest)
            layers = [d for d in manifest["layers"] if isinstance(d, dict)]
            chosen = next((d for d in layers if not media or d.get("mediaType") == media), None)
            if chosen is None:
                have = ", ".join(sorted({str(d.get("mediaType")) for d in layers})) or "no layers"
                raise RegistryError(f"{client.reference}@{version.digest} has no layer of type "
                                    f"{media or '(any)'}; it has {have}")
            return await client.blob(chosen)

        body = await self._call(source, f"pulling {version}", layer)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, _unpack, body, target)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ArtifactError(f"{safe_url(source.repo_url)}@{version.digest}: the layer is not a "
                                f"tar+gzip archive that unpacks safely: {exc}") from None
        return target


def parse_or_url(url: str) -> str:
    """The repository an URL names, spelt one way (``oci://host/path``), or the URL as given."""
    try:
        return str(parse_reference(url))
    except ValueError:
        return url


def _unpack(body: bytes, target: Path) -> None:
    """Unpack a tar+gzip layer into ``target/content``, atomically: a half-unpacked layer is never
    seen. Tar's ``data`` filter refuses absolute paths, links out of the tree and device files."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".pull-", dir=target.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
            archive.extractall(tmp / "content", filter="data")
        (tmp / "content").mkdir(exist_ok=True)
        try:
            os.rename(tmp, target)
        except OSError:
            if not target.is_dir():  # another pull of the same digest won; otherwise a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
