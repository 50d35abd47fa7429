"""The demo as a newcomer starts it (a real process on a free port), and a real Prometheus scraping
it: what the demo's end-to-end tests share."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import yaml


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


@contextmanager
def running_demo(*extra: str, apps: int = 7) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``gitops-drift-exporter demo`` with ``extra`` options, once its API lists ``apps`` apps:
    its base URL and process; stopped with SIGTERM afterwards."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "exporter.cli", "demo", "--listen", f"127.0.0.1:{port}", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if len(json.loads(get(f"{base}/api/v1/apps"))) >= apps:
                    break
            except OSError:
                pass
            if proc.poll() is not None:
                raise AssertionError(f"demo exited early: {proc.stderr.read() if proc.stderr else ''}")
            time.sleep(0.1)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def prometheus_scraping(target: str, work: Path) -> Iterator[str]:
    """A real Prometheus (Debian's package) scraping ``target`` every second: its API base URL.
    Skips without the binary, and fails in CI, which must have it."""
    binary = shutil.which("prometheus")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("prometheus is not installed (Debian package 'prometheus'); CI must have it")
        pytest.skip("prometheus is not installed (Debian package 'prometheus')")
    (work / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [{"job_name": "agent", "static_configs": [{"targets": [urlsplit(target).netloc]}]}]}))
    port = free_port()
    server = subprocess.Popen([binary, f"--config.file={work / 'prometheus.yml'}",
                               f"--storage.tsdb.path={work / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        yield f"http://127.0.0.1:{port}/api/v1"
    finally:
        server.terminate()
        server.wait(20)


def query(api: str, expression: str) -> list[dict[str, Any]]:
    """The instant vector ``expression`` gives now (empty while Prometheus is not up yet)."""
    try:
        return list(json.loads(get(f"{api}/query?query={quote(expression)}"))["data"]["result"])
    except OSError:
        return []


def settle(api: str, expression: str, done: Callable[[list[dict[str, Any]]], bool],
           timeout: float = 30.0) -> list[dict[str, Any]]:
    """``expression``'s result once ``done`` accepts it, or the last one after ``timeout``."""
    deadline = time.monotonic() + timeout
    result = query(api, expression)
    while not done(result) and time.monotonic() < deadline:
        time.sleep(0.2)
        result = query(api, expression)
    return result
