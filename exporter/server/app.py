"""The HTTP routes: metrics, JSON API, badges, probes, webhooks and the status page.

Handlers only read the snapshot the agent last published, so a slow scrape or a busy page never
delays an evaluation and every response describes one consistent moment. Work that could take
more than a few milliseconds at fleet size (the metrics exposition, the app list as JSON or HTML,
diffs) runs in the default executor to keep the event loop free for watch streams.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from exporter.config_types import AppConfig
from exporter.model import AppStatus
from exporter.server.api import (
    AppFilter,
    FilterError,
    Snapshot,
    app_detail,
    app_summary,
    fallback_diff,
    select,
    state_rank,
    to_json,
)
from exporter.server.badge import missing_app_badge, state_badge, state_icon
from exporter.server.page import render_detail, render_page
from exporter.server.webhook import handle_webhook

if TYPE_CHECKING:
    from exporter.server import StatusSource

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
#: GitHub caps push payloads at 25 MB; anything larger is not a webhook.
MAX_BODY = 25 * 1024 * 1024

DiffRenderer = Callable[[AppConfig, AppStatus], str]
T = TypeVar("T")

SOURCE_KEY: web.AppKey[StatusSource] = web.AppKey("source")
REGISTRY_KEY = web.AppKey("metrics_registry", CollectorRegistry)
SECRET_KEY: web.AppKey[str | None] = web.AppKey("webhook_secret")
DIFF_KEY: web.AppKey[DiffRenderer] = web.AppKey("diff")
REFRESH_KEY = web.AppKey("page_refresh_seconds", float)
APP_METRICS_KEY: web.AppKey[Callable[[], str] | None] = web.AppKey("app_metrics")

_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def json_response(data: object, status: int = 200) -> web.Response:
    return web.Response(text=to_json(data), status=status, content_type="application/json",
                        headers={"Cache-Control": "no-cache"})


def _error(status: int, message: str) -> web.Response:
    return json_response({"error": message}, status=status)


def _lookup(request: web.Request) -> tuple[str, tuple[AppConfig, AppStatus] | None]:
    name = request.match_info["name"]
    return name, request.app[SOURCE_KEY].snapshot().get(name)


def _in_executor(fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """Run CPU-bound rendering off the event loop. Safe because snapshots are never mutated."""
    return asyncio.get_running_loop().run_in_executor(None, fn, *args)


def _exposition(registry: CollectorRegistry, encoder: Callable[[CollectorRegistry], bytes], gzipped: bool,
                extra: Callable[[], str] | None = None) -> bytes:
    body = encoder(registry)
    if extra is not None:
        # Per-app families, pre-rendered by the agent's collector; they are plain gauges, whose
        # lines read the same in both formats, and go before OpenMetrics' closing "# EOF".
        eof = b"# EOF\n"
        tail = eof if body.endswith(eof) else b""
        body = body[: len(body) - len(tail)] + extra().encode() + tail
    return gzip.compress(body, compresslevel=1) if gzipped else body


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text or OpenMetrics, whichever the scraper asks for, gzipped when accepted.

    With 2,000 apps the exposition is some 40,000 samples and takes a few hundred milliseconds to
    encode, which must not stall watch streams: it is built in the executor.
    """
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
    body = await _in_executor(_exposition, request.app[REGISTRY_KEY], encoder, gzipped,
                              request.app[APP_METRICS_KEY])
    headers = {"Content-Type": content_type}
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=body, headers=headers)


def _apps_json(snapshot: Snapshot, app_filter: AppFilter) -> str:
    return to_json([app_summary(c, s) for c, s in select(snapshot, app_filter)])


async def list_apps(request: web.Request) -> web.Response:
    try:
        app_filter = AppFilter.from_query(request.query)
    except FilterError as exc:
        return _error(400, str(exc))
    text = await _in_executor(_apps_json, request.app[SOURCE_KEY].snapshot(), app_filter)
    response = web.Response(text=text, content_type="application/json", headers={"Cache-Control": "no-cache"})
    response.enable_compression()
    return response


async def get_app(request: web.Request) -> web.Response:
    name, entry = _lookup(request)
    if entry is None:
        return _error(404, f"no app named {name!r}")
    return json_response(app_detail(*entry))


async def _render_diff(app: web.Application, config: AppConfig, status: AppStatus) -> str:
    return await _in_executor(app[DIFF_KEY], config, status)


