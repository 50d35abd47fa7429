"""Time the server's per-request work for a fleet of 2,000 apps, and how long it stalls the loop.

Run from the repository root: ``python tests/server/bench_server.py [apps]``. Prints numbers; it
is not a test. The per-app collector here exports the families DESIGN.md lists, with the label
sets the agent uses, so the exposition size matches production.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

sys.path[:0] = [str(Path(__file__).parents[1] / "tests" / "server"), str(Path(__file__).parents[1])]

from server_fleet import FleetSource, fleet  # noqa: E402

from exporter.model import AppState, Health, Sync  # noqa: E402
from exporter.server import build_app, serve  # noqa: E402
from exporter.server.api import AppFilter, app_summary, to_json  # noqa: E402
from exporter.server.page import render_page  # noqa: E402


def make_fleet(n: int) -> FleetSource:
    base = list(fleet().values())
    apps = {}
    for i in range(n):
        config, status = base[i % len(base)]
        name = f"{config.name}-{i}"
        apps[name] = (replace(config, name=name), replace(status, name=name))
    return FleetSource(apps=apps)


class AppCollector:
    """Per-app families shaped as DESIGN.md lists them."""

    def __init__(self, source: FleetSource) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("gitops_app_info", "", labels=[
            "app", "project", "cluster", "namespace", "repo", "path", "target_revision", "revision"])
        state = GaugeMetricFamily("gitops_app_status", "", labels=["app", "status"])
        health = GaugeMetricFamily("gitops_app_health_status", "", labels=["app", "health"])
        sync = GaugeMetricFamily("gitops_app_sync_status", "", labels=["app", "sync"])
        since = GaugeMetricFamily("gitops_app_status_since_timestamp_seconds", "", labels=["app"])
        bad = GaugeMetricFamily("gitops_app_bad_since_timestamp_seconds", "", labels=["app"])
        resources = GaugeMetricFamily("gitops_app_resources", "", labels=["app", "health", "sync"])
        last = GaugeMetricFamily("gitops_app_last_evaluation_timestamp_seconds", "", labels=["app"])
        for name, (c, s) in self.source.snapshot().items():
            info.add_metric([name, c.project, c.destination.cluster, c.destination.namespace, c.source.repo_url,
                             c.source.path, c.source.target_revision, s.revision or ""], 1)
            for a in AppState:
                state.add_metric([name, a.value], float(s.state == a))
            for h in Health:
                health.add_metric([name, h.value], float(s.health == h))
            for y in Sync:
                sync.add_metric([name, y.value], float(s.sync == y))
            since.add_metric([name], s.since)
            bad.add_metric([name], s.bad_since or 0)
            resources.add_metric([name, "Healthy", "Synced"], 3)
            last.add_metric([name], s.evaluated_at)
        yield from (info, state, health, sync, since, bad, resources, last)


def best_of(label: str, fn: Callable[[], Any], repeat: int = 5) -> None:
    best = float("inf")
    out: Any = None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    size = len(out) if isinstance(out, (str, bytes)) else 0
    print(f"{label:48s} {best * 1000:8.1f} ms {size / 1024:8.0f} KiB")


async def idle_loop_stall(seconds: float = 0.5) -> float:
    """The same measurement with nothing to serve: the machine's own noise floor."""
    worst = 0.0
    last = time.perf_counter()
    end = last + seconds
    while last < end:
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        worst = max(worst, now - last)
        last = now
    return worst


async def loop_lag_during(label: str, url: str, session: aiohttp.ClientSession, headers: dict[str, str]) -> None:
    """Longest gap between 1 ms ticks of the event loop while one request is served."""
    worst = 0.0
    done = False

    async def ticker() -> None:
        nonlocal worst
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            worst = max(worst, now - last)
            last = now

    task = asyncio.create_task(ticker())
    start = time.perf_counter()
    async with session.get(url, headers=headers) as resp:
        body = await resp.read()
    total = time.perf_counter() - start
    done = True
    await task
    print(f"{label:48s} {total * 1000:8.1f} ms {len(body) / 1024:8.0f} KiB   max loop stall {worst * 1000:.1f} ms")


async def main(n: int) -> None:
    source = make_fleet(n)
    registry = CollectorRegistry()
    registry.register(AppCollector(source))  # type: ignore[arg-type]
    apps = list(source.snapshot().values())
    print(f"{n} apps")
    best_of("generate_latest (in the executor per scrape)", lambda: generate_latest(registry))
    best_of("/api/v1/apps JSON (in the executor)", lambda: to_json([app_summary(c, s) for c, s in apps]))
    best_of("status page HTML (in the executor)", lambda: render_page(apps, AppFilter()))

    runner = await serve(build_app(source, metrics_registry=registry), "127.0.0.1", 0)
    host, port = runner.addresses[0][:2]
    base = f"http://{host}:{port}"
    try:
        print(f"{'idle loop, no request':48s} {'':>8s}    {'':>8s}       max loop stall "
              f"{await idle_loop_stall() * 1000:.1f} ms")
        async with aiohttp.ClientSession(auto_decompress=False) as session:
            await loop_lag_during("GET /metrics identity", base + "/metrics", session, {"Accept-Encoding": "identity"})
            await loop_lag_during("GET /metrics gzip", base + "/metrics", session, {"Accept-Encoding": "gzip"})
            await loop_lag_during("GET /api/v1/apps gzip", base + "/api/v1/apps", session,
                                  {"Accept-Encoding": "gzip"})
            await loop_lag_during("GET / gzip", base + "/", session, {"Accept-Encoding": "gzip"})
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
