"""The per-commit trees of :class:`exporter.git.GitCache` on disk: sealing them read-only, removing
them, keeping their number bounded, and deciding when one directory is enough.

A whole tree of a repository holding thousands of apps is tens of thousands of files: writing one
costs about as much as git's clone of it. After a push that touched one app's directory, only that
directory has to be read, so the app gets a tree of its own holding that directory alone. That is
safe only where the directory cannot reach outside itself: a tree with a symbolic link in it is
never cut down, since the link may point anywhere in the repository.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

#: Trees of one directory made for one commit before the whole tree is checked out instead: a
#: push that touches many apps is served by one checkout, not one git process per app.
DIRECTORY_TREES_PER_COMMIT = 8


def single_directory(path: str) -> str | None:
    """The repository-relative directory a tree of one directory would hold, or None where only
    the whole tree will do (the repository root, or a path that climbs out with ``..``)."""
    rel = PurePosixPath(path.strip("/") or ".")
    if rel == PurePosixPath(".") or ".." in rel.parts or rel.is_absolute():
        return None
    return rel.as_posix()


def holds_symlink(root: Path) -> bool:
    """Whether any entry under ``root`` is a symbolic link (not followed)."""
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            if os.path.islink(os.path.join(dirpath, name)):
                return True
    return False


def make_read_only(root: Path) -> None:
    """Take write permission away, so a renderer cannot change a tree other apps share."""
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            p = os.path.join(dirpath, name)
            if not os.path.islink(p):
                mode = os.stat(p).st_mode
                os.chmod(p, mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        for name in dirnames:
            p = os.path.join(dirpath, name)
            if not os.path.islink(p):
                os.chmod(p, 0o555)
    # ``root`` itself stays writable until it is renamed into place; then it is sealed too.


def remove_tree(root: Path) -> None:
    if not root.exists():
        return
    for dirpath, dirnames, _ in os.walk(root):
        for name in dirnames:
            p = os.path.join(dirpath, name)
            if not os.path.islink(p):
                os.chmod(p, 0o755)
    os.chmod(root, 0o755)
    shutil.rmtree(root, ignore_errors=True)


def least_recently_used(root: Path, used: Mapping[Path, float], keep: int, clock_offset: float) -> list[Path]:
    """The trees under ``root`` beyond the ``keep`` most recently used (oldest first). ``used``
    holds monotonic times; a tree not yet used in this process counts from its modification time,
    less ``clock_offset`` (wall clock minus monotonic clock). Trees being made (``.tree-*``) are
    never among them."""
    trees = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    excess = len(trees) - keep
    if excess <= 0:
        return []
    trees.sort(key=lambda p: used.get(p, p.stat().st_mtime - clock_offset))
    return trees[:excess]
