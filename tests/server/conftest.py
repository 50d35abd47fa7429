"""Serve the test fleet on 127.0.0.1 with the real server, for tests to hit over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from server_fleet import FleetSource, Served, Shards, shard_sources, start_shards

from exporter.metrics import REGISTRY
from exporter.server import build_app, serve


@pytest.fixture
def source() -> FleetSource:
    return FleetSource()


@pytest.fixture
def webhook_secret() -> str | None:
    return "s3cret-hook"


@pytest.fixture
async def served(source: FleetSource, webhook_secret: str | None) -> AsyncIterator[Served]:
    app = build_app(source, metrics_registry=REGISTRY, webhook_secret=webhook_secret)
    runner = await serve(app, "127.0.0.1", 0)
    host, port = runner.addresses[0][:2]
    try:
        async with aiohttp.ClientSession() as session:
            yield Served(f"http://{host}:{port}", source, session)
    finally:
        await runner.cleanup()


@pytest.fixture
async def shards() -> AsyncIterator[Shards]:
    """Three shards of the test fleet, each one's API and page answering for all three."""
    sources = shard_sources(3)
    urls, runners = await start_shards(sources, page_refresh_seconds=1)
    try:
        async with aiohttp.ClientSession() as session:
            yield Shards(urls, sources, runners, session)
    finally:
        for runner in runners:
            await runner.cleanup()
