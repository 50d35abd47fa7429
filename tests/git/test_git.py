"""GitCache against real repositories over file://, git:// (git daemon) and HTTP."""

from __future__ import annotations

import asyncio
import base64
import os
import shlex
import shutil
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from git_http import serve_dumb_http
from gitrepos import Repo, free_port

from exporter.config_types import RepoCredentials
from exporter.git import GitCache, GitError, auth_for
from exporter.metrics import REGISTRY
from exporter.urls import safe_url


def fetches(repo: str, result: str) -> float:
    return REGISTRY.get_sample_value("gitops_git_fetch_total", {"repo": repo, "result": result}) or 0.0


@pytest.fixture
def repo(make_repo) -> Repo:
    r = make_repo("deploy")
    r.commit({"apps/web/deploy.yaml": "kind: Deployment\n"}, "first")
    r.git("tag", "v1.0.0")
    r.git("tag", "-a", "v1.0.1", "-m", "annotated")
    return r


async def test_branch_tag_and_shas_resolve_to_the_full_commit(cache: GitCache, repo: Repo) -> None:
    sha = repo.git("rev-parse", "HEAD")
    assert await cache.resolve(repo.url, "main") == sha
    assert await cache.resolve(repo.url, "HEAD") == sha
    assert await cache.resolve(repo.url, "v1.0.0") == sha
    assert await cache.resolve(repo.url, "v1.0.1") == sha  # annotated tag peeled to its commit
    assert await cache.resolve(repo.url, sha) == sha
    assert await cache.resolve(repo.url, sha[:8]) == sha


async def test_a_new_commit_is_seen_after_fetch(cache: GitCache, repo: Repo) -> None:
    first = await cache.resolve(repo.url, "main")
    second = repo.commit({"apps/web/deploy.yaml": "kind: StatefulSet\n"}, "second")

    assert await cache.resolve(repo.url, "main") == first  # the mirror answers until it is refreshed
    assert await cache.changed(repo.url) is True
    assert await cache.resolve(repo.url, "main") == second
    assert await cache.changed(repo.url) is False


async def test_a_semver_range_selects_the_newest_matching_tag(cache: GitCache, repo: Repo) -> None:
    first = repo.git("rev-parse", "HEAD")
    newer = repo.commit({"b.yaml": "kind: ConfigMap\n"}, "1.2")
    repo.git("tag", "-a", "v1.2.0", "-m", "annotated")
    repo.commit({"c.yaml": "kind: ConfigMap\n"}, "2.0")
    repo.git("tag", "2.0.0")
    assert await cache.resolve(repo.url, ">=1.0.0 <2.0.0") == newer  # annotated tag peeled to its commit
    assert await cache.resolve(repo.url, "~1.0") == first
    assert await cache.resolve(repo.url, "1.x") == newer


async def test_a_semver_range_no_tag_matches_names_the_tags_there_are(cache: GitCache, repo: Repo) -> None:
    with pytest.raises(GitError) as info:
        await cache.resolve(repo.url, ">=3.0.0")
    assert str(info.value) == f"no version matches '>=3.0.0' in the tags of {repo.url}; it has v1.0.1, v1.0.0"


async def test_a_branch_whose_name_looks_like_a_range_is_the_branch(cache: GitCache, repo: Repo) -> None:
    repo.git("branch", "1.x")
    branch = repo.commit({"d.yaml": "kind: ConfigMap\n"}, "on main")
    repo.git("branch", "-f", "1.x", branch)
    assert await cache.resolve(repo.url, "1.x") == branch


async def test_a_missing_revision_is_a_clear_error(cache: GitCache, repo: Repo) -> None:
    with pytest.raises(GitError) as info:
        await cache.resolve(repo.url, "release-9")
    assert str(info.value) == f"revision 'release-9' not found in {repo.url}"


async def test_a_revision_pushed_after_the_first_fetch_is_found_without_an_explicit_fetch(
        cache: GitCache, repo: Repo) -> None:
    await cache.resolve(repo.url, "main")
    repo.git("branch", "hotfix")
    assert await cache.resolve(repo.url, "hotfix") == repo.git("rev-parse", "hotfix")


async def test_plain_local_path_works_like_file_url(cache: GitCache, repo: Repo) -> None:
    assert await cache.resolve(str(repo.path), "main") == repo.git("rev-parse", "HEAD")


async def test_fetch_over_git_daemon(cache: GitCache, make_repo, git_daemon) -> None:
    base, root = git_daemon
    served = Repo(base / "shop.git")
    sha = served.commit({"k/a.yaml": "a: 1\n"})
    url = f"{root}/shop.git"

    assert await cache.resolve(url, "main") == sha
    tree = await cache.checkout(url, sha)
    assert (tree / "k/a.yaml").read_text() == "a: 1\n"
    assert fetches(url, "success") == 1


