"""Charts that kustomize's Helm inflator (``helmCharts:``) names, fetched before kustomize runs.

kustomize would pull a chart it cannot find in its chart home with ``helm pull``; here the agent
fetches it instead, through the same cache, credentials and error messages as chart sources, and
puts it where kustomize looks (``<chartHome>/<name>-<version>/<name>`` for a chart with a repo and
a version, else ``<chartHome>/<name>``). The checkout is read-only and shared, so that happens in a hard-linked copy.
kustomize itself then runs without network.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from exporter.charts.dependencies import linked_copy
from exporter.charts.fetching import ChartCache, ChartError
from exporter.config_types import SourceConfig

__all__ = ["ChartUse", "with_inflated_charts"]


@dataclass(frozen=True)
class ChartUse:
    """One ``helmCharts`` entry: where kustomize will look for the chart, and where it comes from."""

    kustomization: str  #: the kustomization file, as the repository names it (for messages)
    chart_home: str  #: the chart home directory, relative to the checkout
    name: str
    repo: str  #: http(s):// or oci://; empty when the chart lies in the chart home already
    version: str  #: as written (kustomize names the directory by it); empty for "newest"

    @property
    def directory(self) -> str:
        """Where kustomize looks for the chart, relative to the checkout."""
        home = Path(self.chart_home)
        pulled = self.repo and self.version
        return (home / f"{self.name}-{self.version}" / self.name if pulled else home / self.name).as_posix()


def _place(tree: Path, copy: Path, placed: list[tuple[ChartUse, Path]], target: Path) -> None:
    linked_copy(tree, copy)
    for use, chart in placed:
        destination = copy / use.directory
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(chart, destination)
    os.rename(copy, target)


async def with_inflated_charts(tree: Path, uses: list[ChartUse], charts: ChartCache, time_limit: float) -> Path:
    """The tree kustomize should build from: ``tree`` when every chart is there already, else a
    copy with the remote charts in their chart homes. Raises ``ChartError``."""
    loop = asyncio.get_running_loop()
    remote = [u for u in uses if u.repo and not await loop.run_in_executor(None, (tree / u.directory).is_dir)]
    if not remote:
        return tree
    placed: list[tuple[ChartUse, Path]] = []
    for use in remote:
        source = SourceConfig(repo_url=use.repo, chart=use.name, target_revision=use.version or "*", type="helm")
        try:
            placed.append((use, await charts.fetch(source, await charts.resolve(source))))
        except ChartError as exc:
            raise ChartError(f"{use.kustomization}: helmCharts {use.name}: {exc}") from None
    ident = "\0".join([str(tree), *(f"{u.directory}={p}" for u, p in placed)])
    target = charts.root / "inflated" / hashlib.sha256(ident.encode()).hexdigest()[:24]
    if await loop.run_in_executor(None, target.is_dir):
        return target
    await loop.run_in_executor(None, lambda: target.parent.mkdir(parents=True, exist_ok=True))
    tmp = Path(tempfile.mkdtemp(prefix=".inflate-", dir=target.parent))
    try:
        await loop.run_in_executor(None, _place, tree, tmp / "tree", placed, target)
        return target
    finally:
        await loop.run_in_executor(None, shutil.rmtree, tmp, True)
