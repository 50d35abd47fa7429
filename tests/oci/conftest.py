"""Fixtures: Debian's docker-registry on loopback, open or behind Basic authentication."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from chart_servers import OciRegistry
from registry_tokens import TokenService

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


@pytest.fixture
def token_registry(tmp_path: Path) -> Iterator[tuple[OciRegistry, TokenService]]:
    tokens = TokenService(tmp_path / "tokens", USER, PASSWORD)
    server = OciRegistry(tmp_path / "token-registry", auth=tokens.registry_auth())
    yield server, tokens
    server.close()
    tokens.close()
