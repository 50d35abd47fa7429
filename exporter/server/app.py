"""The HTTP routes: metrics, JSON API, badges, probes, webhooks and the status page.

Handlers only read the snapshot the agent last published, so a slow scrape or a busy page never
delays an evaluation and every response describes one consistent moment. Work that could take
more than a few milliseconds at fleet size (the metrics exposition, the app list as JSON or HTML,
diffs) runs in the default executor to keep the event loop free for watch streams.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from exporter.clock import Clock, SystemClock
from exporter.config_types import AppConfig
from exporter.humanize import parse_duration
from exporter.model import AppStatus
from exporter.server.api import (
    DEFAULT_HISTORY_WINDOW,
    AppFilter,
    FilterError,
    Snapshot,
    app_detail,
    app_summary,
    fallback_diff,
    history_json,
    select,
    state_rank,
    to_json,
)
from exporter.server.badge import missing_app_badge, state_badge, state_icon, unreachable_badge
from exporter.server.compression import PieceCompressor
from exporter.server.fleet import (
    LOCAL_SCOPE,
    UNREACHABLE_HEADER,
    Fleet,
    FleetClient,
    PeerUnreachable,
    app_path,
    json_app,
    json_history,
    merge_apps,
)
from exporter.server.page import render_app_detail, render_fleet_page
from exporter.server.webhook import WebhookGate, handle_webhook

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
GATE_KEY: web.AppKey[WebhookGate] = web.AppKey("webhook_gate")
DIFF_KEY: web.AppKey[DiffRenderer] = web.AppKey("diff")
REFRESH_KEY = web.AppKey("page_refresh_seconds", float)
APP_METRICS_KEY: web.AppKey[Callable[[], list[bytes]] | None] = web.AppKey("app_metrics")
FLEET_KEY: web.AppKey[FleetClient | None] = web.AppKey("fleet")
CLOCK_KEY: web.AppKey[Clock] = web.AppKey("clock")

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
                extra: Callable[[], list[bytes]] | None = None) -> bytes:
    body = encoder(registry)
    parts = [body]
    if extra is not None:
        # Per-app families, pre-rendered by the agent's collector; they are plain gauges, whose
        # lines read the same in both formats, and go before OpenMetrics' closing "# EOF".
        eof = b"# EOF\n"
        tail = eof if body.endswith(eof) else b""
        parts = [body[: len(body) - len(tail)], *extra(), tail]
    if not gzipped:
        return b"".join(parts)
    # Compressed piece by piece, reusing what the last scrape compressed (see PieceCompressor);
    # never joined first, which would hold one more 15 MiB copy for every scrape in flight.
    return _PIECES.gzip(parts)


_PIECES = PieceCompressor()


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


def _summaries(snapshot: Snapshot, app_filter: AppFilter) -> list[dict[str, Any]]:
    return [app_summary(c, s) for c, s in select(snapshot, app_filter)]


def _fleet_client(request: web.Request) -> FleetClient | None:
    """The siblings to ask, or None when this request is answered from this shard alone: the agent
    is not sharded, or a sibling is asking (``scope=local``), which is what stops a fan-out recursing."""
    if request.query.get(LOCAL_SCOPE[0]) == LOCAL_SCOPE[1]:
        return None
    return request.app[FLEET_KEY]


def _unreachable_headers(unreachable: list[int]) -> dict[str, str]:
    return {UNREACHABLE_HEADER: ",".join(map(str, unreachable))} if unreachable else {}


async def list_apps(request: web.Request) -> web.Response:
    try:
        app_filter = AppFilter.from_query(request.query)
    except FilterError as exc:
        return _error(400, str(exc))
    snapshot = request.app[SOURCE_KEY].snapshot()
    client = _fleet_client(request)
    headers = {"Cache-Control": "no-cache"}
    if client is None:
        text = await _in_executor(_apps_json, snapshot, app_filter)
    else:
        local, remote = await asyncio.gather(_in_executor(_summaries, snapshot, app_filter),
                                             client.list_apps(request.query.items()))
        text = await _in_executor(lambda: to_json(merge_apps(local, remote.apps)))
        headers.update(_unreachable_headers(remote.unreachable))
    response = web.Response(text=text, content_type="application/json", headers=headers)
    response.enable_compression()
    return response


def _apps_json(snapshot: Snapshot, app_filter: AppFilter) -> str:
    return to_json(_summaries(snapshot, app_filter))


async def _from_owner(request: web.Request, suffix: str, accept: str,
                      unreachable: Callable[[str, int, int], web.Response]) -> web.Response | None:
    """A sibling's answer for an app this shard does not hold, passed on as is; None when no sibling
    holds it (unsharded, asked by a sibling, or this shard is the owner), so it is this shard's 404."""
    client = _fleet_client(request)
    name = request.match_info["name"]
    if client is None:
        return None
    owner = client.fleet.owner(name)
    if owner == client.fleet.index or owner not in client.fleet.peers:
        return None
    try:
        answer = await client.fetch(owner, app_path(name, suffix), accept=accept)
    except PeerUnreachable:
        return unreachable(name, owner, client.fleet.count)
    return web.Response(body=answer.body, status=answer.status,
                        headers={"Content-Type": answer.content_type, "Cache-Control": "no-cache",
                                 "X-Content-Type-Options": "nosniff"})


