"""The layout's one rule: imports run in one direction, from the base types through the stages of the
data flow to the wiring and the command line, and nothing imports in a circle.

A reader finds a stage by its name and changes it without touching the stages before it; a
backward import (say Git counting fetches in the output module) makes that false, so it fails here
with the importing file and line.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "exporter"

#: The stages in data-flow order; a module may import its own stage and those before it.
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("base types", ("exporter", "exporter.model", "exporter.config_types", "exporter.clock", "exporter.humanize",
                    "exporter.urls", "exporter.process", "exporter.logs", "exporter.instruments",
                    "exporter.sharding", "exporter.globs", "exporter.values", "exporter.atomic",
                    "exporter.workers", "exporter.collector", "exporter.supervision")),
    ("config", ("exporter.config",)),
    ("git", ("exporter.git", "exporter.generators", "exporter.charts", "exporter.argocd")),
    ("render", ("exporter.render",)),
    ("kube", ("exporter.kube", "exporter.simulator")),
    ("diff and health", ("exporter.diff", "exporter.health")),
    ("status", ("exporter.status", "exporter.windows", "exporter.pipeline", "exporter.history")),
    ("outputs", ("exporter.metrics", "exporter.notify", "exporter.server")),
    ("wiring", ("exporter.agent", "exporter.wiring", "exporter.demo")),
    ("cli", ("exporter.cli",)),
]


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def stage_of(module: str) -> int:
    best: tuple[int, int] | None = None
    for index, (_, prefixes) in enumerate(STAGES):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    assert best is not None, f"{module} belongs to no stage: add it to STAGES"
    return best[0]


def imports(module: str) -> list[tuple[str, int]]:
    """The project modules ``module`` imports at run time, with the line (TYPE_CHECKING blocks aside)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    type_only = {id(sub) for node in ast.walk(tree) if isinstance(node, ast.If)
                 and getattr(node.test, "id", "") == "TYPE_CHECKING" for sub in ast.walk(node)}
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "exporter":
            subs = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES]
            targets = subs if len(subs) == len(node.names) else [node.module, *subs]
            found += [(_resolve(t), node.lineno) for t in targets]
        elif isinstance(node, ast.Import):
            found += [(_resolve(a.name), node.lineno) for a in node.names if a.name.split(".")[0] == "exporter"]
    return [(t, line) for t, line in found if t != module]


def _resolve(name: str) -> str:
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def test_every_import_runs_forward_through_the_stages() -> None:
    backward = []
    for module in sorted(MODULES):
        for target, line in imports(module):
            if stage_of(target) > stage_of(module):
                backward.append(f"{MODULES[module].relative_to(PACKAGE.parent)}:{line}: {module} "
                                f"({STAGES[stage_of(module)][0]}) imports {target} ({STAGES[stage_of(target)][0]})")
    assert backward == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_in_a_circle() -> None:
    graph = {m: {t for t, _ in imports(m)} for m in MODULES}
    assert _cycles(graph) == []


def test_no_package_imports_in_a_circle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for module in MODULES:
        for target, _ in imports(module):
            a, b = ".".join(module.split(".")[:2]), ".".join(target.split(".")[:2])
            if a != b:
                graph[a].add(b)
    assert _cycles(graph) == []
