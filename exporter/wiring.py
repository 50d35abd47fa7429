"""Where the parts are put together: configs loaded with every stage's checks, the agent and its
collaborators built and started, reloads applied all or nothing.

The commands (:mod:`exporter.cli`) and the demo (:mod:`exporter.demo`) both start the agent through
:func:`run_agent`; nothing below this module imports it, so every stage stays usable on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
from typing import TYPE_CHECKING, Any

from exporter.clock import Clock, SystemClock
from exporter.config import Config, ConfigError
from exporter.config import load_config as load_structure
from exporter.config import parse_config as parse_structure
from exporter.diff import validate_rules
from exporter.git import GitCache, GitError
from exporter.health import HealthEngine
from exporter.history import HistoryBook
from exporter.status import app_diff
from exporter.supervision import Supervisor
from exporter.windows import FreezeLog, WindowError, WindowSchedule

if TYPE_CHECKING:
    from exporter.agent import Agent
    from exporter.config_types import ClusterConfig
    from exporter.metrics.argocd import ArgoCDNames
    from exporter.notify import Notifier
    from exporter.parts import Parts
    from exporter.pipeline.clusters import Cluster
    from exporter.server.fleet import Fleet

log = logging.getLogger("exporter")

EXIT_OK, EXIT_BAD, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A bad command line or config: printed as one clear message, exit 2."""


def content_errors(config: Config) -> list[str]:
    """What only the owning stage can judge: Lua and CEL health checks that do not compile, jq
    expressions and JSON pointers in ignore rules, cron schedules and time zones of windows. Checked
    at load so a typo is refused before start rather than turning apps Unknown later."""
    errors = list(HealthEngine.validate(config.health_checks))
    rules = {id(r): r for app in config.apps for r in app.compare.ignore_differences}
    errors += [e for e in validate_rules(list(rules.values())) if e not in errors]
    try:
        WindowSchedule(config.windows)
    except WindowError as exc:
        errors.append(f"{config.path}: {exc}")
    return errors


def load_config(path: str) -> Config:
    """The config at ``path``, checked whole: structure, and what the later stages judge."""
    return load_structure(path, content_errors)


def parse_config(text: str, path: str = "config.yaml") -> Config:
    """Like :func:`load_config` for text already read."""
    return parse_structure(text, path, content_errors)


def load_or_refuse(path: str) -> Any:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise UsageError(f"invalid config, not starting:\n{exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot read config {path}: {exc.strerror}") from None


async def run_agent(config_path: str, host: str, port: int, *, shard: tuple[int, int] | None = None,
                    cache_dir: str | None = None, banner: str | None = None,
                    duration: float | None = None, fleet: Fleet | None = None) -> int:
    """Run the agent and its HTTP server until SIGTERM/SIGINT (or ``duration`` seconds).

    SIGHUP, or a change of the config file, reloads the config; an invalid new config is refused
    and the running one kept, so a typo never takes monitoring down. ``fleet`` (from
    :func:`parse_peers`) lets this shard's API and status page answer for its siblings' apps too.
    """
    config = load_or_refuse(config_path)
    agent = build_agent(config, config_path, shard=shard, cache_dir=cache_dir)
    runner = await _serve(agent, config, host, port, fleet)
    stop, reload = _signal_events()
    loop = asyncio.get_running_loop()
    try:
        await agent.start()
        if banner:
            print(banner, flush=True)
        agent.supervisor.start("config-file-watch", functools.partial(_watch_file, config_path, reload))
        agent.supervisor.start("config-reload", functools.partial(_reloads, agent, config_path, reload))
        if duration is not None:
            loop.call_later(duration, stop.set)
        await stop.wait()
        log.info("shutting down")
    finally:
        await agent.close()
        await runner.cleanup()
    return EXIT_OK


