"""Read the configuration file into ``exporter.config_types.Config``.

The file is composed into PyYAML nodes rather than loaded into plain Python data, because nodes
remember where they came from: every problem is reported as ``file:line: field.path: message``,
and *all* problems are reported together, so a user fixes a broken config in one round instead of
one error per restart.

Only types and shapes are checked here. The content of Lua, CEL and jq snippets is checked by the
modules that run them.
"""

from __future__ import annotations

import copy
import difflib
import os
import re
import zoneinfo
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.representer import SafeRepresenter

from exporter import humanize
from exporter.config_types import (
    AppConfig,
    ChannelConfig,
    ChannelType,
    ClusterConfig,
    CompareOptions,
    Config,
    Destination,
    DirectoryOptions,
    GitDirectoryGenerator,
    HealthCheckConfig,
    HelmOptions,
    IgnoreRule,
    NotificationsConfig,
    NotifyPolicy,
    RepoCredentials,
    RouteConfig,
    SourceConfig,
    SourceType,
    SyncWindowConfig,
    WindowKind,
)
from exporter.model import AppState
from exporter.urls import safe_url
from exporter.values import merge_values

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader

#: Allowed values, taken from the types themselves so the two cannot disagree.
SOURCE_TYPES: tuple[SourceType, ...] = get_args(SourceType)
CHANNEL_TYPES: tuple[ChannelType, ...] = get_args(ChannelType)
WINDOW_KINDS: tuple[WindowKind, ...] = get_args(WindowKind)
APP_STATES: tuple[str, ...] = tuple(state.value for state in AppState)

_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:")

_INLINE_SECRET = "inline secrets are not accepted; use {hint}"


