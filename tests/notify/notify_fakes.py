"""Test doubles for notifications: a recording stand-in for Slack and Teams, and builders.

The server speaks just enough of each service for the real client libraries: Slack's Web API
(``/api/chat.postMessage``, ``/api/chat.update``), Slack incoming webhooks (``/services/...``),
a Teams Workflows trigger (``/workflows/<id>/triggers/manual/paths/invoke``, over HTTPS because
apprise only calls it over HTTPS) and a generic JSON hook (``/hook/...``, apprise's ``json://``).
Tests script failures (``Recorder.fail``) to see retries happen.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from exporter.clock import FakeClock
from exporter.config_types import AppConfig, ChannelConfig, Destination, NotifyPolicy, SourceConfig
from exporter.metrics import REGISTRY
from exporter.model import AppState, AppStatus, Health, ObjectStatus, Sync


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any
    answered: int

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Recorder:
    """Everything that reached the server, and the failures still to hand out."""

    requests: list[Request] = field(default_factory=list)
    failures: list[tuple[str, int, dict[str, str], str]] = field(default_factory=list)
    ts: int = 100
    port: int = 0
    tls_port: int = 0

    def fail(self, path_prefix: str, status: int, *, headers: dict[str, str] | None = None,
             body: str = "", times: int = 1) -> None:
        self.failures.extend([(path_prefix, status, headers or {}, body)] * times)

    def to(self, path_prefix: str, *, ok_only: bool = True) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(path_prefix) and (r.answered == 200 or not ok_only)]

    @property
    def slack_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def webhook(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/services/T0000/B{name}/s3cr3tW3bh00kT0ken{name}"


async def handle(rec: Recorder, request: web.Request) -> web.StreamResponse:
    body = await request.read()
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    path = request.path
    entry = Request(request.method, path, dict(request.headers), body, parsed, 200)
    rec.requests.append(entry)
    for i, (prefix, status, headers, text) in enumerate(rec.failures):
        if path.startswith(prefix):
            del rec.failures[i]
            entry.answered = status
            if path.startswith("/api/"):
                return web.json_response({"ok": False, "error": text or "internal_error"}, status=status,
                                         headers=headers)
            return web.Response(status=status, text=text or "error", headers=headers)
    if path == "/api/chat.postMessage":
        rec.ts += 1
        channel = (parsed or {}).get("channel", "")
        return web.json_response({"ok": True, "channel": "C0ALERTS" if channel.startswith("#") else channel,
                                  "ts": f"1767225600.{rec.ts:06d}"})
    if path == "/api/chat.update":
        return web.json_response({"ok": True, "channel": (parsed or {}).get("channel"),
                                  "ts": (parsed or {}).get("ts")})
    if path.startswith("/services/"):
        return web.Response(text="ok")
    if path.startswith("/workflows/"):
        return web.Response(status=202, text="")
    return web.json_response({"ok": True})


class Sleeper:
    """Stands in for asyncio.sleep: records each wait and moves the fake clock by it."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)
        await asyncio.sleep(0)


def slack_bot(name: str = "ops", *, token_env: str = "TEST_SLACK_TOKEN", base_url: str) -> ChannelConfig:
    return ChannelConfig(name=name, type="slack", channel="#alerts", token_env=token_env, base_url=base_url)


def slack_hook(name: str, url_file: Path) -> ChannelConfig:
    return ChannelConfig(name=name, type="slack", webhook_url_file=str(url_file))


def app(name: str = "shop", *, project: str = "default", labels: dict[str, str] | None = None,
        policy: NotifyPolicy | None = None, repo: str = "https://git.example.com/team/shop.git") -> AppConfig:
    return AppConfig(name=name, source=SourceConfig(repo_url=repo, target_revision="main", path="deploy"),
                     destination=Destination(cluster="prod-eu", namespace="shop"), project=project,
                     labels=labels or {}, notifications=policy or NotifyPolicy())


_HEALTH = {AppState.DEGRADED: Health.DEGRADED, AppState.PROGRESSING: Health.PROGRESSING,
           AppState.MISSING: Health.MISSING, AppState.SUSPENDED: Health.SUSPENDED}


def status(name: str, state: AppState, *, objects: list[ObjectStatus] | None = None, reason: str = "",
           revision: str = "4f2a9c1e7b3d5a6f8e9d0c1b2a3f4e5d6c7b8a9f") -> AppStatus:
    return AppStatus(name=name, state=state,
                     sync=Sync.OUT_OF_SYNC if state is AppState.OUT_OF_SYNC else Sync.SYNCED,
                     health=_HEALTH.get(state, Health.HEALTHY), reason=reason or f"app is {state.value}",
                     revision=revision, objects=objects or [])


def sent(metric_labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value("gitops_notifications_total", metric_labels) or 0.0