def _owner_down(name: str, owner: int, count: int) -> web.Response:
    return _error(502, f"shard {owner} of {count}, which evaluates app {name!r}, did not answer")


async def get_app(request: web.Request) -> web.Response:
    name, entry = _lookup(request)
    if entry is None:
        remote = await _from_owner(request, "", "application/json", _owner_down)
        return _error(404, f"no app named {name!r}") if remote is None else remote
    return json_response(app_detail(*entry))


async def get_history(request: web.Request) -> web.Response:
    name, entry = _lookup(request)
    if entry is None:
        query = f"?{request.query_string}" if request.query_string else ""
        remote = await _from_owner(request, f"/history{query}", "application/json", _owner_down)
        return _error(404, f"no app named {name!r}") if remote is None else remote
    try:
        window = parse_duration(request.query.get("since", "")) if "since" in request.query \
            else DEFAULT_HISTORY_WINDOW
    except ValueError as exc:
        return _error(400, f"since: {exc}")
    if window <= 0:
        return _error(400, "since: must be a positive duration, e.g. 7d")
    entries = request.app[SOURCE_KEY].history_of(name)
    return json_response(history_json(name, entries, window, request.app[CLOCK_KEY].now()))


async def _render_diff(app: web.Application, config: AppConfig, status: AppStatus) -> str:
    return await _in_executor(app[DIFF_KEY], config, status)


async def get_diff(request: web.Request) -> web.Response:
    name, entry = _lookup(request)
    if entry is None:
        remote = await _from_owner(request, "/diff", "text/plain", _owner_down)
        return _error(404, f"no app named {name!r}") if remote is None else remote
    text = await _render_diff(request.app, *entry)
    return web.Response(text=text, content_type="text/plain", headers={"Cache-Control": "no-cache"})


