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
from collections.abc import Callable
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "exporter"

#: The stages in data-flow order; a module may import its own stage and those before it.
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("base types", ("exporter", "exporter.model", "exporter.config_types", "exporter.clock", "exporter.humanize",
                    "exporter.urls", "exporter.process", "exporter.logs", "exporter.instruments",
                    "exporter.sharding", "exporter.globs", "exporter.values", "exporter.atomic",
                    "exporter.workers", "exporter.collector", "exporter.supervision", "exporter.backoff",
                    "exporter.semver")),
    ("config", ("exporter.config",)),
    ("git", ("exporter.git", "exporter.checkouts", "exporter.generators", "exporter.charts", "exporter.oci", "exporter.argocd", "exporter.flux")),
    ("render", ("exporter.render",)),
    ("kube", ("exporter.kube", "exporter.simulator")),
    ("diff and health", ("exporter.diff", "exporter.health")),
    ("status", ("exporter.status", "exporter.windows", "exporter.pipeline", "exporter.history")),
    ("outputs", ("exporter.metrics", "exporter.notify", "exporter.server")),
    ("wiring", ("exporter.agent", "exporter.parts", "exporter.wiring", "exporter.demo")),
    ("cli", ("exporter.cli", "exporter.toolchain", "exporter.offline")),
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


def backward(import_map: dict[str, list[tuple[str, int]]], stage: Callable[[str], int]) -> list[str]:
    """Every import in ``import_map`` (module -> imported modules with the line) of a later stage."""
    found = []
    for module in sorted(import_map):
        for target, line in import_map[module]:
            if stage(target) > stage(module):
                found.append(f"{module}:{line} ({STAGES[stage(module)][0]}) imports {target} "
                             f"({STAGES[stage(target)][0]})")
    return found


def private_imports(module: str) -> list[str]:
    """Names with a leading underscore that ``module`` imports from another project module: what
    a module keeps to itself may change without notice, so another module must not lean on it."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    return [f"{MODULES[module].relative_to(PACKAGE.parent)}:{node.lineno}: {a.name} from {node.module}"
            for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
            and node.module.split(".")[0] == "exporter" for a in node.names
            if a.name.startswith("_") and not a.name.startswith("__")]


def test_every_import_runs_forward_through_the_stages() -> None:
    assert backward({m: imports(m) for m in MODULES}, stage_of) == []


def test_no_module_imports_another_module_s_private_names() -> None:
    assert [found for module in sorted(MODULES) for found in private_imports(module)] == []


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


# ---- the checks themselves can fail ---------------------------------------------------------------


def test_the_direction_check_catches_a_stage_importing_a_later_one() -> None:
    graph = {"exporter.git.cache": [("exporter.metrics", 12)], "exporter.metrics": [("exporter.model", 3)]}
    assert backward(graph, stage_of) == ["exporter.git.cache:12 (git) imports exporter.metrics (outputs)"]


def test_the_direction_check_accepts_imports_of_the_same_or_earlier_stages() -> None:
    graph = {"exporter.agent": [("exporter.pipeline.routing", 1), ("exporter.wiring", 2)]}
    assert backward(graph, stage_of) == []


def test_the_cycle_check_finds_a_circle_and_only_the_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_the_cycle_check_accepts_a_graph_without_one() -> None:
    assert _cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_every_stage_check_knows_every_module() -> None:
    # A module outside every stage would escape the direction check altogether.
    assert all(isinstance(stage_of(m), int) for m in MODULES)
