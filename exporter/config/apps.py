"""``apps[]`` and ``defaults``: sources, destinations, compare options and notification policies."""

from __future__ import annotations

import copy
import os
import re
import shlex
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from exporter.config.reader import (
    APP_STATES,
    SOURCE_TYPES,
    ConfigLoader,
    Context,
    is_local_path,
    kind_name,
    node_kind,
    read_bool,
    read_choice,
    read_data,
    read_duration,
    read_mapping,
    read_sequence,
    read_str,
    read_str_list,
    read_str_map,
    unknown_name,
)
from exporter.config_types import (
    AppConfig,
    CompareOptions,
    Destination,
    DirectoryOptions,
    HelmOptions,
    IgnoreRule,
    NotifyPolicy,
    SourceConfig,
)
from exporter.urls import safe_url
from exporter.values import merge_values

_IGNORE_KEYS = ("group", "kind", "name", "namespace", "jsonPointers", "jqPathExpressions",
                "managedFieldsManagers")

def _ignore_rules(ctx: Context, node: yaml.Node, path: str) -> list[IgnoreRule]:
    out: list[IgnoreRule] = []
    for i, item in enumerate(read_sequence(ctx, node, path)):
        sub = f"{path}[{i}]"
        f = read_mapping(ctx, item, sub, _IGNORE_KEYS)
        if f is None:
            continue
        rule = IgnoreRule(origin=ctx.loc(item))
        for key in ("group", "kind", "name", "namespace"):
            if key in f and (v := read_str(ctx, f[key], f"{sub}.{key}")) is not None:
                setattr(rule, key, v)
        if "jsonPointers" in f:
            rule.json_pointers = read_str_list(ctx, f["jsonPointers"], f"{sub}.jsonPointers")
            for j, pointer in enumerate(rule.json_pointers):
                if pointer and not pointer.startswith("/"):
                    ctx.error(f["jsonPointers"], f"{sub}.jsonPointers[{j}]",
                              f"a JSON pointer starts with '/', not '{pointer}'")
        if "jqPathExpressions" in f:
            rule.jq_path_expressions = read_str_list(ctx, f["jqPathExpressions"], f"{sub}.jqPathExpressions")
        if "managedFieldsManagers" in f:
            rule.managed_fields_managers = read_str_list(ctx, f["managedFieldsManagers"],
                                                     f"{sub}.managedFieldsManagers")
        if not (rule.json_pointers or rule.jq_path_expressions or rule.managed_fields_managers):
            ctx.error(item, sub, "needs at least one of jsonPointers, jqPathExpressions, managedFieldsManagers")
        out.append(rule)
    return out

def _compare(ctx: Context, node: yaml.Node, path: str, base: CompareOptions) -> CompareOptions:
    """``compare`` on top of ``base``: given keys override, ignore rules add to the base's."""
    result = copy.deepcopy(base)
    f = read_mapping(ctx, node, path, ("ignoreDifferences", "defaultIgnores", "humanManagers",
                                   "applyManagers", "trackingLabel", "trackingAnnotation"))
    if f is None:
        return result
    if "ignoreDifferences" in f:
        result.ignore_differences += _ignore_rules(ctx, f["ignoreDifferences"], f"{path}.ignoreDifferences")
    if "defaultIgnores" in f and (b := read_bool(ctx, f["defaultIgnores"], f"{path}.defaultIgnores")) is not None:
        result.default_ignores = b
    if "humanManagers" in f:
        result.human_managers = read_str_list(ctx, f["humanManagers"], f"{path}.humanManagers")
    if "applyManagers" in f:
        result.apply_managers = read_str_list(ctx, f["applyManagers"], f"{path}.applyManagers")
    for key, attr in (("trackingLabel", "tracking_label"), ("trackingAnnotation", "tracking_annotation")):
        if key in f and (v := read_str(ctx, f[key], f"{path}.{key}")) is not None:
            setattr(result, attr, v)
    return result