def _badge(svg: str, status: int) -> web.Response:
    return web.Response(text=svg, status=status, content_type="image/svg+xml",
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


async def get_badge(request: web.Request) -> web.Response:
    name, entry = _lookup(request)
    if entry is None:
        remote = await _from_owner(request, "/badge.svg", "image/svg+xml",
                                   lambda app, _owner, _count: _badge(unreachable_badge(app), 502))
        return _badge(missing_app_badge(name), 404) if remote is None else remote
    return _badge(state_badge(name, str(entry[1].state)), 200)


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
    source = request.app[SOURCE_KEY]
    if source.ready():
        return web.Response(text="ok\n")
    reason = source.not_ready_reason() or "caches have not synced yet"
    return web.Response(text=f"not ready: {reason}\n", status=503)


async def webhook(request: web.Request) -> web.Response:
    source = request.app[SOURCE_KEY]
    return await handle_webhook(request, gate=request.app[GATE_KEY], on_push=source.on_git_push)


async def _remote_detail(client: FleetClient, name: str) -> tuple[dict[str, Any], str, dict[str, Any] | None] | None:
    """A sibling's app, as its API shows it, with its diff and history; None when the owner does not answer."""
    owner = client.fleet.owner(name) if name else client.fleet.index
    if owner == client.fleet.index or owner not in client.fleet.peers:
        return None
    try:
        detail, diff, history = await asyncio.gather(
            client.fetch(owner, app_path(name)), client.fetch(owner, app_path(name, "/diff"), accept="text/plain"),
            client.fetch(owner, app_path(name, "/history")))
    except PeerUnreachable:
        return None
    data = json_app(detail)
    if data is None or diff.status != 200:
        return None
    return data, diff.body.decode("utf-8", "replace"), json_history(history)


def _page_html(snapshot: Snapshot, remote: list[dict[str, Any]], app_filter: AppFilter, *,
               shown: tuple[dict[str, Any], str] | None, now: float, history: dict[str, Any] | None = None,
               **options: Any) -> str:
    apps = merge_apps(_summaries(snapshot, AppFilter()), remote)
    detail = render_app_detail(shown[0], shown[1], now, app_filter, history) if shown else None
    return render_fleet_page(apps, app_filter, detail=detail, now=now, **options)


async def status_page(request: web.Request) -> web.Response:
    source = request.app[SOURCE_KEY]
    client = request.app[FLEET_KEY]
    try:
        app_filter = AppFilter.from_query(request.query)
    except FilterError:
        app_filter = AppFilter()
    snapshot = source.snapshot()
    now = request.app[CLOCK_KEY].now()
    name = request.query.get("app", "")
    entry = snapshot.get(name)
    shown: tuple[dict[str, Any], str] | None = None
    remote_apps: list[dict[str, Any]] = []
    unreachable: list[int] = []
    history = None
    if entry is not None:
        shown = (app_detail(*entry), await _render_diff(request.app, *entry))
        history = history_json(name, source.history_of(name), DEFAULT_HISTORY_WINDOW, now)
    if client is not None:
        # The page lists every app and filters by hiding rows, so siblings are asked unfiltered.
        remote, remote_shown = await asyncio.gather(
            client.list_apps(), _remote_detail(client, name if entry is None else ""))
        remote_apps, unreachable = remote.apps, remote.unreachable
        if shown is None and remote_shown is not None:
            shown, history = remote_shown[:2], remote_shown[2]
    html = await _in_executor(functools.partial(
        _page_html, snapshot, remote_apps, app_filter, shown=shown, history=history, ready=source.ready(), now=now,
        refresh_seconds=request.app[REFRESH_KEY], shard_count=client.fleet.count if client else None,
        unreachable=unreachable))
    response = web.Response(text=html, content_type="text/html", headers=_PAGE_HEADERS)
    response.enable_compression()
    return response


def build_app(source: StatusSource, *, metrics_registry: CollectorRegistry,
              webhook_secret: str | None = None, webhook_max_body: int = 5 * 1024 * 1024,
              webhook_max_concurrent: int = 4, diff: DiffRenderer | None = None,
              page_refresh_seconds: float = 5.0,
              app_metrics: Callable[[], list[bytes]] | None = None, fleet: Fleet | None = None,
              clock: Clock | None = None) -> web.Application:
    """The agent's web application.

    ``app_metrics`` returns pre-rendered exposition text (in pieces) appended to the registry's on ``/metrics``
    (the per-app families, which at fleet size are too many samples to encode per scrape).

    ``diff`` renders an app's diff as text; without one, a unified diff of the compared (already
    redacted) views is shown. ``webhook_secret`` unset accepts unsigned webhooks, for networks
    where only trusted senders reach the agent; ``webhook_max_body`` (bytes) and
    ``webhook_max_concurrent`` bound what webhook requests may cost. The status page polls the API every
    ``page_refresh_seconds``.

    ``fleet`` (a sharded agent) makes the app list, the app routes and the status page answer
    for every shard, by asking the siblings for their own apps.
    """
    app = web.Application(client_max_size=MAX_BODY)
    app[SOURCE_KEY] = source
    app[CLOCK_KEY] = clock or SystemClock()
    app[REGISTRY_KEY] = metrics_registry
    app[GATE_KEY] = WebhookGate(webhook_secret, max_body=webhook_max_body, max_concurrent=webhook_max_concurrent)
    app[DIFF_KEY] = diff or (lambda _config, status: fallback_diff(status))
    app[REFRESH_KEY] = float(page_refresh_seconds)
    app[APP_METRICS_KEY] = app_metrics
    app[FLEET_KEY] = client = FleetClient(fleet) if fleet is not None and fleet.peers else None
    if client is not None:
        app.on_cleanup.append(lambda _app: client.close())
    app.router.add_get("/", status_page)
    app.router.add_get("/favicon.svg", favicon)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/api/v1/apps", list_apps)
    # A name may hold a slash (Flux apps are NAMESPACE/NAME), so it matches across segments; the
    # routes with a suffix come first.
    app.router.add_get("/api/v1/apps/{name:.+}/diff", get_diff)
    app.router.add_get("/api/v1/apps/{name:.+}/badge.svg", get_badge)
    app.router.add_get("/api/v1/apps/{name:.+}/history", get_history)
    app.router.add_get("/api/v1/apps/{name:.+}", get_app)
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