class ConfigError(Exception):
    """The configuration is invalid. ``errors`` holds every problem, each ``file:line: field: message``."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)

    def __str__(self) -> str:
        return "\n".join(self.errors)


def parse_duration(value: Any) -> float:
    """Seconds from ``90s``, ``10m``, ``4h``, ``1d``, ``1h30m`` or a plain number of seconds.

    Raises ``ValueError`` with a message fit to show a user.
    """
    if isinstance(value, bool):
        raise ValueError(f"must be a duration like 90s, 10m, 4h, 1d or 1h30m, not {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"must not be negative, got {value!r}")
        return float(value)
    if isinstance(value, str):
        return humanize.parse_duration(value)
    raise ValueError(f"must be a duration like 90s, 10m, 4h, 1d or 1h30m, not a {_kind_name(value)}")


def is_local_path(url: str) -> bool:
    """A repository given as a path on this machine (not a URL and not ``user@host:path``)."""
    return "://" not in url and not _SCP_LIKE.match(url)


def _kind_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def _node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    if isinstance(node, yaml.SequenceNode):
        return "list"
    tag = node.tag.rsplit(":", 1)[-1]
    return {"str": "string", "int": "number", "float": "number", "bool": "boolean"}.get(tag, tag)


@dataclass
class _Ctx:
    """Where errors go, and how locations are named."""

    file: str
    base_dir: Path
    errors: list[str] = field(default_factory=list)
    #: Location for nodes that carry no position (data that did not come from the file).
    fallback: str | None = None
    #: Applied to every string value read (generator templates); raises ValueError on a bad template.
    subst: Callable[[str], str] | None = None

    def loc(self, node: yaml.Node | None) -> str:
        if node is not None and node.start_mark is not None:
            return f"{self.file}:{node.start_mark.line + 1}"
        return self.fallback or self.file

    def error(self, node: yaml.Node | None, path: str, message: str) -> None:
        self.errors.append(f"{self.loc(node)}: {path}: {message}")

    def path(self, value: str) -> str:
        """Relative file names in the config are relative to the config file, not the working dir."""
        expanded = os.path.expanduser(value)
        return expanded if os.path.isabs(expanded) else str(self.base_dir / expanded)


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _mapping(ctx: _Ctx, node: yaml.Node, path: str, allowed: Iterable[str],
             secrets: Mapping[str, str] | None = None,
             required: Iterable[str] = ()) -> dict[str, yaml.Node] | None:
    """The fields of a mapping node by key, after reporting unknown, duplicate and secret keys.

    Keys whose value is ``null`` are left out, so they take their default.
    """
    if not isinstance(node, yaml.MappingNode):
        ctx.error(node, path or "(top level)", f"must be a mapping, not a {_node_kind(node)}")
        return None
    allowed = list(allowed)
    secrets = secrets or {}
    out: dict[str, yaml.Node] = {}
    seen: set[str] = set()
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        sub = f"{path}.{key}" if path else str(key)
        if key is None:
            ctx.error(key_node, path, "keys must be strings")
            continue
        if key in seen:
            ctx.error(key_node, sub, f"duplicate key '{key}'")
            continue
        seen.add(key)
        if key in secrets:
            ctx.error(key_node, sub, _INLINE_SECRET.format(hint=secrets[key]))
            continue
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; expected one of {', '.join(allowed)}"
            ctx.error(key_node, path or "(top level)", f"unknown field '{key}'{hint}")
            continue
        if not _is_null(value_node):
            out[key] = value_node
    for key in required:
        if key not in out and key not in secrets:
            ctx.error(node, f"{path}.{key}" if path else key, "is required")
    return out


def _sequence(ctx: _Ctx, node: yaml.Node, path: str) -> list[yaml.Node]:
    if not isinstance(node, yaml.SequenceNode):
        ctx.error(node, path, f"must be a list, not a {_node_kind(node)}")
        return []
    return list(node.value)


def _data(ctx: _Ctx, node: yaml.Node, path: str) -> Any:
    """Plain Python data from a node (for free-form blocks such as Helm values)."""
    try:
        return SafeConstructor().construct_object(node, deep=True)
    except ConstructorError as exc:
        ctx.error(node, path, str(exc.problem or exc))
        return None


def _str(ctx: _Ctx, node: yaml.Node, path: str, choices: Collection[str] | None = None) -> str | None:
    """A string field. Plain scalars are taken as written, so ``targetRevision: 1.10`` stays ``1.10``."""
    if not isinstance(node, yaml.ScalarNode):
        ctx.error(node, path, f"must be a string, not a {_node_kind(node)}")
        return None
    value = str(node.value)
    if ctx.subst is not None:
        try:
            value = ctx.subst(value)
        except ValueError as exc:
            ctx.error(node, path, str(exc))
            return None
    if choices is not None and value not in choices:
        ctx.error(node, path, f"must be one of {', '.join(choices)}, not '{value}'")
        return None
    return value


_Choice = TypeVar("_Choice", bound=str)


def _choice(ctx: _Ctx, node: yaml.Node, path: str, choices: tuple[_Choice, ...]) -> _Choice | None:
    """One of ``choices``, typed as the choices are (a ``Literal`` of the config types)."""
    value = _str(ctx, node, path, choices)
    return next((c for c in choices if c == value), None)


def _bool(ctx: _Ctx, node: yaml.Node, path: str) -> bool | None:
    value = _data(ctx, node, path)
    if not isinstance(value, bool):
        ctx.error(node, path, f"must be true or false, not a {_node_kind(node)}")
        return None
    return value


def _count(ctx: _Ctx, node: yaml.Node, path: str) -> int | None:
    """A whole number of at least 1."""
    value = _data(ctx, node, path)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        ctx.error(node, path, "must be a whole number of at least 1")
        return None
    return value


def _duration(ctx: _Ctx, node: yaml.Node, path: str, positive: bool = False) -> float | None:
    if not isinstance(node, yaml.ScalarNode):
        ctx.error(node, path, f"must be a duration like 90s, 10m, 4h, 1d or 1h30m, not a {_node_kind(node)}")
        return None
    try:
        seconds = parse_duration(_data(ctx, node, path))
    except ValueError as exc:
        ctx.error(node, path, str(exc))
        return None
    if positive and seconds <= 0:
        ctx.error(node, path, "must be greater than zero")
        return None
    return seconds


def _str_list(ctx: _Ctx, node: yaml.Node, path: str, choices: Collection[str] | None = None) -> list[str]:
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str" and choices is None:
        # A single string where a list is expected is a common slip; accept it as a list of one.
        value = _str(ctx, node, path)
        return [value] if value is not None else []
    out = []
    for i, item in enumerate(_sequence(ctx, node, path)):
        value = _str(ctx, item, f"{path}[{i}]", choices)
        if value is not None:
            out.append(value)
    return out


def _str_map(ctx: _Ctx, node: yaml.Node, path: str) -> dict[str, str]:
    if not isinstance(node, yaml.MappingNode):
        ctx.error(node, path, f"must be a mapping of strings, not a {_node_kind(node)}")
        return {}
    out: dict[str, str] = {}
    for key_node, value_node in node.value:
        key = _str(ctx, key_node, path)
        if key is None:
            continue
        value = _str(ctx, value_node, f"{path}.{key}")
        if value is not None:
            out[key] = value
    return out


# ---------------------------------------------------------------------------------------------
# Sections


def _clusters(ctx: _Ctx, node: yaml.Node) -> list[ClusterConfig]:
    out: list[ClusterConfig] = []
    names: set[str] = set()
    for i, item in enumerate(_sequence(ctx, node, "clusters")):
        path = f"clusters[{i}]"
        f = _mapping(ctx, item, path, ("name", "kubeconfig", "context", "inCluster"),
                     secrets={"token": "a kubeconfig file", "bearerToken": "a kubeconfig file"},
                     required=("name",))
        if f is None:
            continue
        name = _str(ctx, f["name"], f"{path}.name") if "name" in f else None
        if name is None:
            continue
        if name in names:
            ctx.error(f["name"], f"{path}.name", f"duplicate cluster name '{name}'")
            continue
        names.add(name)
        cluster = ClusterConfig(name=name)
        if "kubeconfig" in f and (v := _str(ctx, f["kubeconfig"], f"{path}.kubeconfig")) is not None:
            cluster.kubeconfig = ctx.path(v)
        if "context" in f:
            cluster.context = _str(ctx, f["context"], f"{path}.context")
        if "inCluster" in f:
            cluster.in_cluster = bool(_bool(ctx, f["inCluster"], f"{path}.inCluster"))
        if cluster.in_cluster and (cluster.kubeconfig or cluster.context):
            ctx.error(item, path, "inCluster cannot be combined with kubeconfig or context")
        out.append(cluster)
    return out


def _repositories(ctx: _Ctx, node: yaml.Node) -> list[RepoCredentials]:
    out: list[RepoCredentials] = []
    for i, item in enumerate(_sequence(ctx, node, "repositories")):
        path = f"repositories[{i}]"
        f = _mapping(ctx, item, path,
                     ("url", "username", "tokenFile", "tokenEnv", "sshKeyFile", "knownHostsFile"),
                     secrets={"token": "tokenFile or tokenEnv", "password": "tokenFile or tokenEnv",
                              "sshPrivateKey": "sshKeyFile", "sshKey": "sshKeyFile"},
                     required=("url",))
        if f is None or "url" not in f:
            continue
        url = _str(ctx, f["url"], f"{path}.url")
        if url is None:
            continue
        creds = RepoCredentials(url=url)
        if "username" in f:
            creds.username = _str(ctx, f["username"], f"{path}.username")
        if "tokenEnv" in f:
            creds.token_env = _str(ctx, f["tokenEnv"], f"{path}.tokenEnv")
        for key, attr in (("tokenFile", "token_file"), ("sshKeyFile", "ssh_key_file"),
                          ("knownHostsFile", "known_hosts_file")):
            if key in f and (v := _str(ctx, f[key], f"{path}.{key}")) is not None:
                setattr(creds, attr, ctx.path(v))
        if creds.token_file and creds.token_env:
            ctx.error(item, path, "set only one of tokenFile and tokenEnv")
        out.append(creds)
    return out


_IGNORE_KEYS = ("group", "kind", "name", "namespace", "jsonPointers", "jqPathExpressions",
                "managedFieldsManagers")


def _ignore_rules(ctx: _Ctx, node: yaml.Node, path: str) -> list[IgnoreRule]:
    out: list[IgnoreRule] = []
    for i, item in enumerate(_sequence(ctx, node, path)):
        sub = f"{path}[{i}]"
        f = _mapping(ctx, item, sub, _IGNORE_KEYS)
        if f is None:
            continue
        rule = IgnoreRule(origin=ctx.loc(item))
        for key in ("group", "kind", "name", "namespace"):
            if key in f and (v := _str(ctx, f[key], f"{sub}.{key}")) is not None:
                setattr(rule, key, v)
        if "jsonPointers" in f:
            rule.json_pointers = _str_list(ctx, f["jsonPointers"], f"{sub}.jsonPointers")
            for j, pointer in enumerate(rule.json_pointers):
                if pointer and not pointer.startswith("/"):
                    ctx.error(f["jsonPointers"], f"{sub}.jsonPointers[{j}]",
                              f"a JSON pointer starts with '/', not '{pointer}'")
        if "jqPathExpressions" in f:
            rule.jq_path_expressions = _str_list(ctx, f["jqPathExpressions"], f"{sub}.jqPathExpressions")
        if "managedFieldsManagers" in f:
            rule.managed_fields_managers = _str_list(ctx, f["managedFieldsManagers"],
                                                     f"{sub}.managedFieldsManagers")
        if not (rule.json_pointers or rule.jq_path_expressions or rule.managed_fields_managers):
            ctx.error(item, sub, "needs at least one of jsonPointers, jqPathExpressions, managedFieldsManagers")
        out.append(rule)
    return out


def _compare(ctx: _Ctx, node: yaml.Node, path: str, base: CompareOptions) -> CompareOptions:
    """``compare`` on top of ``base``: given keys override, ignore rules add to the base's."""
    result = copy.deepcopy(base)
    f = _mapping(ctx, node, path, ("ignoreDifferences", "defaultIgnores", "humanManagers",
                                   "trackingLabel", "trackingAnnotation"))
    if f is None:
        return result
    if "ignoreDifferences" in f:
        result.ignore_differences += _ignore_rules(ctx, f["ignoreDifferences"], f"{path}.ignoreDifferences")
    if "defaultIgnores" in f and (b := _bool(ctx, f["defaultIgnores"], f"{path}.defaultIgnores")) is not None:
        result.default_ignores = b
    if "humanManagers" in f:
        result.human_managers = _str_list(ctx, f["humanManagers"], f"{path}.humanManagers")
    for key, attr in (("trackingLabel", "tracking_label"), ("trackingAnnotation", "tracking_annotation")):
        if key in f and (v := _str(ctx, f[key], f"{path}.{key}")) is not None:
            setattr(result, attr, v)
    return result


