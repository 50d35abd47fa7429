"""The floors of the fleet bench: what the machine needs, in the same run, for the work no agent can
skip, so each figure is read as a ratio that does not move with the machine.

- list decode: every list page the simulated servers send for the kinds the apps use, decoded
  with the JSON decoder the agent uses (the standard library's), CPU seconds;
- manifest parse: every manifest file of the repository, parsed by the fastest parser the agent
  has (its one pass over libyaml's nodes, :func:`exporter.render.yaml_loading.load_plain`);
- git: ``git fetch`` and ``git checkout`` of a push in a clone of its own, wall seconds;
- and, from a profile of the cold start, where the agent's own CPU went, by stage.
"""

from __future__ import annotations

import json
import pstats
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import aiohttp
import yaml

#: Stages of the per-stage table, by the path of the code that ran (first match wins).
STAGES = (
    ("list decode", ("exporter/kube/client.py", "json/decoder.py", "json/__init__.py", "_json.")),
    ("compaction", ("exporter/kube/compact.py", "exporter/kube/cache.py")),
    ("render", ("exporter/render/", "yaml/", "_yaml", "exporter/pipeline/desired.py")),
    ("compare", ("exporter/diff/",)),
    ("health", ("exporter/health/",)),
    ("status", ("exporter/status.py", "exporter/pipeline/statuses.py", "exporter/history.py")),
    ("metrics", ("exporter/metrics/", "exporter/server/")),
    ("git", ("exporter/git.py", "exporter/process.py")),
    ("pipeline (scheduling, routing, evaluation)", ("exporter/pipeline/", "exporter/agent.py")),
    ("HTTP (aiohttp)", ("aiohttp/", "multidict/", "yarl/")),
    ("event loop", ("asyncio/", "selectors.py")),
    ("copying", ("copy.py",)),
    ("the rest", ("",)),
)


async def decode_floor(urls: Iterable[str], paths: Iterable[str], limit: int = 500) -> dict[str, float]:
    """CPU seconds to decode every page of every list at ``paths`` on every server at ``urls``."""
    seconds, pages, size = 0.0, 0, 0
    paths = list(paths)
    async with aiohttp.ClientSession() as http:
        for url in urls:
            for path in paths:
                token = ""
                while True:
                    params = {"limit": str(limit), **({"continue": token} if token else {})}
                    async with http.get(url + path, params=params) as answer:
                        body = await answer.read()
                    started = time.process_time()
                    page = json.loads(body)
                    seconds += time.process_time() - started
                    pages, size = pages + 1, size + len(body)
                    token = (page.get("metadata") or {}).get("continue") or ""
                    if not token:
                        break
    return {"seconds": seconds, "pages": pages, "MiB": size / 2**20}


def parse_floor(repo: Path) -> float:
    """CPU seconds to parse every manifest file of ``repo``'s work tree."""
    from exporter.render.yaml_loading import load_plain

    texts = [p.read_text(encoding="utf-8") for p in sorted((repo / "apps").rglob("*.yaml"))]
    started = time.process_time()
    for text in texts:
        if load_plain(text, max_documents=10_000, max_depth=100, max_nodes=2_000_000) is None:
            list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    return time.process_time() - started


def git_clone(repo: Path, into: Path) -> Path:
    """A clone of ``repo`` with a work tree, where the git floor of each push is measured."""
    subprocess.run(["git", "clone", "--quiet", f"file://{repo}", str(into)], check=True)
    return into


def git_floor(clone: Path, sha: str) -> float:
    """Wall seconds ``git`` needs to fetch the push ending at ``sha`` and check it out."""
    started = time.perf_counter()
    subprocess.run(["git", "-C", str(clone), "fetch", "--quiet", "origin"], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", "--force", sha], check=True)
    return time.perf_counter() - started


def stage_table(profile: str) -> dict[str, float]:
    """Own CPU seconds per stage in a cProfile dump (:data:`STAGES`), largest first."""
    stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    totals: dict[str, float] = {name: 0.0 for name, _ in STAGES}
    for (filename, _, function), (_, _, own, _, _) in stats.items():
        path = f"{filename} {function}".replace("\\", "/")  # a C function has "~" and its name
        stage = next(name for name, marks in STAGES if any(mark in path for mark in marks))
        totals[stage] += own
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))