async def test_two_apps_on_one_repo_share_one_mirror_and_one_fetch(cache: GitCache, repo: Repo,
                                                                   tmp_path: Path) -> None:
    before = fetches(repo.url, "success")
    web, api = await asyncio.gather(cache.resolve(repo.url, "main"), cache.resolve(repo.url, "v1.0.0"))
    assert web == api
    assert fetches(repo.url, "success") - before == 1
    assert [p.name for p in (tmp_path / "cache/mirrors").iterdir()] == [cache.mirror_path(repo.url).name]


async def test_checkouts_at_two_shas_sit_side_by_side(cache: GitCache, repo: Repo) -> None:
    old = repo.git("rev-parse", "HEAD")
    new = repo.commit({"apps/web/deploy.yaml": "kind: StatefulSet\n", "apps/api/x.yaml": "x: 1\n"})
    await cache.fetch(repo.url)

    old_tree, new_tree = await asyncio.gather(cache.checkout(repo.url, old), cache.checkout(repo.url, new))

    assert old_tree != new_tree
    assert (old_tree / "apps/web/deploy.yaml").read_text() == "kind: Deployment\n"
    assert not (old_tree / "apps/api").exists()
    assert (new_tree / "apps/web/deploy.yaml").read_text() == "kind: StatefulSet\n"
    assert await cache.checkout(repo.url, old) == old_tree


