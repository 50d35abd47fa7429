from __future__ import annotations

from pathlib import Path

import pytest
from diff_fixtures import require_fixtures

from exporter.config_types import CompareOptions


@pytest.fixture
def options() -> CompareOptions:
    return CompareOptions()


@pytest.fixture
def captures() -> Path:
    return require_fixtures()
