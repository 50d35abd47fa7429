"""``appGenerators[]``: one app per directory of a repository, from a template with placeholders."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import yaml
from yaml.representer import SafeRepresenter

from exporter.config.apps import _app, _Defaults
from exporter.config.reader import (
    ConfigError,
    _bool,
    _Ctx,
    _data,
    _mapping,
    _node_kind,
    _sequence,
    _str,
    _str_map,
    _unknown_name,
    is_local_path,
)
from exporter.config_types import (
    AppConfig,
    ArgoCDAppSource,
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


def _app_sources(ctx: _Ctx, node: yaml.Node, clusters: Collection[str]) -> list[ArgoCDAppSource]:
    """``appSources[]``: where to read Argo CD Applications, and how their destinations map."""
    out: list[ArgoCDAppSource] = []
    for i, item in enumerate(_sequence(ctx, node, "appSources")):
        path = f"appSources[{i}]"
        f = _mapping(ctx, item, path, ("argocd",), required=("argocd",))
        if f is None or "argocd" not in f:
            continue
        path += ".argocd"
        a = _mapping(ctx, f["argocd"], path, ("cluster", "namespace", "labelSelector", "destinations"),
                     required=("cluster",))
        if a is None or "cluster" not in a or (cluster := _str(ctx, a["cluster"], f"{path}.cluster")) is None:
            continue
        if cluster not in clusters:
            ctx.error(a["cluster"], f"{path}.cluster", _unknown_name("cluster", cluster, clusters))
        source = ArgoCDAppSource(cluster=cluster, origin=ctx.loc(item))
        if "namespace" in a and (v := _str(ctx, a["namespace"], f"{path}.namespace")) is not None:
            source.namespace = v
        if "labelSelector" in a and (v := _str(ctx, a["labelSelector"], f"{path}.labelSelector")) is not None:
            source.label_selector = v
        if "destinations" in a:
            source.destinations = _str_map(ctx, a["destinations"], f"{path}.destinations")
            for server, name in source.destinations.items():
                if name not in clusters:
                    ctx.error(a["destinations"], f"{path}.destinations.{server}", _unknown_name("cluster", name, clusters))
        out.append(source)
    return out
