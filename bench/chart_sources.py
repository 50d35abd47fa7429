"""Time rendering a chart that comes from a repository: cold (nothing cached: index, pull, unpack,
render) and warm (index and archive cached: render only), for real third-party charts served by a
Helm repository on loopback, and from an OCI registry when Debian's docker-registry is installed.

Run from the repository root: ``python bench/chart_sources.py [runs]``. Needs ``../shared/real-charts``
and helm-python-sdk. Prints numbers; it is not a test.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parents[1] / "tests"), str(Path(__file__).parents[1])]

import helm_python as helm  # noqa: E402
import yaml  # noqa: E402
from chart_servers import HelmRepo, OciRegistry  # noqa: E402

from exporter.charts import ChartCache  # noqa: E402
from exporter.config_types import AppConfig, Destination, HelmOptions, RepoCredentials, SourceConfig  # noqa: E402
from exporter.render import render  # noqa: E402

CHARTS = Path(__file__).parents[2] / "shared" / "real-charts"
NAMES = ("kyverno", "loki", "traefik")


async def one_render(cache_dir: Path, source: SourceConfig, creds: list[RepoCredentials],
                     charts: ChartCache | None = None) -> tuple[float, int, ChartCache]:
    started = time.perf_counter()
    charts = charts or ChartCache(cache_dir, creds, timeout=120)
    resolved = await charts.resolve(source)
    tree = await charts.fetch(source, resolved)
    app = AppConfig(name=source.chart or "", source=source, destination=Destination(cluster="c", namespace="bench"))
    objects = await render(app, tree, timeout=120)
    return time.perf_counter() - started, len(objects), charts


async def measure(label: str, source: SourceConfig, creds: list[RepoCredentials], runs: int, work: Path) -> None:
    colds = []
    for i in range(runs):
        cold, count, charts = await one_render(work / f"cold-{label}-{i}", source, creds)
        colds.append(cold)
    warms = [(await one_render(work / "unused", source, creds, charts))[0] for _ in range(runs)]
    refreshed = []
    for _ in range(runs):
        started = time.perf_counter()
        await charts.changed(source.repo_url)
        await one_render(work / "unused", source, creds, charts)
        refreshed.append(time.perf_counter() - started)
    print(f"{label:28} {count:4d} objects  cold {statistics.median(colds) * 1000:7.0f} ms  "
          f"warm {statistics.median(warms) * 1000:6.0f} ms  warm+index read {statistics.median(refreshed) * 1000:6.0f} ms")


async def main(runs: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-charts-"))
    repo = HelmRepo(work / "repo")
    registry = OciRegistry(work / "registry") if shutil.which("docker-registry") else None
    try:
        for name in NAMES:
            archive = helm.package(str(CHARTS / name / "chart"), destination=str(repo.files))
            repo.index()
            if registry is not None:
                helm.push(archive, registry.url, plain_http=True)
        print(f"median of {runs} runs; cold = new cache (index, pull, unpack, render), warm = cached")
        for name in NAMES:
            values = HelmOptions(values=yaml.safe_load((CHARTS / name / "values.yaml").read_text()) or {})
            await measure(f"{name} (HTTP repository)", SourceConfig(repo_url=repo.url, chart=name, target_revision="*",
                                                                    type="helm", helm=values), [], runs, work)
            if registry is not None:
                creds = [RepoCredentials(url=f"oci://{registry.host}", plain_http=True)]
                await measure(f"{name} (OCI registry)", SourceConfig(repo_url=registry.url, chart=name,
                                                                     target_revision="*", type="helm", helm=values),
                              creds, runs, work)
    finally:
        repo.close()
        if registry is not None:
            registry.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