async def test_checkouts_are_read_only(cache: GitCache, repo: Repo) -> None:
    tree = await cache.checkout(repo.url, await cache.resolve(repo.url, "main"))
    for path in (tree, tree / "apps", tree / "apps/web/deploy.yaml"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o222 == 0, path


async def test_old_checkouts_are_pruned_least_recently_used_first(tmp_path: Path, repo: Repo) -> None:
    cache = GitCache(str(tmp_path / "cache"), max_checkouts=2)
    shas = [repo.git("rev-parse", "HEAD")]
    shas += [repo.commit({"n.txt": str(i)}) for i in range(2)]
    await cache.fetch(repo.url)

    first = await cache.checkout(repo.url, shas[0])
    second = await cache.checkout(repo.url, shas[1])
    await cache.checkout(repo.url, shas[0])  # used again: now the second is the oldest
    await cache.checkout(repo.url, shas[2])

    assert first.exists() and not second.exists()


async def test_list_directories_lists_every_directory_of_the_commit(cache: GitCache, repo: Repo) -> None:
    sha = repo.commit({"apps/api/a.yaml": "", "apps/api/base/b.yaml": "", "docs/readme.md": ""})
    await cache.fetch(repo.url)
    assert await cache.list_directories(repo.url, sha) == [
        "apps", "apps/api", "apps/api/base", "apps/web", "docs"]


async def test_a_repository_that_is_down_fails_fast_with_the_url(cache: GitCache) -> None:
    url = f"git://127.0.0.1:{free_port()}/gone.git"
    started = time.monotonic()
    with pytest.raises(GitError) as info:
        await cache.resolve(url, "main")
    assert str(info.value).startswith(f"git fetch of {url} failed: ")
    assert "\n" not in str(info.value)
    assert time.monotonic() - started < 10
    assert fetches(url, "error") == 1


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers: a server that hangs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


async def test_a_hanging_server_times_out(tmp_path: Path, silent_server: int) -> None:
    cache = GitCache(str(tmp_path / "cache"), timeout=1.5)
    url = f"http://127.0.0.1:{silent_server}/slow.git"
    started = time.monotonic()
    with pytest.raises(GitError, match=r"^git fetch of .*/slow\.git timed out after 1\.5s$"):
        await cache.resolve(url, "main")
    assert time.monotonic() - started < 6
    assert fetches(url, "timeout") == 1


class _Refuse(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:
        _Refuse.seen.append(self.headers.get("Authorization", ""))
        body = b"forbidden"
        self.send_response(403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_server() -> Iterator[int]:
    _Refuse.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


async def test_token_from_a_file_is_sent_but_never_shown(tmp_path: Path, refusing_server: int) -> None:
    token = "s3cr3t-token-0123456789"
    (tmp_path / "token").write_text(token + "\n")
    prefix = f"http://127.0.0.1:{refusing_server}/"
    cache = GitCache(str(tmp_path / "cache"), [RepoCredentials(url=prefix, token_file=str(tmp_path / "token"))],
                     timeout=20)

    with pytest.raises(GitError) as info:
        await cache.resolve(prefix + "team/deploy.git", "main")

    sent = [base64.b64decode(h.split()[1]).decode() for h in _Refuse.seen if h.startswith("Basic ")]
    assert sent and all(s.endswith(":" + token) for s in sent)
    message = str(info.value)
    assert message.startswith(f"git fetch of {prefix}team/deploy.git failed: ")
    assert token not in message and base64.b64encode(f"x-access-token:{token}".encode()).decode() not in message


async def test_credentials_in_the_url_stay_out_of_messages_and_metrics(tmp_path: Path,
                                                                      refusing_server: int) -> None:
    cache = GitCache(str(tmp_path / "cache"), timeout=20)
    url = f"http://robot:hunter2pass@127.0.0.1:{refusing_server}/deploy.git"

    with pytest.raises(GitError) as info:
        await cache.resolve(url, "main")

    assert "hunter2pass" not in str(info.value)
    assert safe_url(url) == f"http://127.0.0.1:{refusing_server}/deploy.git"
    assert fetches(safe_url(url), "error") == 1
    assert "hunter2pass" not in "".join(str(s) for m in REGISTRY.collect() for s in m.samples)


DUMB_HTTP_TOKEN = "tok-from-env-42"


@pytest.fixture
def dumb_http_repo(tmp_path: Path, make_repo) -> Iterator[tuple[str, str]]:
    """A repository served over dumb HTTP that wants Basic auth as ``deployer``; yields (prefix, sha)."""
    source = make_repo("web")
    sha = source.commit({"m/cm.yaml": "kind: ConfigMap\n"})
    served = tmp_path / "www"
    served.mkdir()
    subprocess.run(["git", "clone", "--quiet", "--bare", str(source.path), str(served / "web.git")], check=True)
    expected = "Basic " + base64.b64encode(f"deployer:{DUMB_HTTP_TOKEN}".encode()).decode()
    server, host = serve_dumb_http(served / "web.git", expected)
    try:
        yield f"http://{host}/", sha
    finally:
        server.shutdown()
        server.server_close()


async def test_fetch_over_dumb_http_with_a_token_from_an_environment_variable(
        tmp_path: Path, dumb_http_repo: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    prefix, sha = dumb_http_repo
    monkeypatch.setenv("TEST_GIT_TOKEN", DUMB_HTTP_TOKEN)
    with_token = GitCache(str(tmp_path / "a"), [RepoCredentials(url=prefix, username="deployer",
                                                                token_env="TEST_GIT_TOKEN")])
    assert await with_token.resolve(prefix + "web.git", "main") == sha
    tree = await with_token.checkout(prefix + "web.git", sha)
    assert (tree / "m/cm.yaml").read_text() == "kind: ConfigMap\n"


async def test_without_credentials_a_protected_repository_fails_without_prompting(
        tmp_path: Path, dumb_http_repo: tuple[str, str]) -> None:
    prefix, _ = dumb_http_repo
    without = GitCache(str(tmp_path / "b"), timeout=20)
    with pytest.raises(GitError, match="^git fetch of .*/web.git failed: "):
        await without.resolve(prefix + "web.git", "main")


def test_ssh_key_and_known_hosts_reach_ssh_through_the_environment(tmp_path: Path) -> None:
    creds = [RepoCredentials(url="git@git.example.com:", ssh_key_file="/keys/id ed25519",
                             known_hosts_file="/keys/known_hosts"),
             RepoCredentials(url="git@git.example.com:platform/", ssh_key_file="/keys/platform")]

    ssh = shlex.split(auth_for("git@git.example.com:platform/deploy.git", creds).env["GIT_SSH_COMMAND"])
    assert ssh[ssh.index("-i") + 1] == "/keys/platform"  # the longest matching prefix wins

    ssh = shlex.split(auth_for("git@git.example.com:shop/web.git", creds).env["GIT_SSH_COMMAND"])
    assert ssh[ssh.index("-i") + 1] == "/keys/id ed25519"
    assert "UserKnownHostsFile=/keys/known_hosts" in ssh and "StrictHostKeyChecking=yes" in ssh
    assert "BatchMode=yes" in ssh


def test_a_missing_token_file_is_a_clear_error(tmp_path: Path) -> None:
    creds = [RepoCredentials(url="https://git.example.com/", token_file=str(tmp_path / "absent"))]
    with pytest.raises(GitError, match=r"^cannot read Git token file .*absent: No such file"):
        auth_for("https://git.example.com/x.git", creds)


async def test_a_commit_s_subject_and_author_are_read_once_for_every_app_that_asks(
        cache: GitCache, repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sha = repo.commit({"apps/web/cm.yaml": "kind: ConfigMap\n"}, "Raise the timeout to 90s\n\nBecause the bank is slow.")
    assert await cache.resolve(repo.url, "main") == sha
    # A git on PATH that logs each command it runs before running the real one.
    shim, log = tmp_path / "bin", tmp_path / "git.log"
    shim.mkdir()
    real = shutil.which("git")
    assert real is not None
    (shim / "git").write_text(f'#!/bin/sh\necho "$*" >> {shlex.quote(str(log))}\nexec {shlex.quote(real)} "$@"\n')
    (shim / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim}:{os.environ['PATH']}")
    commits = await asyncio.gather(*(cache.commit(repo.url, sha) for _ in range(50)))
    assert {(c.sha, c.subject, c.author) for c in commits} == {(sha, "Raise the timeout to 90s", "Test")}
    assert commits[0].committed_at > 1_600_000_000
    assert sum(" show " in f" {line} " for line in log.read_text().splitlines()) == 1


async def test_an_unknown_commit_is_a_git_error_and_is_asked_again_later(cache: GitCache, repo: Repo) -> None:
    await cache.resolve(repo.url, "main")
    with pytest.raises(GitError):
        await cache.commit(repo.url, "0" * 40)
    with pytest.raises(GitError):
        await cache.commit(repo.url, "0" * 40)
