"""Chart dependencies declared in ``Chart.yaml`` (or ``requirements.yaml``) but not vendored.

``helm dependency build`` fetches what the lock file (``Chart.lock`` or ``requirements.lock``)
pins; without a lock, ``helm dependency update`` resolves the declared ranges, as Argo CD does.
Checkouts are read-only and shared, so the work happens in a hard-linked copy of the checkout
(relative ``file://`` dependencies keep resolving), kept in the cache for that commit.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from exporter.charts.fetching import ChartCache, ChartError, run_worker
from exporter.config_types import SourceConfig
from exporter.values import merge_values

__all__ = ["dependency_enabled", "linked_copy", "missing_dependencies", "with_dependencies"]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: No values of the app's own: the chart's ``values.yaml`` alone decides.
NO_VALUES: Mapping[str, Any] = MappingProxyType({})


def _declared(chart: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for name in ("Chart.yaml", "requirements.yaml"):
        path = chart / name
        if not path.is_file():
            continue
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        except (yaml.YAMLError, UnicodeDecodeError):
            return []  # the render reports the broken file with its line
        deps = data.get("dependencies") if isinstance(data, dict) else None
        found += [d for d in deps or [] if isinstance(d, dict) and d.get("name")]
    return found


def _path_value(values: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of ``values`` (Helm's ``PathValue``), or None."""
    node: Any = values
    for part in path.strip().split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def dependency_enabled(dep: Mapping[str, Any], values: Mapping[str, Any] | None) -> bool:
    """Whether Helm renders dependency ``dep`` for the chart's ``values`` (its ``values.yaml``
    under the app's values), by Helm's rules: the first ``condition`` path that holds a boolean
    decides; else its ``tags``: enabled when any is true, disabled when all that are set are
    false; else enabled. Without values (they could not be read) every dependency is enabled,
    and the render reports why."""
    if values is None:
        return True
    condition = dep.get("condition")
    if isinstance(condition, str):
        for path in condition.split(","):
            value = _path_value(values, path)
            if isinstance(value, bool):
                return value
    tags = dep.get("tags")
    set_tags = values.get("tags") if isinstance(values.get("tags"), Mapping) else {}
    if isinstance(tags, list) and isinstance(set_tags, Mapping):
        found = [set_tags[t] for t in tags if isinstance(t, str) and isinstance(set_tags.get(t), bool)]
        if found and not any(found):
            return False
    return True


def _chart_values(chart: Path, user: Mapping[str, Any]) -> dict[str, Any]:
    """The chart's own ``values.yaml`` with the app's values over it, as Helm coalesces them."""
    path = chart / "values.yaml"
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) if path.is_file() else None
    except (yaml.YAMLError, UnicodeDecodeError):
        data = None  # the render reports the broken file with its line
    return merge_values(data if isinstance(data, dict) else {}, dict(user))


def _missing(chart: Path, user_values: Mapping[str, Any] | None = NO_VALUES) -> list[dict[str, Any]]:
    vendored = chart / "charts"
    present = {p.name for p in vendored.iterdir()} if vendored.is_dir() else set()
    values = _chart_values(chart, user_values) if user_values is not None else None
    return [dep for dep in _declared(chart) if str(dep["name"]) not in present
            and not any(p.startswith(f"{dep['name']}-") and p.endswith(".tgz") for p in present)
            and dependency_enabled(dep, values)]


def missing_dependencies(chart: Path, user_values: Mapping[str, Any] | None = NO_VALUES) -> list[str]:
    """Declared dependencies enabled for the app's ``user_values`` (None: they could not be read,
    so all) with no archive or directory under ``charts/`` (blocking: reads files)."""
    return [str(dep["name"]) for dep in _missing(chart, user_values)]


async def _check_repositories(missing: list[dict[str, Any]], rel: str, charts: ChartCache) -> None:
    """Ask each dependency's repository first: its answer names the chart, the repository and the
    versions there are, where Helm's own failure would only say its cache is empty."""
    for dep in missing:
        repository = str(dep.get("repository") or "")
        if not repository.startswith(("http://", "https://", "oci://")):
            continue
        source = SourceConfig(repo_url=repository, chart=str(dep["name"]), target_revision=str(dep.get("version") or "*"))
        try:
            await charts.resolve(source)
        except ChartError as exc:
            raise ChartError(f"{rel}: dependency {dep['name']}: {exc}") from None


def linked_copy(tree: Path, target: Path) -> None:
    """A copy of the read-only checkout ``tree`` whose files are hard links and whose directories
    are writable, so tools can add files without touching the checkout."""
    shutil.copytree(tree, target, copy_function=os.link, symlinks=True)
    for directory, _dirs, _files in os.walk(target):
        os.chmod(directory, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)


def _plan(tree: Path, rel: str, cache: Path, user_values: Mapping[str, Any] | None,
          ) -> tuple[list[dict[str, Any]], Path, bool]:
    """What is missing, where the copy with it lives, and whether that copy is made already.
    Copies whose checkout the Git cache has pruned go too, so the cache stays bounded."""
    missing = _missing(tree / rel, user_values)
    target = cache / hashlib.sha256(f"{tree.resolve()}\0{rel}".encode()).hexdigest()[:24]
    if missing:
        cache.mkdir(parents=True, exist_ok=True)
        for made in cache.iterdir():
            origin = made / ".origin"
            if made.is_dir() and origin.is_file() and not Path(origin.read_text()).is_dir():
                shutil.rmtree(made, ignore_errors=True)
    return missing, target, target.is_dir()


def _keep(copy: Path, target: Path, tree: Path) -> None:
    os.rename(copy, target)
    (target / ".origin").write_text(str(tree.resolve()))


async def with_dependencies(tree: Path, rel: str, charts: ChartCache, time_limit: float,
                            user_values: Mapping[str, Any] | None = NO_VALUES) -> Path:
    """The tree to render the chart at ``tree/rel`` from: ``tree`` itself when nothing it renders
    is missing, else a copy with the dependencies fetched. A dependency the app's ``user_values``
    disable (``condition`` or ``tags``) is neither fetched nor required: Helm renders nothing of
    it (None: the values could not be read, so every dependency is fetched and the render says
    what is wrong with them). Raises ``ChartError``."""
    loop = asyncio.get_running_loop()
    cache = charts.root / "dependencies"
    missing, target, made = await loop.run_in_executor(None, _plan, tree, rel, cache, user_values)
    if not missing:
        return tree
    if made:
        return target
    await _check_repositories(missing, rel, charts)
    tmp = Path(tempfile.mkdtemp(prefix=".deps-", dir=cache))
    try:
        copy = tmp / "tree"
        await loop.run_in_executor(None, linked_copy, tree, copy)
        locked = any((copy / rel / name).is_file() for name in ("Chart.lock", "requirements.lock"))
        request = {"op": "dependencies", "chart_dir": str(copy / rel), "locked": locked}
        names = ", ".join(str(dep["name"]) for dep in missing)
        what = f"{rel}: helm dependency {'build' if locked else 'update'} ({names})"
        answer = await run_worker(request, time_limit, what)
        bad = [f"{d.get('name')} {d.get('version')}: {d.get('status')}" for d in answer.get("dependencies", [])
               if d.get("status") not in ("ok", "unpacked")]
        if bad:
            raise ChartError(f"{what}: " + "; ".join(bad))
        await loop.run_in_executor(None, _keep, copy, target, tree)
        return target
    finally:
        await loop.run_in_executor(None, shutil.rmtree, tmp, True)
