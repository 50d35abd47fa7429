"""The ``gitops-drift-exporter`` command.

``run`` is the agent; ``check`` and ``diff`` evaluate once for CI pipelines and people; ``health``
classifies objects from files; ``demo`` shows the whole thing against a simulated cluster;
``notify test`` and ``report freeze`` serve the alerting and change-review workflows.

Exit codes follow the usual contract for checks: 0 all good, 1 something bad, 2 could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from exporter import logs

if TYPE_CHECKING:
    from exporter.server.fleet import Fleet

log = logging.getLogger("exporter")

EXIT_OK, EXIT_BAD, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A bad command line or config: printed as one clear message, exit 2."""


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise UsageError(f"--listen: expected HOST:PORT, got {text!r}")
    return (host.strip("[]") or "0.0.0.0"), int(port)


def parse_shard(text: str | None, env: dict[str, str] | None = None) -> tuple[int, int] | None:
    """``--shard N/M``, or ``GITOPS_SHARD=N/M``, or ``GITOPS_SHARD_COUNT`` with the ordinal taken
    from the trailing ``-<n>`` of ``POD_NAME`` (a StatefulSet pod)."""
    env = dict(os.environ) if env is None else env
    text = text or env.get("GITOPS_SHARD")
    if not text and env.get("GITOPS_SHARD_COUNT"):
        match = re.search(r"-(\d+)$", env.get("POD_NAME", ""))
        if not match:
            raise UsageError("GITOPS_SHARD_COUNT is set but POD_NAME does not end in -<ordinal>")
        text = f"{match.group(1)}/{env['GITOPS_SHARD_COUNT']}"
    if not text:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or int(match.group(2)) < 1 or int(match.group(1)) >= int(match.group(2)):
        raise UsageError(f"--shard: expected N/M with 0 <= N < M, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def parse_peers(text: str | None, shard: tuple[int, int] | None, env: dict[str, str] | None = None) -> Fleet | None:
    """``--peer-url-template`` or ``GITOPS_PEER_URL_TEMPLATE``: where the sibling shards answer, so
    that every shard's API and status page can show the whole fleet. Returns a
    :class:`exporter.server.fleet.Fleet`, or None when no template is given."""
    from exporter.server.fleet import Fleet, PeerTemplateError

    env = dict(os.environ) if env is None else env
    source = "--peer-url-template" if text else "GITOPS_PEER_URL_TEMPLATE"
    template = text or env.get("GITOPS_PEER_URL_TEMPLATE")
    if not template:
        return None
    if shard is None:
        raise UsageError(f"{source} only applies to a sharded agent (--shard N/M or GITOPS_SHARD_COUNT); "
                         "without sharding every app is evaluated here and there are no peers to ask")
    try:
        return Fleet.from_template(template, *shard)
    except PeerTemplateError as exc:
        raise UsageError(f"{source}: {exc}") from None


def parse_duration(text: str) -> float:
    total, pos = 0.0, 0
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    for match in re.finditer(r"(\d+(?:\.\d+)?)([smhdw])", text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * units[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return float(text)
        raise UsageError(f"expected a duration like 7d, 12h or 30m, got {text!r}")
    return total


def _load(path: str) -> Any:
    from exporter.config import ConfigError, load_config
    try:
        return load_config(path)
    except ConfigError as exc:
        raise UsageError(f"invalid config, not starting:\n{exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot read config {path}: {exc.strerror}") from None


# ---- commands ---------------------------------------------------------------------------------------

async def cmd_run(args: argparse.Namespace) -> int:
    host, port = parse_listen(args.listen)
    shard = parse_shard(args.shard)
    fleet = parse_peers(args.peer_url_template, shard)
    return await run_agent(args.config, host, port, shard=shard, cache_dir=args.cache_dir, fleet=fleet)


async def run_agent(config_path: str, host: str, port: int, *, shard: tuple[int, int] | None = None,
                    cache_dir: str | None = None, banner: str | None = None,
                    duration: float | None = None, fleet: Fleet | None = None) -> int:
    """Run the agent and its HTTP server until SIGTERM/SIGINT (or ``duration`` seconds).

    SIGHUP, or a change of the config file, reloads the config; an invalid new config is refused
    and the running one kept, so a typo never takes monitoring down. ``fleet`` (from
    :func:`parse_peers`) lets this shard's API and status page answer for its siblings' apps too.
    """
    from exporter.agent import Agent
    from exporter.metrics import REGISTRY, AppStatusCollector
    from exporter.notify import Notifier, NotifyError
    from exporter.server import build_app, serve

    config = _load(config_path)
    try:
        notifier = Notifier(config.notifications) if config.notifications.channels else None
    except NotifyError as exc:
        raise UsageError(f"invalid config, not starting:\n{config_path}: notifications: {exc}") from None
    agent = Agent(config, shard=shard, notifier=notifier, cache_dir=cache_dir)
    if config.freeze_log:
        from exporter.windows import FreezeLog
        agent.freeze_log = FreezeLog(config.freeze_log, agent.clock)
    collector = AppStatusCollector(agent.snapshot, agent.ready)
    web = build_app(agent, metrics_registry=REGISTRY, webhook_secret=_webhook_secret(config),
                    webhook_max_body=config.webhook_max_body, webhook_max_concurrent=config.webhook_max_concurrent,
                    diff=agent.diff_text, app_metrics=collector.text, fleet=fleet)
    try:
        runner = await serve(web, host, port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    stop = asyncio.Event()
    reload = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGHUP, reload.set)

    async def watch_config() -> None:
        last = _mtime(config_path)
        while True:
            await asyncio.sleep(5)
            now = _mtime(config_path)
            if now != last:
                last = now
                reload.set()

    async def reloader() -> None:
        while True:
            await reload.wait()
            reload.clear()
            try:
                await reload_config(agent, config_path)
            except ReloadRefused as exc:
                log.error("config reload refused, keeping the running config:\n%s", exc)

    helpers: list[asyncio.Task[None]] = []
    try:
        await agent.start()
        if banner:
            print(banner, flush=True)
        helpers = [asyncio.create_task(watch_config()), asyncio.create_task(reloader())]
        if duration is not None:
            loop.call_later(duration, stop.set)
        await stop.wait()
        log.info("shutting down")
    finally:
        for task in helpers:
            task.cancel()
        await agent.close()
        await runner.cleanup()
    return EXIT_OK


class ReloadRefused(Exception):
    """A new config that is not applied; the running one stays, whole."""


async def read_settled_config(path: str, settle: float = 0.5) -> Any:
    """Read and validate the config file, then read it again after ``settle`` seconds: a file
    caught half written by an editor or a ConfigMap update differs between the two reads and is
    refused (the next change of the file triggers another reload). Raises :class:`ReloadRefused`."""
    from exporter.config import ConfigError, parse_config

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


async def reload_config(agent: Any, path: str, settle: float = 0.5) -> None:
    """Apply a new config all or nothing: validated, read whole, notification channels opened,
    and only then the apps, clusters and channels switched over."""
    from exporter.notify import Notifier, NotifyError

    config = await read_settled_config(path, settle)
    notifier, channels = agent.notifier, None
    if config.notifications != agent.config.notifications:
        try:
            if notifier is not None:
                channels = await notifier.open_channels(config.notifications)
            elif config.notifications.channels:
                notifier = Notifier(config.notifications)
                await notifier.start()
        except NotifyError as exc:
            raise ReloadRefused(f"{path}: notifications: {exc}") from None
    for attr, key in _RESTART_ONLY:
        if getattr(config, attr) != getattr(agent.config, attr):
            log.warning("%s: a change of %s takes effect after a restart", path, key)
    if notifier is not None and notifier is not agent.notifier:
        agent.notifier = notifier
    await agent.reload(config)
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


async def _evaluate_once(config_path: str, only: str | None, cache_dir: str | None) -> tuple[Any, Any]:
    from exporter.agent import Agent
    config = _load(config_path)
    agent = Agent(config, cache_dir=cache_dir)
    try:
        await agent.start(watch=False)
    except BaseException:
        await agent.close()
        raise
    if only is not None and only not in agent.snapshot():
        await agent.close()
        raise UsageError(f"no app named {only!r} in {config_path} "
                         f"(apps: {', '.join(sorted(agent.snapshot())) or 'none'})")
    return agent, config


async def cmd_check(args: argparse.Namespace) -> int:
    from exporter.server.api import app_detail
    agent, _ = await _evaluate_once(args.config, args.app, args.cache_dir)
    try:
        snap = agent.snapshot()
        names = [args.app] if args.app else sorted(snap)
        rows = [snap[n] for n in names]
        if args.output == "json":
            print(json.dumps([app_detail(a, s) for a, s in rows], indent=2))
        else:
            print(_table(["APP", "STATE", "SYNC", "HEALTH", "REVISION", "REASON"],
                         [[s.name, s.state.value, s.sync.value, s.health.value, (s.revision or "")[:10],
                           s.reason] for _, s in rows]))
        bad = [s for a, s in rows if s.state.value in a.notifications.bad_states]
        return EXIT_BAD if bad else EXIT_OK
    finally:
        await agent.close()


async def cmd_diff(args: argparse.Namespace) -> int:
    agent, _ = await _evaluate_once(args.config, args.app, args.cache_dir)
    try:
        app, status = agent.snapshot()[args.app]
        if status.error:
            print(f"{args.app}: {status.state.value}: {status.error}", file=sys.stderr)
            return EXIT_ERROR
        text = agent.diff_text(app, status)
        print(text if text else f"{args.app}: no differences ({status.sync.value})", end="" if text else "\n")
        return EXIT_BAD if text else EXIT_OK
    finally:
        await agent.close()


def cmd_health(args: argparse.Namespace) -> int:
    from exporter.health import classify_file
    results = [classify_file(path) for path in args.files]
    if args.output == "json":
        for result in results:
            print(json.dumps(result))
    else:
        print(_table(["FILE", "KIND", "NAME", "STATUS", "MESSAGE"],
                     [[r["file"], r["kind"] or "", r["name"] or "", r["status"] or "-",
                       (r["message"] or "").replace("\n", " ")] for r in results]))
    return EXIT_BAD if any(r["status"] not in (None, "Healthy", "Suspended") for r in results) else EXIT_OK


async def cmd_demo(args: argparse.Namespace) -> int:
    from exporter.demo import run_demo
    host, port = parse_listen(args.listen)
    return await run_demo(host, port, duration=args.duration)


async def cmd_notify_test(args: argparse.Namespace) -> int:
    from exporter.notify import Notifier, NotifyError
    config = _load(args.config)
    notifier: Notifier | None = None
    try:
        notifier = Notifier(config.notifications)
        await notifier.start()
        await notifier.send_test(args.channel)
    except NotifyError as exc:
        print(f"notify test {args.channel}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if notifier is not None:
            await notifier.close()
    print(f"test message sent to {args.channel}")
    return EXIT_OK


async def cmd_report_freeze(args: argparse.Namespace) -> int:
    import time

    from exporter.clock import SystemClock
    from exporter.windows import FreezeLog
    since = time.time() - parse_duration(args.since)
    config = _load(args.config)
    if not config.freeze_log:
        raise UsageError(f"{args.config}: freezeLog is not set, so no freeze violations were kept")
    print(FreezeLog(config.freeze_log, SystemClock()).report(since, args.output), end="")
    return EXIT_OK


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    widths[-1] = 0
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    return "\n".join(lines)


# ---- parser ----------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gitops-drift-exporter", description=__doc__.split("\n")[0])
    p.add_argument("--log-level", default=os.environ.get("GITOPS_LOG_LEVEL", "info"),
                   choices=["debug", "info", "warning", "error"])
    p.add_argument("--log-format", default=os.environ.get("GITOPS_LOG_FORMAT", "text"), choices=["text", "json"])
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the agent: evaluate continuously and serve metrics, API and status page")
    run.add_argument("--config", required=True)
    run.add_argument("--listen", default="0.0.0.0:8080")
    run.add_argument("--shard", help="N/M: own the apps whose name hashes to shard N of M")
    run.add_argument("--peer-url-template", metavar="URL",
                     help="with --shard: base URL of shard {shard}, e.g. http://gde-{shard}.gde-shards:8080, so that "
                          "the API and status page show every shard's apps (env GITOPS_PEER_URL_TEMPLATE)")
    run.add_argument("--cache-dir")

    check = sub.add_parser("check", help="evaluate once; exit 0 all good, 1 something bad, 2 could not run")
    check.add_argument("--config", required=True)
    check.add_argument("--app")
    check.add_argument("--output", choices=["table", "json"], default="table")
    check.add_argument("--cache-dir")

    dif = sub.add_parser("diff", help="show a unified diff per drifted object of one app")
    dif.add_argument("--config", required=True)
    dif.add_argument("app")
    dif.add_argument("--cache-dir")

    health = sub.add_parser("health", help="classify objects read from files as if they were live")
    health.add_argument("--output", choices=["json", "table"], default="table")
    health.add_argument("files", nargs="+")

    demo = sub.add_parser("demo", help="run against an embedded simulated cluster and sample Git repo")
    demo.add_argument("--listen", default="127.0.0.1:8080")
    demo.add_argument("--duration", type=float, default=None, help="stop after this many seconds")

    notify = sub.add_parser("notify", help="notification tools")
    nsub = notify.add_subparsers(dest="notify_command", required=True)
    ntest = nsub.add_parser("test", help="send a test message to a configured channel")
    ntest.add_argument("channel")
    ntest.add_argument("--config", required=True)

    report = sub.add_parser("report", help="reports for change reviews")
    rsub = report.add_subparsers(dest="report_command", required=True)
    freeze = rsub.add_parser("freeze", help="what changed while apps were frozen")
    freeze.add_argument("--config", required=True)
    freeze.add_argument("--since", default="7d")
    freeze.add_argument("--output", choices=["table", "json", "markdown"], default="table")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.setup(args.log_level, args.log_format)
    try:
        if args.command == "health":
            return cmd_health(args)
        handler = {
            "run": cmd_run, "check": cmd_check, "diff": cmd_diff, "demo": cmd_demo,
        }.get(args.command)
        if args.command == "notify":
            handler = cmd_notify_test
        elif args.command == "report":
            handler = cmd_report_freeze
        assert handler is not None
        return asyncio.run(handler(args))
    except UsageError as exc:
        print(f"gitops-drift-exporter: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
