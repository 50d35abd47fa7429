"""A tree of one app's directory after a push (GitCache.checkout_directory), on real repositories:
what it holds, and every case in which only the whole tree is right."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from gitrepos import Repo

from exporter.checkouts import DIRECTORY_TREES_PER_COMMIT
from exporter.git import GitCache


@pytest.fixture
def repo(make_repo) -> Repo:
    r = make_repo("fleet")
    r.commit({f"apps/app-{i}/manifests.yaml": f"kind: ConfigMap\nmetadata: {{name: c{i}}}\n" for i in range(12)})
    return r


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()}


async def pushed(cache: GitCache, repo: Repo, files: dict[str, str]) -> str:
    sha = repo.commit(files)
    await cache.fetch(repo.url)
    return sha


async def test_after_a_push_an_app_gets_its_directory_alone_at_the_new_commit(cache: GitCache, repo: Repo) -> None:
    await cache.fetch(repo.url)
    await cache.checkout(repo.url, await cache.resolve(repo.url, "main"))
    sha = await pushed(cache, repo, {"apps/app-3/extra.yaml": "kind: Secret\n"})

    tree = await cache.checkout_directory(repo.url, sha, "apps/app-3/")

    assert files_under(tree) == {"apps/app-3/manifests.yaml", "apps/app-3/extra.yaml"}
    assert (tree / "apps/app-3/extra.yaml").read_text() == "kind: Secret\n"
    for path in (tree, tree / "apps", tree / "apps/app-3", tree / "apps/app-3/extra.yaml"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o222 == 0, path
    assert await cache.checkout_directory(repo.url, sha, "apps/app-3") == tree


async def test_the_whole_tree_is_used_once_it_is_on_disk(cache: GitCache, repo: Repo) -> None:
    await cache.fetch(repo.url)
    sha = await cache.resolve(repo.url, "main")
    whole = await cache.checkout(repo.url, sha)

    assert await cache.checkout_directory(repo.url, sha, "apps/app-1") == whole


async def test_the_repository_root_or_a_path_climbing_out_gets_the_whole_tree(cache: GitCache, repo: Repo) -> None:
    await cache.fetch(repo.url)
    sha = await cache.resolve(repo.url, "main")

    for path in ("", "/", ".", "apps/../apps/app-1"):
        tree = await cache.checkout_directory(repo.url, sha, path)
        assert len(files_under(tree)) == 12, path


async def test_a_directory_holding_a_symbolic_link_gets_the_whole_tree_the_link_points_into(
        cache: GitCache, repo: Repo) -> None:
    os.symlink("../app-0/manifests.yaml", repo.path / "apps/app-5/shared.yaml")
    sha = await pushed(cache, repo, {})

    tree = await cache.checkout_directory(repo.url, sha, "apps/app-5")

    assert (tree / "apps/app-5/shared.yaml").read_text() == "kind: ConfigMap\nmetadata: {name: c0}\n"
    assert len(files_under(tree)) == 13


async def test_a_path_below_a_symbolic_link_gets_the_whole_tree(cache: GitCache, repo: Repo) -> None:
    os.symlink("apps/app-2", repo.path / "current")
    sha = await pushed(cache, repo, {})

    tree = await cache.checkout_directory(repo.url, sha, "current")

    assert (tree / "current").is_symlink()
    assert (tree / "current/manifests.yaml").read_text() == "kind: ConfigMap\nmetadata: {name: c2}\n"


async def test_a_path_the_commit_lacks_gets_the_whole_tree_which_lacks_it_too(cache: GitCache, repo: Repo) -> None:
    await cache.fetch(repo.url)
    sha = await cache.resolve(repo.url, "main")

    tree = await cache.checkout_directory(repo.url, sha, "apps/gone")

    assert not (tree / "apps/gone").exists() and len(files_under(tree)) == 12


async def test_a_directory_named_like_a_glob_is_that_directory_only(cache: GitCache, repo: Repo) -> None:
    sha = await pushed(cache, repo, {"apps/app-*/x.yaml": "kind: Glob\n"})

    tree = await cache.checkout_directory(repo.url, sha, "apps/app-*")

    assert files_under(tree) == {"apps/app-*/x.yaml"}


async def test_a_push_touching_many_apps_is_served_by_one_whole_tree_past_a_few(cache: GitCache, repo: Repo) -> None:
    sha = await pushed(cache, repo, {f"apps/app-{i}/extra.yaml": "kind: Secret\n" for i in range(12)})

    trees = [await cache.checkout_directory(repo.url, sha, f"apps/app-{i}") for i in range(12)]

    assert all(len(files_under(t)) == 2 for t in trees[:DIRECTORY_TREES_PER_COMMIT])
    whole = trees[DIRECTORY_TREES_PER_COMMIT]
    assert len(files_under(whole)) == 24 and set(trees[DIRECTORY_TREES_PER_COMMIT:]) == {whole}
