"""The install guide and runbooks tell people to run commands and call URLs: those must exist.

Commands are parsed by the agent's own argument parser; URLs are matched against the routes of the
agent's own web application. Placeholders like ``<app>`` stand for any value.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from .conftest import REPO

DOCS = sorted((REPO / "docs" / "runbooks").glob("*.md")) + [REPO / "docs" / "install.md"]


def _shell_blocks(text: str) -> list[str]:
    """Commands in ```sh blocks, with backslash continuations joined."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for command in block.replace("\\\n", " ").splitlines():
            command = command.split(" #", 1)[0].strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def _agent_invocations(path: Path) -> list[list[str]]:
    """Argument lists given to gitops-drift-exporter, from shell blocks and inline code."""
    text = re.sub(r"<[\w-]+>", "shop", path.read_text())
    commands = _shell_blocks(text) + re.findall(r"`(gitops-drift-exporter [^`]+)`", text)
    invocations = []
    for command in commands:
        words = shlex.split(command)
        for index, word in enumerate(words):
            # The program itself: first word, or after `--` in `kubectl exec POD -- ...`.
            is_program = word == "gitops-drift-exporter" and (index == 0 or words[index - 1] == "--")
            if is_program and index + 1 < len(words):
                invocations.append(words[index + 1:])
                break
    return invocations


def _api_paths(path: Path) -> list[str]:
    text = re.sub(r"<[\w-]+>", "shop", path.read_text())
    return [p.split("?")[0] for p in re.findall(r"localhost:8080(/[^\s'\"`)]*)", text)]


INVOCATIONS = [(p.name, argv) for p in DOCS for argv in _agent_invocations(p)]
PATHS = [(p.name, url) for p in DOCS for url in _api_paths(p)]


def test_docs_do_show_commands_and_api_calls() -> None:
    assert len(INVOCATIONS) >= 4
    assert len(PATHS) >= 10


@pytest.mark.parametrize(("doc", "argv"), INVOCATIONS, ids=[f"{d}:{' '.join(a[:2])}" for d, a in INVOCATIONS])
def test_documented_commands_are_accepted_by_the_cli(doc: str, argv: list[str]) -> None:
    from exporter.cli import build_parser

    try:
        build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"{doc}: gitops-drift-exporter rejects {' '.join(argv)!r}")


@pytest.fixture(scope="module")
def route_patterns() -> list[re.Pattern[str]]:
    from exporter.server.app import build_app

    app = build_app(object(), metrics_registry=CollectorRegistry())  # type: ignore[arg-type]
    patterns = []
    for resource in app.router.resources():
        info = resource.get_info()
        if "path" in info:
            patterns.append(re.compile(re.escape(info["path"])))
        elif "formatter" in info:
            patterns.append(re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(info["formatter"]))))
        elif "prefix" in info:
            patterns.append(re.compile(re.escape(info["prefix"]) + ".*"))
    return patterns


@pytest.mark.parametrize(("doc", "url"), PATHS, ids=[f"{d}:{u}" for d, u in PATHS])
def test_documented_urls_are_routes_of_the_agent(doc: str, url: str, route_patterns: list[re.Pattern[str]]) -> None:
    assert any(p.fullmatch(url) for p in route_patterns), f"{doc}: the agent serves no {url}"