def _notify_policy(ctx: _Ctx, node: yaml.Node, path: str, base: NotifyPolicy,
                   channels: Collection[str] | None) -> NotifyPolicy:
    """``notifications`` of an app on top of ``base`` (the defaults): given keys override."""
    result = copy.deepcopy(base)
    f = _mapping(ctx, node, path, ("badStates", "threshold", "stateThresholds", "repeat", "channels"))
    if f is None:
        return result
    if "badStates" in f:
        result.bad_states = _str_list(ctx, f["badStates"], f"{path}.badStates", APP_STATES)
    for key in ("threshold", "repeat"):
        if key in f and (d := _duration(ctx, f[key], f"{path}.{key}")) is not None:
            setattr(result, key, d)
    if "stateThresholds" in f:
        node_st = f["stateThresholds"]
        sub = f"{path}.stateThresholds"
        if not isinstance(node_st, yaml.MappingNode):
            ctx.error(node_st, sub, f"must be a mapping of state to duration, not a {_node_kind(node_st)}")
        else:
            result.state_thresholds = {}
            for key_node, value_node in node_st.value:
                state = _str(ctx, key_node, sub, APP_STATES)
                if state is not None and (d := _duration(ctx, value_node, f"{sub}.{state}")) is not None:
                    result.state_thresholds[state] = d
    if "channels" in f:
        result.channels = _str_list(ctx, f["channels"], f"{path}.channels")
        if channels is not None:
            for j, name in enumerate(result.channels):
                if name not in channels:
                    ctx.error(f["channels"], f"{path}.channels[{j}]", _unknown_name("channel", name, channels))
    return result


def _unknown_name(what: str, name: str, known: Collection[str]) -> str:
    if not known:
        return f"unknown {what} '{name}'; none are configured"
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; expected one of {', '.join(sorted(known))}"
    return f"unknown {what} '{name}'{hint}"


