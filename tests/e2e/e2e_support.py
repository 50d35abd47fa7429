"""Helpers for the end-to-end tests: a real Git repository and live objects as a cluster holds them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}


class GitRepo:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")

    @property
    def url(self) -> str:
        return f"file://{self.path}"

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.path, env=GIT_ENV, check=True,
                              capture_output=True, text=True).stdout.strip()

    def commit(self, files: dict[str, str | None], message: str = "change") -> str:
        for name, text in files.items():
            target = self.path / name
            if text is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(text).lstrip())
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


def live(text: str, *, namespace: str = "prod", status: dict[str, Any] | None = None,
         app: str | None = None) -> dict[str, Any]:
    """A live object as a controller would leave it: Git's manifest plus namespace, status, mark."""
    obj = yaml.safe_load(textwrap.dedent(text))
    obj["metadata"].setdefault("namespace", namespace)
    if app:
        obj["metadata"].setdefault("labels", {})["app.kubernetes.io/instance"] = app
    if status is not None:
        obj["status"] = status
    return obj


CM = """
    apiVersion: v1
    kind: ConfigMap
    metadata: {{name: {name}}}
    data: {{a: "1"}}
"""


def cm(name: str) -> str:
    """A small ConfigMap manifest named ``name``."""
    return CM.format(name=name)


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``check()`` holds; fail after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def process_command_lines() -> list[str]:
    """Every process's command line, as ``ps`` would show it."""
    lines = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                lines.append(fh.read().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return lines
