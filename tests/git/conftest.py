"""Fixtures for tests that need real Git repositories."""

from gitrepos import git_daemon, make_repo

__all__ = ["git_daemon", "make_repo"]
