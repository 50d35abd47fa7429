"""A fault-injecting HTTP proxy in front of a simulated API server, on loopback.

It forwards requests as they are (streaming watch answers through), and on demand answers for the
server the way a bad day does: refuses connections (``down``), answers 500 or 429 with a
``Retry-After`` (``status``), opens watch streams and then sends nothing (``silent``), answers
every watch with HTTP 200 and an ``ERROR`` event for 410 (``expired``), or cuts every open stream
(``cut``), or holds every request until ``release()`` (``held``: a server slow to answer).
``requests`` records ``(time, verb, path)`` of everything that reached it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import aiohttp
from aiohttp import web


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.mode = "pass"
        self.status = 500
        self.retry_after: int | None = None
        self.requests: list[tuple[float, str, str]] = []
        self._streams: set[web.StreamResponse] = set()
        self._released = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FaultProxy:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.1,
                                     handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def go_down(self) -> None:
        """Stop listening (connections are refused) and cut what is open."""
        self.cut()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def come_back(self) -> None:
        self.mode = "pass"
        await self.start()

    def cut(self) -> None:
        """Abort every open stream, as a dropped connection would."""
        for response in list(self._streams):
            transport = response._req.transport if response._req is not None else None  # noqa: SLF001
            if transport is not None:
                transport.abort()
        self._streams.clear()

    async def close(self) -> None:
        await self.go_down()
        if self._session is not None:
            await self._session.close()

    def hold(self) -> None:
        """Hold every request from now until ``release()``."""
        self.mode = "held"
        self._released.clear()

    def release(self) -> None:
        self.mode = "pass"
        self._released.set()

    def open_streams(self) -> int:
        """Watch streams open through the proxy now."""
        return len(self._streams)

    def watches(self, since: float = 0.0) -> list[float]:
        return [t for t, verb, _ in self.requests if verb == "watch" and t >= since]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        watch = request.query.get("watch") in ("true", "1")
        self.requests.append((time.monotonic(), "watch" if watch else "get", request.path_qs))
        if self.mode == "held":
            await self._released.wait()
        if self.mode == "status":
            headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
            body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": self.status,
                    "message": f"injected {self.status}"}
            return web.json_response(body, status=self.status, headers=headers)
        if watch and self.mode == "expired":
            event = {"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                                 "code": 410, "reason": "Expired",
                                                 "message": "too old resource version"}}
            return web.Response(text=json.dumps(event) + "\n", content_type="application/json")
        if watch and self.mode == "silent":
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            await response.prepare(request)
            self._streams.add(response)
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await asyncio.sleep(3600)
            return response
        return await self._forward(request)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "accept")}
        async with self._session.request(request.method, self.upstream + request.path_qs, headers=headers,
                                         data=await request.read()) as upstream:
            response = web.StreamResponse(status=upstream.status, headers={
                "Content-Type": upstream.headers.get("Content-Type", "application/json")})
            await response.prepare(request)
            self._streams.add(response)
            try:
                async for chunk in upstream.content.iter_any():
                    if self.mode == "silent":
                        await asyncio.sleep(3600)  # hold the stream open and say nothing more
                    await response.write(chunk)
            except (ConnectionError, aiohttp.ClientError):
                pass
            finally:
                self._streams.discard(response)
            return response


def rewrite_kubeconfig(path: str, server: str) -> str:
    """Point a kubeconfig written for the simulated cluster at ``server`` (the proxy)."""
    import yaml

    with open(path, encoding="utf-8") as fh:
        doc: Any = yaml.safe_load(fh)
    for cluster in doc["clusters"]:
        cluster["cluster"]["server"] = server
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(doc, fh)
    return path