def build_parts(config: Config, *, clock: Clock | None = None, shard: tuple[int, int] | None = None,
                notifier: Notifier | None = None, cache_dir: str | None = None, concurrency: int = 8,
                keep_state: bool = True) -> Parts:
    """Every part an agent works with, built from ``config``. ``keep_state=False`` (one-shot
    commands) neither reads nor writes the history file, which belongs to the running agent.
    Raises ``GitError`` when the cache directory cannot be made."""
    from exporter.parts import Parts
    from exporter.pipeline.desired import Revisions
    from exporter.pipeline.freezes import FreezeWatch
    from exporter.pipeline.listing import AppLister
    from exporter.pipeline.scheduling import Scheduler
    from exporter.pipeline.sources import SourceWatch
    from exporter.pipeline.table import AppTable

    clock = clock or SystemClock()
    git = GitCache(cache_dir or config.cache_dir or _default_cache_dir(), config.repositories,
                   timeout=config.git_timeout)
    windows = (notifier.windows if notifier is not None else None) or WindowSchedule(config.windows, clock)
    if notifier is not None:
        notifier.windows = windows
    freeze_log = FreezeLog(config.freeze_log, clock)
    history = HistoryBook((config.state_file or os.path.join(git.cache_dir, "app-state.json")) if keep_state else None)
    supervisor = Supervisor(clock=clock)
    scheduler = Scheduler(concurrency, supervisor=supervisor)
    clusters = {c.name: _cluster(c, config, clock) for c in config.clusters}
    revisions = Revisions(git)
    apps = AppTable()
    return Parts(config=config, clock=clock, git=git, revisions=revisions, health=HealthEngine(config.health_checks),
                 windows=windows, freeze_log=freeze_log, freezes=FreezeWatch(windows, freeze_log, clock),
                 history=history, notifier=notifier, supervisor=supervisor, scheduler=scheduler,
                 clusters=clusters, apps=apps, sources=SourceWatch(revisions, apps, scheduler.mark),
                 lister=AppLister(git, clusters, windows, shard))


def _cluster(cluster: ClusterConfig, config: Config, clock: Clock) -> Cluster:
    """One configured cluster, not connected yet: at start and for each cluster a reload changes."""
    from exporter.pipeline.clusters import Cluster

    return Cluster(cluster, stale_after=config.stale_after, clock=clock)


def build_agent(config: Config, config_path: str | None = None, **options: Any) -> Agent:
    """The agent over :func:`build_parts`, with the notifier ``config`` names (unless
    ``notifier=`` is given); a config or cache directory it cannot use is a :class:`UsageError`."""
    from exporter.agent import Agent
    from exporter.notify import Notifier, NotifyError

    if "notifier" not in options and config.notifications.channels:
        try:
            options["notifier"] = Notifier(config.notifications, options.get("clock"))
        except NotifyError as exc:
            raise UsageError(f"invalid config, not starting:\n{config_path or config.path}: "
                             f"notifications: {exc}") from None
    try:
        return Agent(build_parts(config, **options))
    except GitError as exc:  # the cache directory cannot be made: say so, not a traceback
        raise UsageError(str(exc)) from None