def _helm(ctx: _Ctx, node: yaml.Node, path: str) -> HelmOptions:
    helm = HelmOptions()
    f = _mapping(ctx, node, path, ("releaseName", "valueFiles", "values", "valuesObject", "skipCrds"))
    if f is None:
        return helm
    if "releaseName" in f:
        helm.release_name = _str(ctx, f["releaseName"], f"{path}.releaseName")
    if "valueFiles" in f:
        helm.value_files = _str_list(ctx, f["valueFiles"], f"{path}.valueFiles")
    if "skipCrds" in f and (b := _bool(ctx, f["skipCrds"], f"{path}.skipCrds")) is not None:
        helm.skip_crds = b
    for key in ("values", "valuesObject"):
        if key not in f:
            continue
        sub, vnode = f"{path}.{key}", f[key]
        values: Any
        if isinstance(vnode, yaml.ScalarNode) and key == "values":
            text = _str(ctx, vnode, sub)
            try:
                values = yaml.load(text or "", Loader=_Loader) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                problem = getattr(exc, "problem", None) or exc
                if mark is not None and vnode.style in ("|", ">") and vnode.start_mark is not None:
                    # A block scalar starts on the line after its indicator: point at the bad line itself.
                    line = vnode.start_mark.line + 2 + mark.line
                    ctx.errors.append(f"{ctx.file}:{line}: {sub}: is not valid YAML: {problem}")
                else:
                    where = f" (line {mark.line + 1} of the string)" if mark is not None else ""
                    ctx.error(vnode, sub, f"is not valid YAML{where}: {problem}")
                continue
        else:
            values = _data(ctx, vnode, sub)
        if not isinstance(values, dict):
            ctx.error(vnode, sub, f"must be a mapping (or a YAML string holding one), not a {_kind_name(values)}")
            continue
        helm.values = merge_values(helm.values, values)
    return helm


def _source(ctx: _Ctx, node: yaml.Node, path: str) -> SourceConfig | None:
    f = _mapping(ctx, node, path, ("repoURL", "targetRevision", "path", "type", "directory", "helm"),
                 required=("repoURL",))
    if f is None or "repoURL" not in f:
        return None
    repo_url = _str(ctx, f["repoURL"], f"{path}.repoURL")
    if repo_url is None:
        return None
    if is_local_path(repo_url) and not repo_url.startswith("{{"):
        repo_url = ctx.path(repo_url)
    if safe_url(repo_url).partition("?")[2] != repo_url.partition("?")[2]:
        ctx.error(f["repoURL"], f"{path}.repoURL", "a credential in the URL's query string would show on git's "
                  "command line; put the token in a file and name it in repositories[].tokenFile")
    source = SourceConfig(repo_url=repo_url)
    if "targetRevision" in f and (v := _str(ctx, f["targetRevision"], f"{path}.targetRevision")) is not None:
        if v.startswith("-"):
            ctx.error(f["targetRevision"], f"{path}.targetRevision", f"'{v}' is not a branch, tag or commit")
        source.target_revision = v
    if "path" in f and (v := _str(ctx, f["path"], f"{path}.path")) is not None:
        if os.path.isabs(v) or ".." in Path(v).parts:
            ctx.error(f["path"], f"{path}.path", f"must be a path inside the repository, not '{v}'")
        source.path = v
    explicit_type = False
    if "type" in f and (t := _choice(ctx, f["type"], f"{path}.type", SOURCE_TYPES)) is not None:
        source.type = t
        explicit_type = True
    if "directory" in f:
        d = _mapping(ctx, f["directory"], f"{path}.directory", ("recurse", "include", "exclude"))
        if d is not None:
            opts = DirectoryOptions()
            if "recurse" in d and (b := _bool(ctx, d["recurse"], f"{path}.directory.recurse")) is not None:
                opts.recurse = b
            for key in ("include", "exclude"):
                if key in d:
                    setattr(opts, key, _str(ctx, d[key], f"{path}.directory.{key}"))
            source.directory = opts
    if "helm" in f:
        source.helm = _helm(ctx, f["helm"], f"{path}.helm")
        if not explicit_type:
            source.type = "helm"  # a helm block without a type means helm, as in Argo CD
        elif source.type != "helm":
            ctx.error(f["helm"], f"{path}.helm", f"only applies to type helm, not {source.type}")
    if "directory" in f and source.type != "directory":
        ctx.error(f["directory"], f"{path}.directory", f"only applies to type directory, not {source.type}")
    return source


_APP_KEYS = ("name", "project", "labels", "source", "destination", "compare", "ignoreDifferences",
             "notifications")


