"""``build_app`` options and ``serve``: what the agent wires up at start."""

from __future__ import annotations

import errno

import aiohttp
import pytest
from server_fleet import FleetSource

from exporter.config_types import AppConfig
from exporter.metrics import REGISTRY
from exporter.model import AppStatus
from exporter.server import build_app, serve


async def test_diff_route_uses_the_agents_diff_renderer(source: FleetSource) -> None:
    def render(config: AppConfig, status: AppStatus) -> str:
        return f"diff of {config.name} at {status.revision}\n"

    runner = await serve(build_app(source, metrics_registry=REGISTRY, diff=render), "127.0.0.1", 0)
    host, port = runner.addresses[0][:2]
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://{host}:{port}/api/v1/apps/ingest/diff") as resp:
                assert await resp.text() == "diff of ingest at 9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c\n"
            async with session.get(f"http://{host}:{port}/?app=ingest") as resp:
                assert "diff of ingest at 9b8c7d6e" in await resp.text()
    finally:
        await runner.cleanup()


async def test_port_in_use_is_an_error_naming_the_address(source: FleetSource) -> None:
    first = await serve(build_app(source, metrics_registry=REGISTRY), "127.0.0.1", 0)
    port = first.addresses[0][1]
    try:
        with pytest.raises(OSError, match=rf"'127\.0\.0\.1', {port}\): address already in use") as caught:
            await serve(build_app(source, metrics_registry=REGISTRY), "127.0.0.1", port)
        assert caught.value.errno == errno.EADDRINUSE
    finally:
        await first.cleanup()


async def test_stopped_server_no_longer_answers(source: FleetSource) -> None:
    runner = await serve(build_app(source, metrics_registry=REGISTRY), "127.0.0.1", 0)
    host, port = runner.addresses[0][:2]
    await runner.cleanup()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(f"http://{host}:{port}/healthz")
