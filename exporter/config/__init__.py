"""Read the configuration file into ``exporter.config_types.Config``.

The file is composed into PyYAML nodes rather than loaded into plain Python data, because nodes
remember where they came from: every problem is reported as ``file:line: field.path: message``,
and *all* problems are reported together, so a user fixes a broken config in one round instead of
one error per restart.

Only types and shapes are checked here. The content of Lua, CEL and jq snippets is checked by the
modules that run them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from exporter.config.apps import Defaults, kustomize_options, read_app, read_defaults
from exporter.config.checks import read_health_checks, read_windows
from exporter.config.clusters import read_clusters, read_repositories
from exporter.config.generators import parse_app, read_app_sources, read_generators, template_substitution
from exporter.config.notifications import read_notifications
from exporter.config.reader import (
    ConfigError,
    ConfigLoader,
    Context,
    is_local_path,
    parse_duration,
    read_bool,
    read_count,
    read_duration,
    read_mapping,
    read_sequence,
    read_str,
)
from exporter.config_types import AppConfig, Config

__all__ = ["Config", "ConfigError", "ContentChecks", "is_local_path", "load_config", "parse_app", "parse_config",
           "parse_duration", "template_substitution"]


_TOP_KEYS = ("clusters", "repositories", "defaults", "apps", "appGenerators", "healthChecks", "windows",
             "notifications", "interval", "gitPollInterval", "gitTimeout", "renderTimeout", "cacheDir", "webhook",
             "freezeLog", "staleAfter", "kustomize", "appSources", "stateFile",
             "metrics")

#: Checks of what only a later stage can judge (health check code, ignore rules, window schedules),
#: handed in by the wiring: the config stage itself imports none of those stages.
ContentChecks = Callable[[Config], list[str]]

def load_config(path: str, checks: ContentChecks | None = None) -> Config:
    """Read and check the config file at ``path``. Raises ``ConfigError`` listing every problem.

    Without ``checks`` only the structure is checked; :func:`exporter.wiring.load_config` passes
    the later stages' checks, and is what the commands use."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: is not UTF-8 text: {exc.reason}"]) from None
    return parse_config(text, path, checks)

def parse_config(text: str, path: str = "config.yaml", checks: ContentChecks | None = None) -> Config:
    """Like ``load_config`` for text already read; ``path`` names it in messages and anchors
    relative file names."""
    try:
        root = yaml.compose(text, Loader=ConfigLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "cannot be parsed"
        raise ConfigError([f"{path}{where}: invalid YAML: {problem}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: invalid YAML: {exc}"]) from None
    config = Config(path=path)
    if root is None:
        return config
    ctx = Context(file=path, base_dir=Path(path).resolve().parent)
    f = read_mapping(ctx, root, "", _TOP_KEYS)
    if f is None:
        raise ConfigError(ctx.errors)

    if "clusters" in f:
        config.clusters = read_clusters(ctx, f["clusters"])
    if "repositories" in f:
        config.repositories = read_repositories(ctx, f["repositories"])
    if "notifications" in f:
        config.notifications = read_notifications(ctx, f["notifications"])
    channel_names = {c.name for c in config.notifications.channels}
    cluster_names = {c.name for c in config.clusters}
    defaults = read_defaults(ctx, f["defaults"], channel_names) if "defaults" in f else Defaults()

    if "apps" in f:
        config.apps = _apps(ctx, f["apps"], defaults, cluster_names, channel_names)
    if "appGenerators" in f:
        config.generators = read_generators(ctx, f["appGenerators"], defaults, cluster_names, channel_names)
    if "appSources" in f:
        config.app_sources = read_app_sources(ctx, f["appSources"], cluster_names)
    if "healthChecks" in f:
        config.health_checks = read_health_checks(ctx, f["healthChecks"])
    if "windows" in f:
        config.windows = read_windows(ctx, f["windows"])
    _settings(ctx, f, config)
    if "kustomize" in f:
        config.kustomize_build_options = kustomize_options(ctx, f["kustomize"], "kustomize") or []
    if "webhook" in f:
        _webhook(ctx, f["webhook"], config)
    if "metrics" in f:
        _metrics(ctx, f["metrics"], config)
    errors = ctx.errors + (checks(config) if checks is not None else [])
    if errors:
        raise ConfigError(errors)
    return config


def _apps(ctx: Context, node: yaml.Node, defaults: Defaults, clusters: set[str],
          channels: set[str]) -> list[AppConfig]:
    """``apps[]``, each name once."""
    apps: list[AppConfig] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(read_sequence(ctx, node, "apps")):
        app = read_app(ctx, item, f"apps[{i}]", defaults, clusters, channels)
        if app is None:
            continue
        if app.name in seen:
            ctx.error(item, f"apps[{i}].name", f"duplicate app name '{app.name}' (first at {seen[app.name]})")
            continue
        seen[app.name] = app.origin
        apps.append(app)
    return apps


def _settings(ctx: Context, f: dict[str, yaml.Node], config: Config) -> None:
    """The top-level durations and paths."""
    for key, attr in (("interval", "interval"), ("gitPollInterval", "git_poll_interval"),
                      ("gitTimeout", "git_timeout"), ("renderTimeout", "render_timeout"),
                      ("staleAfter", "stale_after")):
        if key in f and (d := read_duration(ctx, f[key], key, positive=True)) is not None:
            setattr(config, attr, d)
    if "cacheDir" in f and (v := read_str(ctx, f["cacheDir"], "cacheDir")) is not None:
        config.cache_dir = ctx.path(v)
    if "freezeLog" in f and (v := read_str(ctx, f["freezeLog"], "freezeLog")) is not None:
        config.freeze_log = ctx.path(v)
    if "stateFile" in f and (v := read_str(ctx, f["stateFile"], "stateFile")) is not None:
        config.state_file = ctx.path(v)


def _webhook(ctx: Context, node: yaml.Node, config: Config) -> None:
    """``webhook``: its shared secret (by file or variable) and what a request may cost."""
    w = read_mapping(ctx, node, "webhook", ("secretEnv", "secretFile", "maxBodyBytes", "maxConcurrent"),
                 secrets={"secret": "secretEnv or secretFile"})
    if w is None:
        return
    if "secretEnv" in w:
        config.webhook_secret_env = read_str(ctx, w["secretEnv"], "webhook.secretEnv")
    if "secretFile" in w and (v := read_str(ctx, w["secretFile"], "webhook.secretFile")) is not None:
        config.webhook_secret_file = ctx.path(v)
    if "maxBodyBytes" in w and (n := read_count(ctx, w["maxBodyBytes"], "webhook.maxBodyBytes")) is not None:
        config.webhook_max_body = n
    if "maxConcurrent" in w and (n := read_count(ctx, w["maxConcurrent"], "webhook.maxConcurrent")) is not None:
        config.webhook_max_concurrent = n


def _metrics(ctx: Context, node: yaml.Node, config: Config) -> None:
    """``metrics``: Argo CD's ``argocd_app_info`` beside the agent's own families, and the
    ``namespace`` label of apps not read from an Application."""
    m = read_mapping(ctx, node, "metrics", ("argocdAppInfo", "argocdNamespace"))
    if m is None:
        return
    if "argocdAppInfo" in m and (b := read_bool(ctx, m["argocdAppInfo"], "metrics.argocdAppInfo")) is not None:
        config.argocd_metrics = b
    if "argocdNamespace" in m and (v := read_str(ctx, m["argocdNamespace"], "metrics.argocdNamespace")):
        config.argocd_namespace = v