def _app(ctx: _Ctx, node: yaml.Node, path: str, defaults: _Defaults,
         clusters: Collection[str] | None, channels: Collection[str] | None) -> AppConfig | None:
    f = _mapping(ctx, node, path, _APP_KEYS, required=("name", "source", "destination"))
    if f is None:
        return None
    name = _str(ctx, f["name"], f"{path}.name") if "name" in f else None
    if name is not None and not name.strip():
        ctx.error(f["name"], f"{path}.name", "must not be empty")
        name = None
    source = _source(ctx, f["source"], f"{path}.source") if "source" in f else None
    destination = None
    if "destination" in f:
        d = _mapping(ctx, f["destination"], f"{path}.destination", ("cluster", "namespace"),
                     required=("cluster",))
        if d is not None and "cluster" in d:
            cluster = _str(ctx, d["cluster"], f"{path}.destination.cluster")
            if cluster is not None and clusters is not None and cluster not in clusters:
                ctx.error(d["cluster"], f"{path}.destination.cluster", _unknown_name("cluster", cluster, clusters))
            namespace = _str(ctx, d["namespace"], f"{path}.destination.namespace") if "namespace" in d else ""
            if cluster is not None:
                destination = Destination(cluster=cluster, namespace=namespace or "")
    compare = defaults.compare
    if "compare" in f:
        compare = _compare(ctx, f["compare"], f"{path}.compare", compare)
    if "ignoreDifferences" in f:  # Argo CD keeps it at the top of the app spec; accept it there too
        compare = copy.deepcopy(compare)
        compare.ignore_differences += _ignore_rules(ctx, f["ignoreDifferences"], f"{path}.ignoreDifferences")
    notifications = defaults.notifications
    if "notifications" in f:
        notifications = _notify_policy(ctx, f["notifications"], f"{path}.notifications", notifications, channels)
    app = AppConfig(name=name or "", source=source or SourceConfig(repo_url=""),
                    destination=destination or Destination(cluster=""),
                    compare=copy.deepcopy(compare), notifications=copy.deepcopy(notifications),
                    origin=ctx.loc(node))
    if "project" in f and (p := _str(ctx, f["project"], f"{path}.project")) is not None:
        app.project = p
    if "labels" in f:
        app.labels = _str_map(ctx, f["labels"], f"{path}.labels")
    if name is None or source is None or destination is None:
        return None
    return app


@dataclass
class _Defaults:
    compare: CompareOptions = field(default_factory=CompareOptions)
    notifications: NotifyPolicy = field(default_factory=NotifyPolicy)
    #: The same blocks as plain data, merged into generator templates.
    raw: dict[str, Any] = field(default_factory=dict)


def _defaults(ctx: _Ctx, node: yaml.Node, channels: Collection[str]) -> _Defaults:
    result = _Defaults()
    f = _mapping(ctx, node, "defaults", ("compare", "notifications"))
    if f is None:
        return result
    if "compare" in f:
        result.compare = _compare(ctx, f["compare"], "defaults.compare", result.compare)
        result.raw["compare"] = _data(ctx, f["compare"], "defaults.compare")
    if "notifications" in f:
        result.notifications = _notify_policy(ctx, f["notifications"], "defaults.notifications",
                                              result.notifications, channels)
        result.raw["notifications"] = _data(ctx, f["notifications"], "defaults.notifications")
    return result


def _health_checks(ctx: _Ctx, node: yaml.Node) -> list[HealthCheckConfig]:
    out: list[HealthCheckConfig] = []
    for i, item in enumerate(_sequence(ctx, node, "healthChecks")):
        path = f"healthChecks[{i}]"
        f = _mapping(ctx, item, path, ("group", "kind", "lua", "cel", "rules"), required=("kind",))
        if f is None or "kind" not in f:
            continue
        kind = _str(ctx, f["kind"], f"{path}.kind")
        group = _str(ctx, f["group"], f"{path}.group") if "group" in f else ""
        check = HealthCheckConfig(group=group or "", kind=kind or "", origin=ctx.loc(item))
        given = [key for key in ("lua", "cel", "rules") if key in f]
        if len(given) != 1:
            ctx.error(item, path, "needs exactly one of lua, cel, rules" +
                      (f", not {' and '.join(given)}" if given else ""))
        if "lua" in f:
            check.lua = _str(ctx, f["lua"], f"{path}.lua")
        if "cel" in f:
            cel: list[dict[str, Any]] = []
            for j, rule in enumerate(_sequence(ctx, f["cel"], f"{path}.cel")):
                r = _mapping(ctx, rule, f"{path}.cel[{j}]", ("when", "status", "message"),
                             required=("when", "status"))
                if r is not None and "when" in r and "status" in r:
                    entry = {"when": _str(ctx, r["when"], f"{path}.cel[{j}].when"),
                             "status": _str(ctx, r["status"], f"{path}.cel[{j}].status",
                                            ("Healthy", "Progressing", "Degraded", "Suspended", "Missing",
                                             "Unknown"))}
                    if "message" in r:
                        entry["message"] = _str(ctx, r["message"], f"{path}.cel[{j}].message")
                    cel.append(entry)
            check.cel = cel
        if "rules" in f:
            rules = _data(ctx, f["rules"], f"{path}.rules")
            if not isinstance(rules, dict):
                ctx.error(f["rules"], f"{path}.rules", f"must be a mapping, not a {_node_kind(f['rules'])}")
            else:
                check.rules = rules
        if kind is not None:
            out.append(check)
    return out