def _notify_policy(ctx: Context, node: yaml.Node, path: str, base: NotifyPolicy,
                   channels: Collection[str] | None) -> NotifyPolicy:
    """``notifications`` of an app on top of ``base`` (the defaults): given keys override."""
    result = copy.deepcopy(base)
    f = read_mapping(ctx, node, path, ("badStates", "threshold", "stateThresholds", "repeat", "channels"))
    if f is None:
        return result
    if "badStates" in f:
        result.bad_states = read_str_list(ctx, f["badStates"], f"{path}.badStates", APP_STATES)
    for key in ("threshold", "repeat"):
        if key in f and (d := read_duration(ctx, f[key], f"{path}.{key}")) is not None:
            setattr(result, key, d)
    if "stateThresholds" in f:
        node_st = f["stateThresholds"]
        sub = f"{path}.stateThresholds"
        if not isinstance(node_st, yaml.MappingNode):
            ctx.error(node_st, sub, f"must be a mapping of state to duration, not a {node_kind(node_st)}")
        else:
            result.state_thresholds = {}
            for key_node, value_node in node_st.value:
                state = read_str(ctx, key_node, sub, APP_STATES)
                if state is not None and (d := read_duration(ctx, value_node, f"{sub}.{state}")) is not None:
                    result.state_thresholds[state] = d
    if "channels" in f:
        result.channels = read_str_list(ctx, f["channels"], f"{path}.channels")
        if channels is not None:
            for j, name in enumerate(result.channels):
                if name not in channels:
                    ctx.error(f["channels"], f"{path}.channels[{j}]", unknown_name("channel", name, channels))
    return result

def _helm(ctx: Context, node: yaml.Node, path: str) -> HelmOptions:
    helm = HelmOptions()
    f = read_mapping(ctx, node, path, ("releaseName", "valueFiles", "values", "valuesObject", "skipCrds"))
    if f is None:
        return helm
    if "releaseName" in f:
        helm.release_name = read_str(ctx, f["releaseName"], f"{path}.releaseName")
    if "valueFiles" in f:
        helm.value_files = read_str_list(ctx, f["valueFiles"], f"{path}.valueFiles")
    if "skipCrds" in f and (b := read_bool(ctx, f["skipCrds"], f"{path}.skipCrds")) is not None:
        helm.skip_crds = b
    for key in ("values", "valuesObject"):
        if key not in f:
            continue
        sub, vnode = f"{path}.{key}", f[key]
        values: Any
        if isinstance(vnode, yaml.ScalarNode) and key == "values":
            text = read_str(ctx, vnode, sub)
            try:
                values = yaml.load(text or "", Loader=ConfigLoader) or {}
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
            values = read_data(ctx, vnode, sub)
        if not isinstance(values, dict):
            ctx.error(vnode, sub, f"must be a mapping (or a YAML string holding one), not a {kind_name(values)}")
            continue
        helm.values = merge_values(helm.values, values)
    return helm

_REF_NAME = re.compile(r"[A-Za-z0-9_-]+")

#: ``kustomize build`` options the agent passes on, and how many values each takes. Others are
#: refused: plugins and exec functions would run code from the repository, ``--network`` and
#: ``--mount`` reach past the checkout, ``--output`` writes files, and ``--helm-command`` is the agent's.
KUSTOMIZE_OPTIONS = {"--enable-helm": 0, "--load-restrictor": 1, "--helm-kube-version": 1,
                     "--helm-api-versions": 1, "--enable-managedby-label": 0, "--reorder": 1,
                     "--helm-debug": 0}
_LOAD_RESTRICTORS = ("LoadRestrictionsRootOnly", "LoadRestrictionsNone")

def kustomize_options(ctx: Context, node: yaml.Node, path: str) -> list[str] | None:
    """``kustomize: {buildOptions: "..."}``: the options as a list, each one checked."""
    f = read_mapping(ctx, node, path, ("buildOptions",))
    if f is None or "buildOptions" not in f:
        return None
    sub = f"{path}.buildOptions"
    text = read_str(ctx, f["buildOptions"], sub)
    try:
        words = shlex.split(text or "")
    except ValueError as exc:
        ctx.error(f["buildOptions"], sub, f"cannot be split into options: {exc}")
        return None
    options: list[str] = []
    while words:
        word = words.pop(0)
        name, eq, value = word.partition("=")
        if name not in KUSTOMIZE_OPTIONS:
            ctx.error(f["buildOptions"], sub, f"'{name}' is not passed to kustomize; allowed: "
                      + ", ".join(sorted(KUSTOMIZE_OPTIONS)))
            return None
        if KUSTOMIZE_OPTIONS[name] and not eq:
            if not words:
                ctx.error(f["buildOptions"], sub, f"'{name}' needs a value")
                return None
            value = words.pop(0)
        if name == "--load-restrictor" and value not in _LOAD_RESTRICTORS:
            ctx.error(f["buildOptions"], sub, f"--load-restrictor must be one of {', '.join(_LOAD_RESTRICTORS)}, "
                      f"not '{value}'")
            return None
        options += [name, value] if KUSTOMIZE_OPTIONS[name] else [name]
    return options

