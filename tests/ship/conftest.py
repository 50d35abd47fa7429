"""Shared fixtures for the shipping artefacts: rules, dashboards, chart, image."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _tool(name: str, package: str) -> str:
    """Path of a required command-line tool; skip (or fail under CI) when it is not installed."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian package {package!r})"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must have it")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return _tool("promtool", "prometheus")


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def agent_sample_names() -> set[str]:
    """Sample names the agent exposes: the process-wide registry plus the per-app families."""
    from exporter.metrics import APP_METRIC_FAMILIES, REGISTRY

    from .promql import exposed_sample_names

    families = [(family.name, family.type) for family in REGISTRY.collect()]
    return exposed_sample_names(families) | exposed_sample_names(APP_METRIC_FAMILIES)
