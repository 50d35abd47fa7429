"""Charts from Helm repositories and OCI registries: which versions exist, which one an app's
``targetRevision`` picks, and the chart itself, unpacked in a cache.

Version lists (an HTTP repository's ``index.yaml`` entries, an OCI repository's tags) are kept
until :meth:`ChartCache.changed` reads them again, on the Git poll interval; archives are kept on
disk by repository, version and digest, so a version republished with other content is fetched
again. All network work runs in :mod:`exporter.charts.worker`, a child process with a time limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exporter.config_types import RepoCredentials, SourceConfig
from exporter.git import GitError, basic_credentials, matching_credentials
from exporter.process import run
from exporter.semver import VersionNotFound, pick_version
from exporter.urls import safe_url, strip_userinfo

__all__ = ["ChartCache", "ChartError", "ChartVersion", "chart_ref", "run_worker"]


class ChartError(Exception):
    """A chart repository or registry could not give the chart; the message says which and why."""


@dataclass(frozen=True)
class ChartVersion:
    """The version a source resolved to, and the digest of its archive (or OCI manifest)."""

    version: str
    digest: str

    def __str__(self) -> str:
        short = self.digest.removeprefix("sha256:")[:12]
        return f"{self.version} (sha256:{short})" if short else self.version


def chart_ref(source: SourceConfig) -> str:
    """The chart's address: ``oci://host/path/chart`` for a registry, the repository URL otherwise."""
    if source.repo_url.startswith("oci://"):
        return f"{source.repo_url.rstrip('/')}/{source.chart}"
    return source.repo_url


def _where(source: SourceConfig) -> str:
    if source.repo_url.startswith("oci://"):
        return safe_url(chart_ref(source))
    return f"chart '{source.chart}' of {safe_url(source.repo_url)}"


async def run_worker(request: dict[str, Any], time_limit: float, what: str) -> dict[str, Any]:
    """One request to the worker process; ``ChartError`` when it fails or runs out of time."""
    with tempfile.TemporaryDirectory(prefix="chart-request-") as tmp:
        path = Path(tmp) / "request.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(request, fh)
        try:
            code, out, err = await run([sys.executable, "-P", "-m", "exporter.charts.worker", str(path)],
                                       time_limit=time_limit, cwd=Path(tmp))
        except TimeoutError:
            raise ChartError(f"{what}: timed out after {time_limit:g}s") from None
    try:
        answer: dict[str, Any] = json.loads(out)
    except ValueError:
        detail = strip_userinfo(err.strip().splitlines()[-1] if err.strip() else f"exit code {code}")
        raise ChartError(f"{what}: {detail}") from None
    if "error" in answer and answer["error"] != "not found":
        raise ChartError(f"{what}: {strip_userinfo(str(answer['error']))}")
    return answer