def _windows(ctx: _Ctx, node: yaml.Node) -> list[SyncWindowConfig]:
    from croniter import croniter

    out: list[SyncWindowConfig] = []
    for i, item in enumerate(_sequence(ctx, node, "windows")):
        path = f"windows[{i}]"
        f = _mapping(ctx, item, path, ("name", "kind", "schedule", "duration", "timeZone", "applications",
                                       "namespaces", "clusters", "labels", "maintenance", "manualSync"),
                     required=("kind", "schedule", "duration"))
        if f is None:
            continue
        kind = _choice(ctx, f["kind"], f"{path}.kind", WINDOW_KINDS) if "kind" in f else None
        schedule = _str(ctx, f["schedule"], f"{path}.schedule") if "schedule" in f else None
        if schedule is not None and (len(schedule.split()) != 5 or not croniter.is_valid(schedule)):
            ctx.error(f["schedule"], f"{path}.schedule", f"must be a cron schedule of five fields, not '{schedule}'")
            schedule = None
        duration = _duration(ctx, f["duration"], f"{path}.duration", positive=True) if "duration" in f else None
        if kind is None or schedule is None or duration is None:
            continue
        window = SyncWindowConfig(kind=kind, schedule=schedule, duration=duration)
        if "name" in f and (v := _str(ctx, f["name"], f"{path}.name")) is not None:
            window.name = v
        if "timeZone" in f and (tz := _str(ctx, f["timeZone"], f"{path}.timeZone")) is not None:
            try:
                zoneinfo.ZoneInfo(tz)
                window.time_zone = tz
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                ctx.error(f["timeZone"], f"{path}.timeZone", f"unknown time zone '{tz}'")
        for key in ("applications", "namespaces", "clusters"):
            if key in f:
                setattr(window, key, _str_list(ctx, f[key], f"{path}.{key}"))
        if "labels" in f:
            window.labels = _str_map(ctx, f["labels"], f"{path}.labels")
        if "maintenance" in f and (b := _bool(ctx, f["maintenance"], f"{path}.maintenance")) is not None:
            window.maintenance = b
        if "manualSync" in f:
            _bool(ctx, f["manualSync"], f"{path}.manualSync")  # accepted for Argo CD paste-in; no effect
        out.append(window)
    return out


_CHANNEL_SECRETS = {"webhookUrl": "webhookUrlFile or webhookUrlEnv", "token": "tokenFile or tokenEnv",
                    "url": "urlFile or urlEnv"}


def _notifications(ctx: _Ctx, node: yaml.Node) -> NotificationsConfig:
    result = NotificationsConfig()
    f = _mapping(ctx, node, "notifications", ("channels", "routes", "freezeChannel", "statePath", "links",
                                              "muteInMaintenance"))
    if f is None:
        return result
    names: set[str] = set()
    for i, item in enumerate(_sequence(ctx, f["channels"], "notifications.channels") if "channels" in f else []):
        path = f"notifications.channels[{i}]"
        c = _mapping(ctx, item, path, ("name", "type", "channel", "webhookUrlFile", "webhookUrlEnv", "tokenFile",
                                       "tokenEnv", "urlFile", "urlEnv", "baseUrl", "timeout"),
                     secrets=_CHANNEL_SECRETS, required=("name", "type"))
        if c is None or "name" not in c or "type" not in c:
            continue
        name = _str(ctx, c["name"], f"{path}.name")
        ctype = _choice(ctx, c["type"], f"{path}.type", CHANNEL_TYPES)
        if name is None or ctype is None:
            continue
        if name in names:
            ctx.error(c["name"], f"{path}.name", f"duplicate channel name '{name}'")
            continue
        names.add(name)
        channel = ChannelConfig(name=name, type=ctype)
        for key, attr in (("channel", "channel"), ("webhookUrlEnv", "webhook_url_env"), ("tokenEnv", "token_env"),
                          ("urlEnv", "url_env"), ("baseUrl", "base_url")):
            if key in c:
                setattr(channel, attr, _str(ctx, c[key], f"{path}.{key}"))
        for key, attr in (("webhookUrlFile", "webhook_url_file"), ("tokenFile", "token_file"),
                          ("urlFile", "url_file")):
            if key in c and (v := _str(ctx, c[key], f"{path}.{key}")) is not None:
                setattr(channel, attr, ctx.path(v))
        if "timeout" in c and (d := _duration(ctx, c["timeout"], f"{path}.timeout", positive=True)) is not None:
            channel.timeout = d
        if ctype == "slack":
            webhook = channel.webhook_url_file or channel.webhook_url_env
            token = channel.token_file or channel.token_env
            if bool(webhook) == bool(token):
                ctx.error(item, path, "a slack channel needs either webhookUrlFile/webhookUrlEnv "
                                      "or tokenFile/tokenEnv with channel")
            elif token and not channel.channel:
                ctx.error(item, f"{path}.channel", "is required with tokenFile/tokenEnv")
        elif not (channel.url_file or channel.url_env):
            ctx.error(item, path, "an apprise channel needs urlFile or urlEnv")
        result.channels.append(channel)
    for i, item in enumerate(_sequence(ctx, f["routes"], "notifications.routes") if "routes" in f else []):
        path = f"notifications.routes[{i}]"
        r = _mapping(ctx, item, path, ("channels", "apps", "projects", "labels"), required=("channels",))
        if r is None or "channels" not in r:
            continue
        route = RouteConfig(channels=_str_list(ctx, r["channels"], f"{path}.channels"))
        for j, name in enumerate(route.channels):
            if name not in names:
                ctx.error(r["channels"], f"{path}.channels[{j}]", _unknown_name("channel", name, names))
        for key in ("apps", "projects"):
            if key in r:
                setattr(route, key, _str_list(ctx, r[key], f"{path}.{key}"))
        if "labels" in r:
            route.labels = _str_map(ctx, r["labels"], f"{path}.labels")
        result.routes.append(route)
    if "freezeChannel" in f and (v := _str(ctx, f["freezeChannel"], "notifications.freezeChannel")) is not None:
        if v not in names:
            ctx.error(f["freezeChannel"], "notifications.freezeChannel", _unknown_name("channel", v, names))
        result.freeze_channel = v
    if "statePath" in f and (v := _str(ctx, f["statePath"], "notifications.statePath")) is not None:
        result.state_path = ctx.path(v)
    if "links" in f:
        result.links = _str_map(ctx, f["links"], "notifications.links")
    if "muteInMaintenance" in f and (b := _bool(ctx, f["muteInMaintenance"],
                                                "notifications.muteInMaintenance")) is not None:
        result.mute_in_maintenance = b
    return result


