"""Read-only GitOps drift and health agent: compares what Git declares with what runs in Kubernetes.

``run`` is the agent; ``check`` and ``diff`` evaluate once for CI pipelines and people; ``health``
classifies objects from files; ``demo`` shows the whole thing against a simulated cluster;
``notify test`` and ``report freeze`` serve the alerting and change-review workflows.

Exit codes (:data:`EXIT_CODES`): 0 all good, 1 an app is bad, 2 could not run.
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
from typing import TYPE_CHECKING, Any, NoReturn

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



#: ``check``'s exit codes, as ``check --help`` and the README show them.
EXIT_CODES = (
    (EXIT_OK, "every app is in a good state"),
    (EXIT_BAD, "an app is bad: Degraded, Missing, OutOfSync, Progressing or Suspended past its notification "
               "rules, or Unknown because of the app itself (its manifests do not render, its kind is not served)"),
    (EXIT_ERROR, "could not run: a bad argument or config, an app source that could not list its apps, "
                 "no apps, or an app Unknown because the agent cannot see (a cluster unreachable or "
                 "without credentials, a repository or registry unreadable, a kind it may not read)"),
)


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise UsageError(f"--listen: expected HOST:PORT, got {text!r}")
    if int(port) > 65535:
        raise UsageError(f"--listen: port {port} is out of range (0-65535)")
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
        elif rows:
            print(_table(["APP", "STATE", "SYNC", "HEALTH", "REVISION", "REASON"],
                         [[s.name, s.state.value, s.sync.value, s.health.value, (s.revision or "")[:10],
                           s.reason] for _, s in rows]))
        # A list that is not whole, or an app the agent could not see, cannot be "all good" or "bad".
        problems = agent.listing_errors() + ([] if rows else [f"no apps were evaluated ({args.config} lists none)"])
        problems += [f"could not evaluate {s.name}: {s.error}" for _, s in rows if s.blind]
        for problem in problems:
            print(f"check: {problem}", file=sys.stderr)
        if problems:
            return EXIT_ERROR
        bad = [s for a, s in rows if is_bad(s.state, a.notifications)]
        return EXIT_BAD if bad else EXIT_OK
    finally:
        await agent.close()


def cmd_offline(args: argparse.Namespace) -> int:
    """``init`` and ``check --offline``: no cluster, no Git, no event loop."""
    from exporter.offline import check_offline, write_starter
    if args.command == "check":
        return check_offline(args.config, args.app)
    return write_starter(args.output, repo=args.repo, path=args.path, revision=args.revision,
                         namespace=args.namespace, cluster=args.cluster, kubeconfig=args.kubeconfig,
                         context=args.context, in_cluster=args.in_cluster, force=args.force)


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


#: The files ``health`` reads in a directory it is given.
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def manifest_files(paths: Sequence[str]) -> list[str]:
    """``paths`` with each directory replaced by the manifest files below it, in order."""
    found: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            found += sorted(os.path.join(root, name) for root, dirs, names in os.walk(path)
                            for name in names if name.endswith(MANIFEST_SUFFIXES) and not name.startswith("."))
        else:
            found.append(path)
    return found


def cmd_health(args: argparse.Namespace) -> int:
    """Exit 1 when an object is unhealthy, 2 when a file holds something that is not a Kubernetes
    object (or cannot be read), 0 otherwise."""
    from exporter.health import classify_documents
    files = manifest_files(args.files)
    if not files:
        raise UsageError(f"no manifest files ({', '.join(MANIFEST_SUFFIXES)}) in {', '.join(args.files)}")
    results = [result for path in files for result in classify_documents(path)]
    for r in results:
        if r["kind"] is None and r["status"] == "Unknown":
            continue  # the file's own problem, said in the message
        if not r["kind"] or not r["apiVersion"]:
            r["status"], r["message"] = "Unknown", "not a Kubernetes object (no apiVersion and kind)"
    if args.output == "json":
        for result in results:
            print(json.dumps(result))
    else:
        print(_table(["FILE", "KIND", "NAME", "STATUS", "MESSAGE"],
                     [[r["file"], r["kind"] or "", r["name"] or "", r["status"] or "-",
                       (r["message"] or "").replace("\n", " ")] for r in results]))
    if any(not r["kind"] or not r["apiVersion"] for r in results):
        return EXIT_ERROR
    return EXIT_BAD if any(r["status"] not in (None, "Healthy", "Suspended") for r in results) else EXIT_OK


async def cmd_demo(args: argparse.Namespace) -> int:
    from exporter.demo import run_demo
    host, port = parse_listen(args.listen)
    if args.duration is not None and args.duration <= 0:
        raise UsageError(f"--duration: expected a number of seconds above 0, got {args.duration:g}")
    return await run_demo(host, port, duration=args.duration, argocd_metrics=args.argocd_metrics)


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

class Parser(argparse.ArgumentParser):
    """argparse with a one-line error: ``PROG: what is wrong (see PROG --help)``, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def _global_options(p: argparse.ArgumentParser, *, defaults: bool) -> None:
    """``--log-level`` and ``--log-format``, before the command or after it: given after it, a
    value wins over one given before (the subcommand's default is "not given")."""
    level = os.environ.get("GITOPS_LOG_LEVEL", "info") if defaults else argparse.SUPPRESS
    fmt = os.environ.get("GITOPS_LOG_FORMAT", "text") if defaults else argparse.SUPPRESS
    p.add_argument("--log-level", default=level, choices=["debug", "info", "warning", "error"],
                   help="how much to log (env GITOPS_LOG_LEVEL; default info)")
    p.add_argument("--log-format", default=fmt, choices=["text", "json"],
                   help="log lines as text or as one JSON object each (env GITOPS_LOG_FORMAT; default text)")


