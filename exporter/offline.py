"""``check --offline`` and ``init``: what can be said about a config without a cluster or Git.

A CI job that lints a config change has no cluster credentials and should not need the
repositories: the config is read and checked by the same code the agent runs at start (every
key, apps, generator templates, ignore rules, Lua and CEL checks, window schedules and zones,
notification channels and routes), and the secrets it names are looked for, only as notes, since
the job linting a config rarely holds the production secrets.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

from exporter.config import ConfigError
from exporter.config.starter import Starter, StarterError, cluster_name, context_of, render_starter
from exporter.config_types import Config
from exporter.wiring import EXIT_ERROR, EXIT_OK, UsageError, load_config, parse_config

__all__ = ["check_offline", "secret_notes", "summary", "write_starter"]


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def summary(config: Config) -> str:
    """One line naming what the config declares."""
    parts = [_count(len(config.clusters), "cluster"), _count(len(config.apps), "app")]
    for n, what in ((len(config.generators), "app generator"), (len(config.app_sources), "app source"),
                    (len(config.health_checks), "health check"), (len(config.windows), "window"),
                    (len(config.notifications.channels), "notification channel")):
        if n:
            parts.append(_count(n, what))
    return ", ".join(parts)


def _secrets(config: Config) -> Iterator[tuple[str, str | None, str | None]]:
    """(where, variable, file) of every secret the config names."""
    for i, repo in enumerate(config.repositories):
        yield f"repositories[{i}] ({repo.url})", repo.token_env, repo.token_file
        yield f"repositories[{i}] ({repo.url})", None, repo.ssh_key_file
        yield f"repositories[{i}] ({repo.url})", None, repo.known_hosts_file
    for channel in config.notifications.channels:
        where = f"notifications channel {channel.name}"
        yield where, channel.webhook_url_env, channel.webhook_url_file
        yield where, channel.token_env, channel.token_file
        yield where, channel.url_env, channel.url_file
    yield "webhook", config.webhook_secret_env, config.webhook_secret_file


def secret_notes(config: Config, environ: dict[str, str] | None = None) -> list[str]:
    """The secrets the config names that are not here: a variable unset, a file absent."""
    env = os.environ if environ is None else environ
    notes: list[str] = []
    for where, variable, path in _secrets(config):
        if variable and not env.get(variable):
            notes.append(f"{where}: variable {variable} is not set here")
        if path and not os.path.isfile(path):
            notes.append(f"{where}: file {path} does not exist here")
    return notes


def check_offline(path: str, app: str | None) -> int:
    """Check the config at ``path`` whole, print what it declares; exit 0 or 2."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"check: invalid config:\n{exc}", file=sys.stderr)
        return EXIT_ERROR
    if app is not None and app not in {a.name for a in config.apps} \
            and not (config.generators or config.app_sources):
        print(f"check: {path}: no app '{app}'", file=sys.stderr)
        return EXIT_ERROR
    print(f"{path}: valid: {summary(config)}")
    if config.generators or config.app_sources:
        print("  apps from generators and app sources are listed only when Git and the clusters are read")
    for note in secret_notes(config):
        print(f"  note: {note}", file=sys.stderr)
    return EXIT_OK


def write_starter(output: str, *, repo: str, path: str, revision: str, namespace: str | None,
                  cluster: str | None, kubeconfig: str | None, context: str | None, in_cluster: bool,
                  force: bool) -> int:
    """Write the starter config (``-``: to stdout), checked before it is written."""
    try:
        context, server = (None, "") if in_cluster else context_of(kubeconfig, context)
    except StarterError as exc:
        raise UsageError(str(exc)) from None
    name = cluster or (cluster_name(context) if context else "in-cluster")
    starter = Starter(repo_url=repo, path=path, revision=revision, namespace=namespace or "", cluster=name,
                      kubeconfig=os.path.abspath(kubeconfig) if kubeconfig else None, context=context,
                      in_cluster=in_cluster)
    text = render_starter(starter, server)
    try:
        parse_config(text, output if output != "-" else "config.yaml")
    except ConfigError as exc:
        raise UsageError(f"the starter config would be refused:\n{exc}") from None
    if output == "-":
        print(text, end="")
        return EXIT_OK
    if os.path.exists(output) and not force:
        raise UsageError(f"{output} exists; pass --force to replace it")
    try:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    where = "in-cluster" if in_cluster else f"context {context}"
    print(f"wrote {output}: cluster {name} ({where}), repository {repo}\n"
          f"next: gitops-drift-exporter check --offline --config {output}", file=sys.stderr)
    return EXIT_OK
