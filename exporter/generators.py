"""App generators: one app per matching directory of a repository, like Argo CD's ApplicationSet
Git directory generator.

Teams that add a folder per service want the new service watched without editing the agent's
config; the generator lists the directories at the current commit and fills the template once per
directory. Directory patterns match like Go's ``path.Match`` (``*`` stays within one segment), as
in Argo CD, so ``apps/*`` does not pick up ``apps/web/base``.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from exporter.config import ConfigError, parse_app, template_substitution
from exporter.config_types import AppConfig, GitDirectoryGenerator
from exporter.git import GitCache
from exporter.globs import GlobError, glob_match

log = logging.getLogger(__name__)


class GeneratorError(Exception):
    """A generator could not produce its apps; the message starts with the generator's origin."""


def matching_directories(directories: list[str], include: list[str], exclude: list[str]) -> list[str]:
    """The directories matching any ``include`` pattern and no ``exclude`` pattern, sorted."""
    def matches(patterns: list[str], path: str) -> bool:
        return any(glob_match(p.strip("/"), path, separator_aware=True) for p in patterns)

    return sorted(d for d in directories if matches(include, d) and not matches(exclude, d))


def instantiate(gen: GitDirectoryGenerator, path: str) -> AppConfig:
    """The generator's template filled for one directory. Raises ``GeneratorError``."""
    template: dict[str, Any] = copy.deepcopy(gen.template)
    try:
        return parse_app(template, origin=gen.origin, path=f"template for '{path}'",
                         subst=template_substitution(path))
    except ConfigError as exc:
        raise GeneratorError("; ".join(exc.errors)) from None


async def expand(gen: GitDirectoryGenerator, git: GitCache) -> list[AppConfig]:
    """The apps ``gen`` makes at the current commit of its revision, in directory order.

    Raises ``GitError`` when the repository cannot be read, ``GeneratorError`` for a bad template,
    a bad pattern, or two directories that give one app name.
    """
    sha = await git.resolve(gen.repo_url, gen.revision)
    directories = await git.list_directories(gen.repo_url, sha)
    try:
        chosen = matching_directories(directories, gen.directories, gen.exclude)
    except GlobError as exc:
        raise GeneratorError(f"{gen.origin}: {exc}") from None
    apps: list[AppConfig] = []
    seen: dict[str, str] = {}
    for path in chosen:
        app = instantiate(gen, path)
        if app.name in seen:
            raise GeneratorError(f"{gen.origin}: directories '{seen[app.name]}' and '{path}' "
                                 f"both make an app named '{app.name}'")
        seen[app.name] = path
        app.origin = f"{gen.origin} ({path})"
        apps.append(app)
    return apps


def without_clashes(known: list[AppConfig], made: list[AppConfig]) -> list[AppConfig]:
    """Generated apps whose names are free: a generated app never silently replaces an app of
    the same name (written in the config, or generated before it); the clash is an error naming
    both sources, and the first one stays."""
    taken = {a.name: a.origin for a in known}
    kept = []
    for app in made:
        if app.name in taken:
            log.error("%s: app name '%s' is already used by %s; this generated app is left out",
                      app.origin or "app generator", app.name, taken[app.name] or "another app")
            continue
        taken[app.name] = app.origin
        kept.append(app)
    return kept