def _config(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, metavar="FILE", help="the agent's config file (YAML)")


def _cache(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache-dir", metavar="DIR",
                   help="where Git mirrors, charts and artifacts are kept (default: the config's cacheDir, "
                        "else a directory under the user's cache)")


def _command(sub: Any, name: str, summary: str, description: str | None = None, epilog: str | None = None) -> Any:
    cmd = sub.add_parser(name, help=summary, description=description or summary[0].upper() + summary[1:] + ".",
                         epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    _global_options(cmd, defaults=False)
    return cmd


def _exit_code_table() -> str:
    return "exit codes:\n" + "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="gitops-drift-exporter", description=__doc__.split("\n")[0],
               epilog="Run 'gitops-drift-exporter COMMAND --help' for a command's options.")
    p.add_argument("--version", action="store_true", help="print the version and exit (with -v: also the "
                                                         "versions of Helm's library, kustomize and git found)")
    p.add_argument("-v", "--verbose", action="store_true", help="with --version: the versions of the tools too")
    _global_options(p, defaults=True)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    _init_command(sub)
    _evaluating_commands(sub)
    _tool_commands(sub)
    return p


def _evaluating_commands(sub: Any) -> None:
    """``run``, ``check`` and ``diff``: the commands that evaluate apps."""
    run = _command(sub, "run", "run the agent: evaluate continuously and serve metrics, API and status page")
    _config(run)
    run.add_argument("--listen", default="0.0.0.0:8080", metavar="HOST:PORT",
                     help="where to serve /metrics, the API and the page (default 0.0.0.0:8080)")
    run.add_argument("--shard", metavar="N/M", help="own the apps whose name hashes to shard N of M "
                                                    "(env GITOPS_SHARD, or GITOPS_SHARD_COUNT with POD_NAME)")
    run.add_argument("--peer-url-template", metavar="URL",
                     help="with --shard: base URL of shard {shard}, e.g. http://gde-{shard}.gde-shards:8080, so that "
                          "the API and status page show every shard's apps (env GITOPS_PEER_URL_TEMPLATE)")
    _cache(run)

    check = _command(sub, "check", "evaluate once; exit 0 all good, 1 an app is bad, 2 could not run",
                     "Evaluate every app (or one) once, print the verdicts, and exit with a code a CI gate "
                     "can act on.", _exit_code_table())
    _config(check)
    check.add_argument("--app", metavar="NAME", help="evaluate only this app")
    check.add_argument("--offline", action="store_true",
                       help="only check the config (every key, apps, generators, ignore rules, health checks, "
                            "windows, notifications) without contacting clusters or Git; exit 0 valid, 2 not")
    check.add_argument("--output", choices=["table", "json"], default="table",
                       help="a table for people, or JSON with every object (default table)")
    _cache(check)

    dif = _command(sub, "diff", "show a unified diff per drifted object of one app",
                   "Evaluate one app once and print a unified diff (Git against the cluster) per drifted object; "
                   "Secret values are redacted. Exit 0 without differences, 1 with, 2 when it cannot be evaluated.")
    _config(dif)
    dif.add_argument("app", metavar="APP", help="the app's name")
    _cache(dif)