def _chart(ctx: Context, f: dict[str, yaml.Node], path: str, source: SourceConfig) -> None:
    """``chart``: the source is a chart in a Helm repository or an OCI registry."""
    source.chart = read_str(ctx, f["chart"], f"{path}.chart")
    if not source.chart or "/" in source.chart:
        ctx.error(f["chart"], f"{path}.chart", f"must be a chart name, not '{source.chart}'")
    if not source.repo_url.startswith(("http://", "https://", "oci://")):
        ctx.error(f["repoURL"], f"{path}.repoURL", "a chart source needs a Helm repository (http:// or "
                  f"https://) or an OCI registry (oci://), not '{safe_url(source.repo_url)}'")
    if "targetRevision" not in f:
        source.target_revision = "*"  # the newest stable version, as helm pull without --version
    if "path" in f:
        ctx.error(f["path"], f"{path}.path", "does not apply to a chart source (the chart is the whole source)")
    source.type = "helm"

def _source(ctx: Context, node: yaml.Node, path: str) -> SourceConfig | None:
    f = read_mapping(ctx, node, path, ("repoURL", "targetRevision", "path", "type", "directory", "helm", "chart",
                                   "ref", "kustomize"), required=("repoURL",))
    if f is None or "repoURL" not in f:
        return None
    repo_url = read_str(ctx, f["repoURL"], f"{path}.repoURL")
    if repo_url is None:
        return None
    if is_local_path(repo_url) and not repo_url.startswith("{{"):
        repo_url = ctx.path(repo_url)
    if safe_url(repo_url).partition("?")[2] != repo_url.partition("?")[2]:
        ctx.error(f["repoURL"], f"{path}.repoURL", "a credential in the URL's query string would show on git's "
                  "command line; put the token in a file and name it in repositories[].tokenFile")
    source = SourceConfig(repo_url=repo_url)
    if "targetRevision" in f and (v := read_str(ctx, f["targetRevision"], f"{path}.targetRevision")) is not None:
        if v.startswith("-"):
            ctx.error(f["targetRevision"], f"{path}.targetRevision", f"'{v}' is not a branch, tag or commit")
        source.target_revision = v
    if "path" in f and (v := read_str(ctx, f["path"], f"{path}.path")) is not None:
        if os.path.isabs(v) or ".." in Path(v).parts:
            ctx.error(f["path"], f"{path}.path", f"must be a path inside the repository, not '{v}'")
        source.path = v
    explicit_type = False
    if "type" in f and (t := read_choice(ctx, f["type"], f"{path}.type", SOURCE_TYPES)) is not None:
        source.type = t
        explicit_type = True
    if "directory" in f:
        d = read_mapping(ctx, f["directory"], f"{path}.directory", ("recurse", "include", "exclude"))
        if d is not None:
            opts = DirectoryOptions()
            if "recurse" in d and (b := read_bool(ctx, d["recurse"], f"{path}.directory.recurse")) is not None:
                opts.recurse = b
            for key in ("include", "exclude"):
                if key in d:
                    setattr(opts, key, read_str(ctx, d[key], f"{path}.directory.{key}"))
            source.directory = opts
    if "helm" in f:
        source.helm = _helm(ctx, f["helm"], f"{path}.helm")
        if not explicit_type:
            source.type = "helm"  # a helm block without a type means helm, as in Argo CD
        elif source.type != "helm":
            ctx.error(f["helm"], f"{path}.helm", f"only applies to type helm, not {source.type}")
    if "directory" in f and source.type != "directory":
        ctx.error(f["directory"], f"{path}.directory", f"only applies to type directory, not {source.type}")
    if "kustomize" in f:
        source.kustomize_build_options = kustomize_options(ctx, f["kustomize"], f"{path}.kustomize")
        if not explicit_type:
            source.type = "kustomize"
        elif source.type != "kustomize":
            ctx.error(f["kustomize"], f"{path}.kustomize", f"only applies to type kustomize, not {source.type}")
    if "chart" in f:
        _chart(ctx, f, path, source)
    if "ref" in f and (ref := read_str(ctx, f["ref"], f"{path}.ref")) is not None:
        if not _REF_NAME.fullmatch(ref):
            ctx.error(f["ref"], f"{path}.ref", f"must be a name of letters, digits, '-' and '_', not '{ref}'")
        source.ref = ref
    return source