# ---------------------------------------------------------------------------------------------
# Generators

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_PATH_INDEX = re.compile(r"^path\[(\d+)\]$")
_NOT_DNS = re.compile(r"[^a-z0-9.-]+")


def template_substitution(path: str | None) -> Callable[[str], str]:
    """The function that fills ``{{path}}``-style placeholders for one directory.

    With ``path=None`` it only checks that placeholders are known (used when the config is loaded,
    before any directory is listed), filling them with a sample value.
    """
    parts = path.split("/") if path else []
    basename = parts[-1] if parts else ""
    values = {
        "path": path,
        "path.path": path,
        "path.basename": basename,
        "path.basenameNormalized": _NOT_DNS.sub("-", basename.lower()).strip("-."),
    }

    def fill(match: re.Match[str]) -> str:
        expr = match.group(1)
        if expr in values:
            return "sample" if path is None else str(values[expr])
        index = _PATH_INDEX.match(expr)
        if index:
            if path is None:
                return "sample"
            n = int(index.group(1))
            if n >= len(parts):
                raise ValueError(f"'{{{{{expr}}}}}' is out of range for directory '{path}'")
            return parts[n]
        raise ValueError(f"unknown placeholder '{{{{{expr}}}}}'; use path, path.basename, "
                         "path.basenameNormalized or path[N]")

    def subst(text: str) -> str:
        return _PLACEHOLDER.sub(fill, text)

    return subst


def _generators(ctx: _Ctx, node: yaml.Node, defaults: _Defaults, clusters: Collection[str],
                channels: Collection[str]) -> list[GitDirectoryGenerator]:
    out: list[GitDirectoryGenerator] = []
    for i, item in enumerate(_sequence(ctx, node, "appGenerators")):
        path = f"appGenerators[{i}]"
        f = _mapping(ctx, item, path, ("git", "template"), required=("git", "template"))
        if f is None or "git" not in f or "template" not in f:
            continue
        g = _mapping(ctx, f["git"], f"{path}.git", ("repoURL", "revision", "directories"),
                     required=("repoURL", "directories"))
        if g is None or "repoURL" not in g or "directories" not in g:
            continue
        repo_url = _str(ctx, g["repoURL"], f"{path}.git.repoURL")
        revision = _str(ctx, g["revision"], f"{path}.git.revision") if "revision" in g else "HEAD"
        if repo_url is None or revision is None:
            continue
        if is_local_path(repo_url):
            repo_url = ctx.path(repo_url)
        include: list[str] = []
        exclude: list[str] = []
        for j, entry in enumerate(_sequence(ctx, g["directories"], f"{path}.git.directories")):
            sub = f"{path}.git.directories[{j}]"
            if isinstance(entry, yaml.ScalarNode):
                glob = _str(ctx, entry, sub)
                excluded = False
            else:
                e = _mapping(ctx, entry, sub, ("path", "exclude"), required=("path",))
                if e is None or "path" not in e:
                    continue
                glob = _str(ctx, e["path"], f"{sub}.path")
                excluded = bool(_bool(ctx, e["exclude"], f"{sub}.exclude")) if "exclude" in e else False
            if glob is not None:
                (exclude if excluded else include).append(glob)
        if not include:
            ctx.error(g["directories"], f"{path}.git.directories", "needs at least one path that is not excluded")
        template = _data(ctx, f["template"], f"{path}.template")
        if not isinstance(template, dict):
            ctx.error(f["template"], f"{path}.template", f"must be a mapping, not a {_node_kind(f['template'])}")
            continue
        template = _with_generator_defaults(template, repo_url, revision, defaults.raw)
        # Check the template now, with its real line numbers, so mistakes show at start-up.
        check = _Ctx(ctx.file, ctx.base_dir, ctx.errors, fallback=ctx.loc(f["template"]),
                     subst=template_substitution(None))
        _fill_source_node(f["template"], repo_url, revision)
        _app(check, f["template"], f"{path}.template", defaults, clusters=None, channels=channels)
        dest = template.get("destination")
        if isinstance(dest, dict) and isinstance(dest.get("cluster"), str) and "{{" not in dest["cluster"]:
            if dest["cluster"] not in clusters:
                ctx.error(f["template"], f"{path}.template.destination.cluster",
                          _unknown_name("cluster", dest["cluster"], clusters))
        out.append(GitDirectoryGenerator(repo_url=repo_url, revision=revision, directories=include,
                                         exclude=exclude, template=template, origin=ctx.loc(item)))
    return out


def _fill_source_node(node: yaml.Node, repo_url: str, revision: str) -> None:
    """Add the keys ``_with_generator_defaults`` fills to a template's node, for checking it."""
    if not isinstance(node, yaml.MappingNode):
        return

    def scalar(value: str) -> yaml.ScalarNode:
        return yaml.ScalarNode("tag:yaml.org,2002:str", value)

    source = next((v for k, v in node.value if getattr(k, "value", None) == "source"), None)
    if source is None:
        source = yaml.MappingNode("tag:yaml.org,2002:map", [])
        node.value.append((scalar("source"), source))
    if not isinstance(source, yaml.MappingNode):
        return
    present = {getattr(k, "value", None) for k, _ in source.value}
    for key, value in (("repoURL", repo_url), ("targetRevision", revision), ("path", "{{path}}")):
        if key not in present:
            source.value.append((scalar(key), scalar(value)))


