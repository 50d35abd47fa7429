"""The ``gitops-drift-exporter`` command.

``run`` is the agent; ``check`` and ``diff`` evaluate once for CI pipelines and people; ``health``
classifies objects from files; ``demo`` shows the whole thing against a simulated cluster;
``notify test`` and ``report freeze`` serve the alerting and change-review workflows.

Exit codes follow the usual contract for checks: 0 all good, 1 something bad, 2 could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from exporter import humanize, logs
from exporter.status import app_diff, is_bad
from exporter.wiring import (
    EXIT_BAD,
    EXIT_ERROR,
    EXIT_OK,
    ReloadRefused,
    UsageError,
    evaluate_once,
    load_or_refuse,
    read_settled_config,
    reload_config,
    run_agent,
)

if TYPE_CHECKING:
    from exporter.server.fleet import Fleet

log = logging.getLogger("exporter")

__all__ = ["ReloadRefused", "UsageError", "build_parser", "main", "read_settled_config", "reload_config",
           "run_agent"]



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
    """``--since 7d``: a duration as :func:`exporter.humanize.parse_duration` reads it."""
    try:
        return humanize.parse_duration(text)
    except ValueError:
        raise UsageError(f"expected a duration like 7d, 12h or 30m, got {text!r}") from None


# ---- commands ---------------------------------------------------------------------------------------

async def cmd_run(args: argparse.Namespace) -> int:
    host, port = parse_listen(args.listen)
    shard = parse_shard(args.shard)
    fleet = parse_peers(args.peer_url_template, shard)
    return await run_agent(args.config, host, port, shard=shard, cache_dir=args.cache_dir, fleet=fleet)


async def cmd_check(args: argparse.Namespace) -> int:
    from exporter.server.api import app_detail
    agent, _ = await evaluate_once(args.config, args.app, args.cache_dir)
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
        # A list that is not whole cannot be "all good": say what could not list its apps.
        problems = agent.listing_errors() + ([] if rows else ["no apps were evaluated"])
        for problem in problems:
            print(f"check: {problem}", file=sys.stderr)
        if problems:
            return EXIT_ERROR
        bad = [s for a, s in rows if is_bad(s.state, a.notifications)]
        return EXIT_BAD if bad else EXIT_OK
    finally:
        await agent.close()


async def cmd_diff(args: argparse.Namespace) -> int:
    agent, _ = await evaluate_once(args.config, args.app, args.cache_dir)
    try:
        app, status = agent.snapshot()[args.app]
        if status.error:
            print(f"{args.app}: {status.state.value}: {status.error}", file=sys.stderr)
            return EXIT_ERROR
        text = app_diff(status)
        print(text if text else f"{args.app}: no differences ({status.sync.value})", end="" if text else "\n")
        return EXIT_BAD if text else EXIT_OK
    finally:
        await agent.close()


def cmd_health(args: argparse.Namespace) -> int:
    from exporter.health import classify_documents
    results = [result for path in args.files for result in classify_documents(path)]
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
    config = load_or_refuse(args.config)
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
    from exporter.clock import SystemClock
    from exporter.windows import FreezeLog
    since = SystemClock().now() - parse_duration(args.since)
    config = load_or_refuse(args.config)
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
