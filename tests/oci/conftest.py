"""Fixtures: Debian's docker-registry on loopback, open or behind Basic authentication."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from chart_servers import OciRegistry

USER, PASSWORD = "puller", "registry-pass-8812"


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[OciRegistry]:
    server = OciRegistry(tmp_path / "registry")
    yield server
    server.close()


@pytest.fixture
def locked_registry(tmp_path: Path) -> Iterator[OciRegistry]:
    server = OciRegistry(tmp_path / "locked-registry", users={USER: PASSWORD})
    yield server
    server.close()
