"""Fixtures: the recording server (HTTP and HTTPS on 127.0.0.1), a fake clock and notifiers on it."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from notify_fakes import Recorder, Sleeper, handle

from exporter.clock import FakeClock
from exporter.config_types import ChannelConfig, NotificationsConfig, RouteConfig
from exporter.notify import Notifier


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (the Teams Workflows endpoint is HTTPS only)."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


@pytest.fixture
async def server(tls_files: tuple[str, str]) -> AsyncIterator[Recorder]:
    rec = Recorder()
    app = web.Application()

    async def record(request: web.Request) -> web.StreamResponse:
        return await handle(rec, request)

    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app, access_log=None)  # the stand-in's own log is not the agent's
    await runner.setup()
    plain = web.TCPSite(runner, "127.0.0.1", 0)
    await plain.start()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*tls_files)
    secure = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
    await secure.start()
    rec.port = plain._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    rec.tls_port = secure._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield rec
    await runner.cleanup()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_767_225_600.0)  # 2026-01-01T00:00:00Z


@pytest.fixture
def sleeper(clock: FakeClock) -> Sleeper:
    return Sleeper(clock)


@pytest.fixture
async def make_notifier(clock: FakeClock, sleeper: Sleeper) -> AsyncIterator[Callable[..., Any]]:
    """Builds started notifiers on the fake clock (every route to every channel unless told) and closes them."""
    made: list[Notifier] = []

    async def make(channels: list[ChannelConfig], *, routes: list[RouteConfig] | None = None,
                   **kwargs: Any) -> Notifier:
        if routes is None:
            routes = [RouteConfig(channels=[c.name for c in channels])]
        n = Notifier(NotificationsConfig(channels=channels, routes=routes, **kwargs), clock, sleep=sleeper)
        await n.start()
        made.append(n)
        return n

    yield make
    for n in made:
        await n.close()