def _sources(ctx: Context, f: dict[str, yaml.Node], path: str) -> list[SourceConfig] | None:
    """``source``, or Argo CD's ``sources:`` list; ``$ref/...`` value files must name a ``ref``."""
    if "source" in f and "sources" in f:
        ctx.error(f["sources"], f"{path}.sources", "set either source or sources, not both")
        return None
    if "source" in f:
        one = _source(ctx, f["source"], f"{path}.source")
        return [one] if one is not None else None
    items = read_sequence(ctx, f["sources"], f"{path}.sources")
    if not items:
        ctx.error(f["sources"], f"{path}.sources", "needs at least one source")
        return None
    sources = [_source(ctx, item, f"{path}.sources[{i}]") for i, item in enumerate(items)]
    if any(s is None for s in sources):
        return None
    found = [s for s in sources if s is not None]
    refs = [s.ref for s in found if s.ref]
    for i, (item, source) in enumerate(zip(items, found, strict=True)):
        for name in source.helm.value_files:
            ref = name[1:].split("/", 1)[0] if name.startswith("$") else None
            if ref is not None and ref not in refs:
                ctx.error(item, f"{path}.sources[{i}].helm.valueFiles",
                          f"'{name}' names no source: {unknown_name('ref', ref, refs)}")
    if not any(s.renders for s in found):
        ctx.error(f["sources"], f"{path}.sources", "every source only lends files (ref without path or chart); "
                  "nothing would be rendered")
    return found

_APP_KEYS = ("name", "project", "labels", "source", "sources", "destination", "compare", "ignoreDifferences",
             "notifications")

def read_app(ctx: Context, node: yaml.Node, path: str, defaults: Defaults,
         clusters: Collection[str] | None, channels: Collection[str] | None) -> AppConfig | None:
    f = read_mapping(ctx, node, path, _APP_KEYS, required=("name", "destination"))
    if f is None:
        return None
    if "source" not in f and "sources" not in f:
        ctx.error(node, f"{path}.source", "is required")
    name = read_str(ctx, f["name"], f"{path}.name") if "name" in f else None
    if name is not None and not name.strip():
        ctx.error(f["name"], f"{path}.name", "must not be empty")
        name = None
    sources = _sources(ctx, f, path) if "source" in f or "sources" in f else None
    source = sources[0] if sources else None
    destination = None
    if "destination" in f:
        d = read_mapping(ctx, f["destination"], f"{path}.destination", ("cluster", "namespace"),
                     required=("cluster",))
        if d is not None and "cluster" in d:
            cluster = read_str(ctx, d["cluster"], f"{path}.destination.cluster")
            if cluster is not None and clusters is not None and cluster not in clusters:
                ctx.error(d["cluster"], f"{path}.destination.cluster", unknown_name("cluster", cluster, clusters))
            namespace = read_str(ctx, d["namespace"], f"{path}.destination.namespace") if "namespace" in d else ""
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
    app = AppConfig(name=name or "", source=source or SourceConfig(repo_url=""), more_sources=(sources or [])[1:],
                    destination=destination or Destination(cluster=""),
                    compare=copy.deepcopy(compare), notifications=copy.deepcopy(notifications),
                    origin=ctx.loc(node))
    if "project" in f and (p := read_str(ctx, f["project"], f"{path}.project")) is not None:
        app.project = p
    if "labels" in f:
        app.labels = read_str_map(ctx, f["labels"], f"{path}.labels")
    if name is None or source is None or destination is None:
        return None
    return app

@dataclass
class Defaults:
    compare: CompareOptions = field(default_factory=CompareOptions)
    notifications: NotifyPolicy = field(default_factory=NotifyPolicy)
    #: The same blocks as plain data, merged into generator templates.
    raw: dict[str, Any] = field(default_factory=dict)

def read_defaults(ctx: Context, node: yaml.Node, channels: Collection[str]) -> Defaults:
    result = Defaults()
    f = read_mapping(ctx, node, "defaults", ("compare", "notifications"))
    if f is None:
        return result
    if "compare" in f:
        result.compare = _compare(ctx, f["compare"], "defaults.compare", result.compare)
        result.raw["compare"] = read_data(ctx, f["compare"], "defaults.compare")
    if "notifications" in f:
        result.notifications = _notify_policy(ctx, f["notifications"], "defaults.notifications",
                                              result.notifications, channels)
        result.raw["notifications"] = read_data(ctx, f["notifications"], "defaults.notifications")
    return result