def _with_generator_defaults(template: dict[str, Any], repo_url: str, revision: str,
                             defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Fill what a template may leave out: the generator's repo and revision, ``{{path}}`` as the
    source path, and the ``defaults`` blocks (merged field by field, ignore rules added)."""
    template = copy.deepcopy(template)
    source = template.setdefault("source", {})
    if isinstance(source, dict):
        source.setdefault("repoURL", repo_url)
        source.setdefault("targetRevision", revision)
        source.setdefault("path", "{{path}}")
    for key in ("compare", "notifications"):
        base = defaults.get(key)
        if not isinstance(base, dict):
            continue
        own = template.get(key)
        if own is None:
            template[key] = copy.deepcopy(base)
        elif isinstance(own, dict):
            merged = {**base, **own}
            if key == "compare" and "ignoreDifferences" in base and "ignoreDifferences" in own:
                merged["ignoreDifferences"] = list(base["ignoreDifferences"]) + list(own["ignoreDifferences"])
            template[key] = merged
    return template


def parse_app(data: Mapping[str, Any], *, origin: str, path: str = "template",
              subst: Callable[[str], str] | None = None,
              clusters: Collection[str] | None = None) -> AppConfig:
    """One app from plain data (a generator's filled template), checked as ``apps[]`` entries are.

    ``origin`` ("file:line") names where the data came from in messages; ``subst`` is applied to
    every string (see ``template_substitution``). Raises ``ConfigError`` listing every problem.
    """
    node = SafeRepresenter().represent_data(dict(data))
    file, _, _ = origin.partition(":")
    ctx = _Ctx(file=file, base_dir=Path(file).resolve().parent, fallback=origin, subst=subst)
    app = _app(ctx, node, path, _Defaults(), clusters=clusters, channels=None)
    if ctx.errors or app is None:
        raise ConfigError(ctx.errors or [f"{origin}: {path}: is not a valid app"])
    return app


# ---------------------------------------------------------------------------------------------
# The file

_TOP_KEYS = ("clusters", "repositories", "defaults", "apps", "appGenerators", "healthChecks", "windows",
             "notifications", "interval", "gitPollInterval", "gitTimeout", "renderTimeout", "cacheDir", "webhook",
             "freezeLog", "staleAfter")


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
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError([f"{path}{line}: {problem}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: {exc}"]) from None
    config = Config(path=path)
    if root is None:
        return config
    ctx = _Ctx(file=path, base_dir=Path(path).resolve().parent)
    f = _mapping(ctx, root, "", _TOP_KEYS)
    if f is None:
        raise ConfigError(ctx.errors)

    if "clusters" in f:
        config.clusters = _clusters(ctx, f["clusters"])
    if "repositories" in f:
        config.repositories = _repositories(ctx, f["repositories"])
    if "notifications" in f:
        config.notifications = _notifications(ctx, f["notifications"])
    channel_names = {c.name for c in config.notifications.channels}
    cluster_names = {c.name for c in config.clusters}
    defaults = _defaults(ctx, f["defaults"], channel_names) if "defaults" in f else _Defaults()

    seen: dict[str, str] = {}
    for i, item in enumerate(_sequence(ctx, f["apps"], "apps") if "apps" in f else []):
        app = _app(ctx, item, f"apps[{i}]", defaults, cluster_names, channel_names)
        if app is None:
            continue
        if app.name in seen:
            ctx.error(item, f"apps[{i}].name", f"duplicate app name '{app.name}' (first at {seen[app.name]})")
            continue
        seen[app.name] = app.origin
        config.apps.append(app)
    if "appGenerators" in f:
        config.generators = _generators(ctx, f["appGenerators"], defaults, cluster_names, channel_names)
    if "healthChecks" in f:
        config.health_checks = _health_checks(ctx, f["healthChecks"])
    if "windows" in f:
        config.windows = _windows(ctx, f["windows"])
    for key, attr in (("interval", "interval"), ("gitPollInterval", "git_poll_interval"),
                      ("gitTimeout", "git_timeout"), ("renderTimeout", "render_timeout"),
                      ("staleAfter", "stale_after")):
        if key in f and (d := _duration(ctx, f[key], key, positive=True)) is not None:
            setattr(config, attr, d)
    if "cacheDir" in f and (v := _str(ctx, f["cacheDir"], "cacheDir")) is not None:
        config.cache_dir = ctx.path(v)
    if "freezeLog" in f and (v := _str(ctx, f["freezeLog"], "freezeLog")) is not None:
        config.freeze_log = ctx.path(v)
    if "webhook" in f:
        w = _mapping(ctx, f["webhook"], "webhook", ("secretEnv", "secretFile", "maxBodyBytes", "maxConcurrent"),
                     secrets={"secret": "secretEnv or secretFile"})
        if w is not None:
            if "secretEnv" in w:
                config.webhook_secret_env = _str(ctx, w["secretEnv"], "webhook.secretEnv")
            if "secretFile" in w and (v := _str(ctx, w["secretFile"], "webhook.secretFile")) is not None:
                config.webhook_secret_file = ctx.path(v)
            if "maxBodyBytes" in w and (n := _count(ctx, w["maxBodyBytes"], "webhook.maxBodyBytes")) is not None:
                config.webhook_max_body = n
            if "maxConcurrent" in w and (n := _count(ctx, w["maxConcurrent"], "webhook.maxConcurrent")) is not None:
                config.webhook_max_concurrent = n
    errors = ctx.errors + (checks(config) if checks is not None else [])
    if errors:
        raise ConfigError(errors)
    return config
