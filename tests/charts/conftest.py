"""Fixtures: a Helm repository and an OCI registry on loopback, and a chart cache over them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from chart_servers import HelmRepo, OciRegistry


@pytest.fixture
def helm_repo(tmp_path: Path) -> Iterator[HelmRepo]:
    repo = HelmRepo(tmp_path / "helm-repo")
    yield repo
    repo.close()


@pytest.fixture
def oci_registry(tmp_path: Path) -> Iterator[OciRegistry]:
    registry = OciRegistry(tmp_path / "registry")
    yield registry
    registry.close()