def _default_cache_dir() -> str:
    import tempfile
    return os.environ.get("GITOPS_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "gitops-drift-exporter")


async def _serve(agent: Agent, config: Config, host: str, port: int, fleet: Fleet | None) -> Any:
    """The HTTP server over ``agent``, listening."""
    from exporter.metrics import REGISTRY, AppStatusCollector
    from exporter.server import build_app, serve

    collector = AppStatusCollector(agent.snapshot, agent.ready, argocd=functools.partial(_argocd_names, agent))
    web = build_app(agent, metrics_registry=REGISTRY, webhook_secret=_webhook_secret(config),
                    webhook_max_body=config.webhook_max_body, webhook_max_concurrent=config.webhook_max_concurrent,
                    diff=lambda _app, status: app_diff(status), app_metrics=collector.chunks, fleet=fleet, clock=agent.clock)
    try:
        return await serve(web, host, port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _argocd_names(agent: Agent) -> ArgoCDNames | None:
    """What ``argocd_app_info`` needs, while ``metrics.argocdAppInfo`` is on: each cluster's API
    server URL as Argo CD names it (``https://kubernetes.default.svc`` for the one the agent runs in)."""
    from exporter.metrics.argocd import IN_CLUSTER_SERVER, ArgoCDNames
    config = agent.parts.config
    if not config.argocd_metrics:
        return None
    servers = {name: IN_CLUSTER_SERVER if cluster.config.in_cluster else
               (cluster.client.host if cluster.client is not None else "")
               for name, cluster in agent.parts.clusters.items()}
    return ArgoCDNames(namespace=config.argocd_namespace, servers=servers)


def _signal_events() -> tuple[asyncio.Event, asyncio.Event]:
    """``(stop, reload)``: set by SIGTERM or SIGINT, and by SIGHUP."""
    stop, reload = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig, event in ((signal.SIGTERM, stop), (signal.SIGINT, stop), (signal.SIGHUP, reload)):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, event.set)
    return stop, reload


async def _watch_file(path: str, reload: asyncio.Event) -> None:
    """Ask for a reload when the config file changes (a ConfigMap update, an edit)."""
    last = _mtime(path)
    while True:
        await asyncio.sleep(5)
        now = _mtime(path)
        if now != last:
            last = now
            reload.set()


async def _reloads(agent: Agent, path: str, reload: asyncio.Event) -> None:
    while True:
        await reload.wait()
        reload.clear()
        try:
            await reload_config(agent, path)
        except ReloadRefused as exc:
            log.error("config reload refused, keeping the running config:\n%s", exc)


class ReloadRefused(Exception):
    """A new config that is not applied; the running one stays, whole."""


async def read_settled_config(path: str, settle: float = 0.5) -> Any:
    """Read and validate the config file, then read it again after ``settle`` seconds: a file
    caught half written by an editor or a ConfigMap update differs between the two reads and is
    refused (the next change of the file triggers another reload). Raises :class:`ReloadRefused`."""
    def read() -> str:
        with open(path, encoding="utf-8") as fh:
            return fh.read()

    loop = asyncio.get_running_loop()
    try:
        first = await loop.run_in_executor(None, read)
        config = parse_config(first, path)
        await asyncio.sleep(settle)
        second = await loop.run_in_executor(None, read)
    except ConfigError as exc:
        raise ReloadRefused(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReloadRefused(f"{path}: cannot read: {exc}") from None
    if first != second:
        raise ReloadRefused(f"{path}: the file changed while it was being read (half written?); "
                            "it is read again at its next change")
    if not config.apps and not config.generators:
        raise ReloadRefused(f"{path}: has no apps and no appGenerators; an empty config would stop "
                            "monitoring every app (stop the agent to do that)")
    return config


#: Settings read once at start; a reload that changes them says so.
_RESTART_ONLY = (("cache_dir", "cacheDir"), ("webhook_secret_env", "webhook.secretEnv"),
                 ("webhook_secret_file", "webhook.secretFile"), ("webhook_max_body", "webhook.maxBodyBytes"),
                 ("webhook_max_concurrent", "webhook.maxConcurrent"), ("freeze_log", "freezeLog"))


async def reload_config(agent: Agent, path: str, settle: float = 0.5) -> None:
    """Apply the config file anew, all or nothing: see :func:`apply_config`."""
    await apply_config(agent, await read_settled_config(path, settle), path)


async def apply_config(agent: Agent, config: Config, path: str = "config.yaml") -> None:
    """Apply a new config all or nothing: notification channels opened and the new clusters built
    first, and only then the apps, clusters and channels switched over (:meth:`Agent.reload`)."""
    from exporter.notify import Notifier, NotifyError
    from exporter.parts import NewParts

    notifier, channels = agent.parts.notifier, None
    if config.notifications != agent.parts.config.notifications:
        try:
            if notifier is not None:
                channels = await notifier.open_channels(config.notifications)
            elif config.notifications.channels:
                notifier = Notifier(config.notifications, agent.clock, windows=agent.windows)
                await notifier.start()
        except NotifyError as exc:
            raise ReloadRefused(f"{path}: notifications: {exc}") from None
    for attr, key in _RESTART_ONLY:
        if getattr(config, attr) != getattr(agent.parts.config, attr):
            log.warning("%s: a change of %s takes effect after a restart", path, key)
    running = {c.name: c for c in agent.parts.config.clusters}
    clusters = {c.name: agent.parts.clusters[c.name] if running.get(c.name) == c and c.name in agent.parts.clusters
                else _cluster(c, config, agent.clock) for c in config.clusters}
    await agent.reload(NewParts(config, HealthEngine(config.health_checks), notifier, clusters))
    if channels is not None and notifier is not None:
        await notifier.use(config.notifications, channels)


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def _webhook_secret(config: Any) -> str | None:
    if config.webhook_secret_env:
        return os.environ.get(config.webhook_secret_env) or None
    if config.webhook_secret_file:
        with open(config.webhook_secret_file, encoding="utf-8") as fh:
            return fh.read().strip() or None
    return None


async def evaluate_once(config_path: str, only: str | None, cache_dir: str | None) -> tuple[Any, Any]:
    config = load_or_refuse(config_path)
    agent = build_agent(config, config_path, cache_dir=cache_dir, keep_state=False, notifier=None)
    try:
        await agent.start(watch=False, only=only)
    except BaseException:
        await agent.close()
        raise
    if only is not None and only not in agent.snapshot():
        await agent.close()
        raise UsageError(f"no app named {only!r} in {config_path} "
                         f"(apps: {', '.join(agent.app_names()) or 'none'})")
    return agent, config
