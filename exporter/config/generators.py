"""``appGenerators[]``: one app per directory of a repository, from a template with placeholders."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import yaml
from yaml.representer import SafeRepresenter

from exporter.config.apps import Defaults, read_app
from exporter.config.reader import (
    ConfigError,
    Context,
    is_local_path,
    node_kind,
    read_bool,
    read_data,
    read_mapping,
    read_sequence,
    read_str,
    read_str_map,
    unknown_name,
)
from exporter.config_types import (
    AppConfig,
    AppSource,
    ArgoCDAppSource,
    FluxAppSource,
    GitDirectoryGenerator,
)

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

def read_generators(ctx: Context, node: yaml.Node, defaults: Defaults, clusters: Collection[str],
                channels: Collection[str]) -> list[GitDirectoryGenerator]:
    out: list[GitDirectoryGenerator] = []
    for i, item in enumerate(read_sequence(ctx, node, "appGenerators")):
        path = f"appGenerators[{i}]"
        f = read_mapping(ctx, item, path, ("git", "template"), required=("git", "template"))
        if f is None or "git" not in f or "template" not in f:
            continue
        g = read_mapping(ctx, f["git"], f"{path}.git", ("repoURL", "revision", "directories"),
                     required=("repoURL", "directories"))
        if g is None or "repoURL" not in g or "directories" not in g:
            continue
        repo_url = read_str(ctx, g["repoURL"], f"{path}.git.repoURL")
        revision = read_str(ctx, g["revision"], f"{path}.git.revision") if "revision" in g else "HEAD"
        if repo_url is None or revision is None:
            continue
        if is_local_path(repo_url):
            repo_url = ctx.path(repo_url)
        include: list[str] = []
        exclude: list[str] = []
        for j, entry in enumerate(read_sequence(ctx, g["directories"], f"{path}.git.directories")):
            sub = f"{path}.git.directories[{j}]"
            if isinstance(entry, yaml.ScalarNode):
                glob = read_str(ctx, entry, sub)
                excluded = False
            else:
                e = read_mapping(ctx, entry, sub, ("path", "exclude"), required=("path",))
                if e is None or "path" not in e:
                    continue
                glob = read_str(ctx, e["path"], f"{sub}.path")
                excluded = bool(read_bool(ctx, e["exclude"], f"{sub}.exclude")) if "exclude" in e else False
            if glob is not None:
                (exclude if excluded else include).append(glob)
        if not include:
            ctx.error(g["directories"], f"{path}.git.directories", "needs at least one path that is not excluded")
        template = read_data(ctx, f["template"], f"{path}.template")
        if not isinstance(template, dict):
            ctx.error(f["template"], f"{path}.template", f"must be a mapping, not a {node_kind(f['template'])}")
            continue
        template = _with_generator_defaults(template, repo_url, revision, defaults.raw)
        # Check the template now, with its real line numbers, so mistakes show at start-up.
        check = Context(ctx.file, ctx.base_dir, ctx.errors, fallback=ctx.loc(f["template"]),
                     subst=template_substitution(None))
        _fill_source_node(f["template"], repo_url, revision)
        read_app(check, f["template"], f"{path}.template", defaults, clusters=None, channels=channels)
        dest = template.get("destination")
        if isinstance(dest, dict) and isinstance(dest.get("cluster"), str) and "{{" not in dest["cluster"]:
            if dest["cluster"] not in clusters:
                ctx.error(f["template"], f"{path}.template.destination.cluster",
                          unknown_name("cluster", dest["cluster"], clusters))
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
    ctx = Context(file=file, base_dir=Path(file).resolve().parent, fallback=origin, subst=subst)
    app = read_app(ctx, node, path, Defaults(), clusters=clusters, channels=None)
    if ctx.errors or app is None:
        raise ConfigError(ctx.errors or [f"{origin}: {path}: is not a valid app"])
    return app


def read_app_sources(ctx: Context, node: yaml.Node, clusters: Collection[str]) -> list[AppSource]:
    """``appSources[]``: where to read Argo CD Applications (and how their destinations map), or
    Flux Kustomizations."""
    out: list[AppSource] = []
    for i, item in enumerate(read_sequence(ctx, node, "appSources")):
        path = f"appSources[{i}]"
        f = read_mapping(ctx, item, path, ("argocd", "flux"))
        if f is None:
            continue
        if len(f) != 1:
            ctx.error(item, path, "must have exactly one of argocd, flux")
            continue
        kind = next(iter(f))
        path += f".{kind}"
        keys = ("cluster", "namespace", "labelSelector", "destinations") if kind == "argocd" \
            else ("cluster", "namespace", "labelSelector", "names", "readSourceSecrets")
        a = read_mapping(ctx, f[kind], path, keys, required=("cluster",))
        if a is None or "cluster" not in a or (cluster := read_str(ctx, a["cluster"], f"{path}.cluster")) is None:
            continue
        if cluster not in clusters:
            ctx.error(a["cluster"], f"{path}.cluster", unknown_name("cluster", cluster, clusters))
        source: AppSource = ArgoCDAppSource(cluster=cluster, origin=ctx.loc(item)) if kind == "argocd" \
            else FluxAppSource(cluster=cluster, origin=ctx.loc(item))
        if "namespace" in a and (v := read_str(ctx, a["namespace"], f"{path}.namespace")) is not None:
            source.namespace = v
        if "labelSelector" in a and (v := read_str(ctx, a["labelSelector"], f"{path}.labelSelector")) is not None:
            source.label_selector = v
        if "names" in a and isinstance(source, FluxAppSource):
            source.names = read_str_map(ctx, a["names"], f"{path}.names")
            for key in source.names:
                if key.count("/") != 1:
                    ctx.error(a["names"], f"{path}.names.{key}", "must be NAMESPACE/NAME of a Kustomization or HelmRelease")
        if "readSourceSecrets" in a and isinstance(source, FluxAppSource):
            source.read_source_secrets = read_bool(ctx, a["readSourceSecrets"], f"{path}.readSourceSecrets") is True
        if "destinations" in a and isinstance(source, ArgoCDAppSource):
            source.destinations = read_str_map(ctx, a["destinations"], f"{path}.destinations")
            for server, name in source.destinations.items():
                if name not in clusters:
                    ctx.error(a["destinations"], f"{path}.destinations.{server}", unknown_name("cluster", name, clusters))
        out.append(source)
    return out
