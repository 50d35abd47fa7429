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
from pathlib import Path
from typing import Any

import yaml

from exporter.charts.fetching import ChartError, run_worker

__all__ = ["missing_dependencies", "with_dependencies"]


def _declared(chart: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for name in ("Chart.yaml", "requirements.yaml"):
        path = chart / name
        if not path.is_file():
            continue
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        except (yaml.YAMLError, UnicodeDecodeError):
            return []  # the render reports the broken file with its line
        deps = data.get("dependencies") if isinstance(data, dict) else None
        found += [d for d in deps or [] if isinstance(d, dict) and d.get("name")]
    return found


def missing_dependencies(chart: Path) -> list[str]:
    """Declared dependencies with no archive or directory under ``charts/`` (blocking: reads files)."""
    vendored = chart / "charts"
    present = {p.name for p in vendored.iterdir()} if vendored.is_dir() else set()
    missing = []
    for dep in _declared(chart):
        name = str(dep["name"])
        if name not in present and not any(p.startswith(f"{name}-") and p.endswith(".tgz") for p in present):
            missing.append(name)
    return missing


def _linked_copy(tree: Path, target: Path) -> None:
    shutil.copytree(tree, target, copy_function=os.link, symlinks=True)
    for directory, _dirs, _files in os.walk(target):
        os.chmod(directory, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)


def _plan(tree: Path, rel: str, cache: Path) -> tuple[list[str], Path, bool]:
    """What is missing, where the copy with it lives, and whether that copy is made already.
    Copies whose checkout the Git cache has pruned go too, so the cache stays bounded."""
    missing = missing_dependencies(tree / rel)
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


async def with_dependencies(tree: Path, rel: str, cache: Path, time_limit: float) -> Path:
    """The tree to render the chart at ``tree/rel`` from: ``tree`` itself when nothing is missing,
    else a copy with the dependencies fetched. Raises ``ChartError``."""
    loop = asyncio.get_running_loop()
    missing, target, made = await loop.run_in_executor(None, _plan, tree, rel, cache)
    if not missing:
        return tree
    if made:
        return target
    tmp = Path(tempfile.mkdtemp(prefix=".deps-", dir=cache))
    try:
        copy = tmp / "tree"
        await loop.run_in_executor(None, _linked_copy, tree, copy)
        locked = any((copy / rel / name).is_file() for name in ("Chart.lock", "requirements.lock"))
        request = {"op": "dependencies", "chart_dir": str(copy / rel), "locked": locked}
        what = f"{rel}: helm dependency {'build' if locked else 'update'} ({', '.join(missing)})"
        answer = await run_worker(request, time_limit, what)
        bad = [f"{d.get('name')} {d.get('version')}: {d.get('status')}" for d in answer.get("dependencies", [])
               if d.get("status") not in ("ok", "unpacked")]
        if bad:
            raise ChartError(f"{what}: " + "; ".join(bad))
        await loop.run_in_executor(None, _keep, copy, target, tree)
        return target
    finally:
        await loop.run_in_executor(None, shutil.rmtree, tmp, True)