def _init_command(sub: Any) -> None:
    """``init``: a starter config."""
    init = _command(sub, "init", "write a commented starter config from a kubeconfig context and a repository",
                    "Write a starter config: the cluster of the current kubeconfig context (or --context), one "
                    "app from the repository (one per directory when --path is a glob such as 'apps/*'), and "
                    "the optional sections commented out. The cluster and Git are not contacted.")
    init.add_argument("--repo", required=True, metavar="URL", help="the Git repository holding the manifests")
    init.add_argument("--path", default=".", metavar="PATH",
                      help="the directory of the manifests, or a glob of directories, one app each (default .)")
    init.add_argument("--revision", default="HEAD", metavar="REV", help="branch, tag or commit (default HEAD)")
    init.add_argument("--namespace", metavar="NS", help="the apps' namespace (default: default, or the "
                                                        "directory's name with a glob)")
    init.add_argument("--cluster", metavar="NAME", help="the cluster's name in the config (default: from the context)")
    init.add_argument("--kubeconfig", metavar="FILE", help="the kubeconfig (default $KUBECONFIG, else ~/.kube/config)")
    init.add_argument("--context", metavar="NAME", help="the kubeconfig context (default its current-context)")
    init.add_argument("--in-cluster", action="store_true",
                      help="for the agent running in the cluster with its ServiceAccount (no kubeconfig)")
    init.add_argument("--output", "-o", default="config.yaml", metavar="FILE",
                      help="where to write it; - for stdout (default config.yaml)")
    init.add_argument("--force", action="store_true", help="replace the file if it exists")


def _tool_commands(sub: Any) -> None:
    """``health``, ``demo``, ``notify`` and ``report``."""
    health = _command(sub, "health", "classify objects read from files as if they were live",
                      "Classify each object of the files (every YAML document, every item of a List; a directory "
                      "is read for its .yaml, .yml and .json files) with the agent's health checks. Exit 0 when "
                      "all are healthy, 1 when one is not, 2 when a file holds something that is not a Kubernetes "
                      "object.")
    health.add_argument("--output", choices=["json", "table"], default="table",
                        help="a table, or one JSON object per line (default table)")
    health.add_argument("files", nargs="+", metavar="PATH", help="manifest files or directories")

    demo = _command(sub, "demo", "run against an embedded simulated cluster and sample Git repo",
                    "Serve the status page, API and metrics for seven sample apps, one in each state, against "
                    "a simulated cluster: no cluster, Git server or credentials needed.")
    demo.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT",
                      help="where to serve the page, API and metrics (default 127.0.0.1:8080)")
    demo.add_argument("--duration", type=float, default=None, metavar="SECONDS", help="stop after this many seconds")
    demo.add_argument("--argocd-metrics", action="store_true",
                      help="also export argocd_app_info with Argo CD's labels (metrics.argocdAppInfo in a config)")

    notify = _command(sub, "notify", "notification tools")
    nsub = notify.add_subparsers(dest="notify_command", required=True, metavar="TOOL", parser_class=Parser)
    ntest = _command(nsub, "test", "send a test message to a configured channel")
    ntest.add_argument("channel", metavar="CHANNEL", help="a notifications.channels[] name of the config")
    _config(ntest)

    report = _command(sub, "report", "reports for change reviews")
    rsub = report.add_subparsers(dest="report_command", required=True, metavar="REPORT", parser_class=Parser)
    freeze = _command(rsub, "freeze", "what changed while apps were frozen",
                      "List the changes seen while apps were frozen by sync windows or suspended deployers, "
                      "from the config's freezeLog.")
    _config(freeze)
    freeze.add_argument("--since", default="7d", metavar="DURATION", help="how far back (default 7d)")
    freeze.add_argument("--output", choices=["table", "json", "markdown"], default="table",
                        help="a table, JSON, or Markdown for a change review (default table)")


def versions(verbose: bool) -> str:
    """The package's version; with ``verbose`` also those of the tools it found."""
    from exporter import __version__

    lines = [f"gitops-drift-exporter {__version__}"]
    if verbose:
        from exporter.toolchain import tool_versions

        lines += [f"  {name}: {version}" for name, version in tool_versions()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(versions(args.verbose))
        return EXIT_OK
    if args.command is None:
        parser.error("a command is required: init, run, check, diff, health, demo, notify or report")
    logs.setup(args.log_level, args.log_format)
    try:
        if args.command == "health":
            return cmd_health(args)
        if args.command == "init" or (args.command == "check" and args.offline):
            return cmd_offline(args)
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