class ChartCache:
    """Chart versions and unpacked charts for the apps' chart sources."""

    def __init__(self, root: Path, credentials: Sequence[RepoCredentials] = (), *, timeout: float = 60) -> None:
        self.root = root
        self.credentials = credentials  # shared with the Git cache: Flux sources' own are added to it
        self.timeout = timeout
        self._versions: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._oci_digests: dict[tuple[str, str], str] = {}
        self._pulls: dict[Path, asyncio.Task[Path]] = {}

    def _access(self, url: str) -> dict[str, Any]:
        creds = matching_credentials(url, self.credentials)
        try:
            user = basic_credentials(url, self.credentials, "chart repository password")
        except GitError as exc:
            raise ChartError(f"{safe_url(url)}: {exc}") from None
        access: dict[str, Any] = {"url": strip_userinfo(url)}
        if user is not None:
            access["username"], access["password"] = user
        if creds is not None:
            access["plain_http"] = creds.plain_http
            access["insecure"] = creds.insecure_skip_tls_verify
        return access

    async def _list(self, source: SourceConfig) -> list[dict[str, str]]:
        assert source.chart is not None
        request = {"op": "versions", "ref": chart_ref(source), "chart": source.chart, **self._access(source.repo_url)}
        answer = await run_worker(request, self.timeout, f"{_where(source)}: listing versions")
        if answer.get("error") == "not found":
            have = ", ".join(answer.get("charts", [])[:20]) or "no charts"
            raise ChartError(f"{safe_url(source.repo_url)} has no chart '{source.chart}'; it has {have}")
        versions: list[dict[str, str]] = answer["versions"]
        return versions

    async def versions(self, source: SourceConfig) -> list[dict[str, str]]:
        key = (source.repo_url, source.chart or "")
        if key not in self._versions:
            self._versions[key] = await self._list(source)
        return self._versions[key]

    async def resolve(self, source: SourceConfig) -> ChartVersion:
        """The version ``source.target_revision`` selects now, with its digest."""
        entries = await self.versions(source)
        try:
            version = pick_version([e["version"] for e in entries], source.target_revision, _where(source))
        except (VersionNotFound, ValueError) as exc:
            raise ChartError(str(exc)) from None
        digest = next((e.get("digest", "") for e in entries if e["version"] == version), "")
        if source.repo_url.startswith("oci://"):
            digest = await self._oci_digest(source, version)
        elif digest and not digest.startswith("sha256:"):
            digest = f"sha256:{digest}"
        return ChartVersion(version, digest)

    async def _oci_digest(self, source: SourceConfig, version: str) -> str:
        key = (chart_ref(source), version)
        if key not in self._oci_digests:
            request = {"op": "digest", "ref": chart_ref(source), "version": version, **self._access(source.repo_url)}
            answer = await run_worker(request, self.timeout, f"{_where(source)}: resolving {version}")
            self._oci_digests[key] = str(answer["digest"])
        return self._oci_digests[key]

    async def changed(self, url: str) -> bool:
        """Read the version lists of ``url``'s charts again (and OCI digests in use); True when any
        differs. Raises ``ChartError`` when the repository cannot be read."""
        moved = False
        for repo, chart in [k for k in self._versions if k[0] == url]:
            fresh = await self._list(SourceConfig(repo_url=repo, chart=chart))
            moved |= fresh != self._versions[(repo, chart)]
            self._versions[(repo, chart)] = fresh
        for ref, version in [k for k in self._oci_digests if k[0].startswith(url.rstrip("/") + "/")]:
            old = self._oci_digests.pop((ref, version))
            chart = ref.rsplit("/", 1)[1]
            moved |= await self._oci_digest(SourceConfig(repo_url=url, chart=chart), version) != old
        return moved

    def repositories(self) -> list[str]:
        return sorted({url for url, _ in self._versions})

    async def fetch(self, source: SourceConfig, resolved: ChartVersion) -> Path:
        """The unpacked chart of ``resolved``, pulled once and then kept."""
        ident = hashlib.sha256(f"{chart_ref(source)}\0{source.chart}".encode()).hexdigest()[:16]
        digest = resolved.digest.removeprefix("sha256:")[:16] or "nodigest"
        target = self.root / "pulled" / f"{ident}-{source.chart}-{resolved.version}-{digest}"
        if not target.is_dir():
            task = self._pulls.get(target)
            if task is None:
                task = asyncio.ensure_future(self._pull(source, resolved, target))
                self._pulls[target] = task
                task.add_done_callback(lambda _t: self._pulls.pop(target, None))
            await asyncio.shield(task)
        charts = [p for p in (target / "unpacked").iterdir() if p.is_dir()]
        return charts[0]

    async def _pull(self, source: SourceConfig, resolved: ChartVersion, target: Path) -> Path:
        (self.root / "pulled").mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".pull-", dir=self.root / "pulled"))
        try:
            request = {"op": "pull", "ref": chart_ref(source), "chart": source.chart, "version": resolved.version,
                       "destination": str(tmp), **self._access(source.repo_url)}
            answer = await run_worker(request, self.timeout, f"{_where(source)}: pulling {resolved.version}")
            if not source.repo_url.startswith("oci://") and resolved.digest and answer["digest"] != resolved.digest:
                raise ChartError(f"{_where(source)} {resolved.version}: the archive's digest {answer['digest']} "
                                 f"is not the index's {resolved.digest}")
            unpacked = [p for p in (tmp / "unpacked").iterdir() if p.is_dir()] if (tmp / "unpacked").is_dir() else []
            if len(unpacked) != 1:
                raise ChartError(f"{_where(source)} {resolved.version}: the archive holds no chart directory")
            os.rename(tmp, target)
            tmp = target
            return target
        finally:
            if tmp != target:
                await asyncio.get_running_loop().run_in_executor(None, shutil.rmtree, tmp, True)
