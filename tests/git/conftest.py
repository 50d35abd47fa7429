"""Fixtures for tests that need real Git repositories."""

from pathlib import Path

import pytest
from gitrepos import git_daemon, make_repo

from exporter.git import GitCache

__all__ = ["cache", "git_daemon", "make_repo"]


@pytest.fixture
def cache(tmp_path: Path) -> GitCache:
    """An empty cache directory of mirrors and trees."""
    return GitCache(str(tmp_path / "cache"), timeout=20)