async def get_diff(request: web.Request) -> web.Response:
    name, entry = _lookup(request)
    if entry is None:
        return _error(404, f"no app named {name!r}")
    text = await _render_diff(request.app, *entry)
    return web.Response(text=text, content_type="text/plain", headers={"Cache-Control": "no-cache"})


async def get_badge(request: web.Request) -> web.Response:
    name, entry = _lookup(request)
    svg = missing_app_badge(name) if entry is None else state_badge(name, str(entry[1].state))
    return web.Response(text=svg, status=404 if entry is None else 200, content_type="image/svg+xml",
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


async def favicon(request: web.Request) -> web.Response:
    statuses = [status for _, status in request.app[SOURCE_KEY].snapshot().values()]
    worst = min((str(s.state) for s in statuses), key=state_rank, default="Healthy")
    return web.Response(text=state_icon(worst), content_type="image/svg+xml",
                        headers={"Cache-Control": "no-cache"})


async def freezes(request: web.Request) -> web.Response:
    return json_response(request.app[SOURCE_KEY].freezes())


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def readyz(request: web.Request) -> web.Response:
    if request.app[SOURCE_KEY].ready():
        return web.Response(text="ok\n")
    return web.Response(text="not ready: caches have not synced yet\n", status=503)


async def webhook(request: web.Request) -> web.Response:
    source = request.app[SOURCE_KEY]
    return await handle_webhook(request, secret=request.app[SECRET_KEY], on_push=source.on_git_push)


async def status_page(request: web.Request) -> web.Response:
    source = request.app[SOURCE_KEY]
    try:
        app_filter = AppFilter.from_query(request.query)
    except FilterError:
        app_filter = AppFilter()
    snapshot = source.snapshot()
    now = time.time()
    detail = None
    entry = snapshot.get(request.query.get("app", ""))
    if entry is not None:
        detail = render_detail(*entry, await _render_diff(request.app, *entry), now, app_filter)
    html = await _in_executor(functools.partial(
        render_page, list(snapshot.values()), app_filter, detail=detail, ready=source.ready(), now=now,
        refresh_seconds=request.app[REFRESH_KEY]))
    response = web.Response(text=html, content_type="text/html", headers=_PAGE_HEADERS)
    response.enable_compression()
    return response


def build_app(source: StatusSource, *, metrics_registry: CollectorRegistry,
              webhook_secret: str | None = None, diff: DiffRenderer | None = None,
              page_refresh_seconds: float = 5.0,
              app_metrics: Callable[[], str] | None = None) -> web.Application:
    """The agent's web application.

    ``app_metrics`` returns pre-rendered exposition text appended to the registry's on ``/metrics``
    (the per-app families, which at fleet size are too many samples to encode per scrape).

    ``diff`` renders an app's diff as text; without one, a unified diff of the compared (already
    redacted) views is shown. ``webhook_secret`` unset accepts unsigned webhooks, for networks
    where only trusted senders reach the agent. The status page polls the API every
    ``page_refresh_seconds``.
    """
    app = web.Application(client_max_size=MAX_BODY)
    app[SOURCE_KEY] = source
    app[REGISTRY_KEY] = metrics_registry
    app[SECRET_KEY] = webhook_secret or None
    app[DIFF_KEY] = diff or (lambda _config, status: fallback_diff(status))
    app[REFRESH_KEY] = float(page_refresh_seconds)
    app[APP_METRICS_KEY] = app_metrics
    app.router.add_get("/", status_page)
    app.router.add_get("/favicon.svg", favicon)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/api/v1/apps", list_apps)
    app.router.add_get("/api/v1/apps/{name}", get_app)
    app.router.add_get("/api/v1/apps/{name}/diff", get_diff)
    app.router.add_get("/api/v1/apps/{name}/badge.svg", get_badge)
    app.router.add_get("/api/v1/freezes", freezes)
    app.router.add_post("/api/webhook", webhook)
    app.router.add_static("/static/", STATIC_DIR, append_version=False)
    return app


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start ``app`` on ``host:port`` (port 0 picks a free one; see ``runner.addresses``).

    The caller owns the runner and stops it with ``await runner.cleanup()``.
    """
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError:
        # asyncio's error already names the address; only the half-started runner needs undoing.
        await runner.cleanup()
        raise
    log.info("serving on %s", ", ".join(f"http://{a[0]}:{a[1]}" for a in runner.addresses))
    return runner
