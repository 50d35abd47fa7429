"""Read-only access to Git repositories through the ``git`` command line.

The ``git`` CLI is used rather than a library because it is what users already trust with their
credentials, proxies, SSH agents and odd servers, and it speaks every transport. Every call is an
asyncio subprocess with a timeout, so a hung server never stalls the event loop.

One bare mirror per repository URL is kept under the cache directory and shared by every app that
uses the repository; fetches of one repository are coalesced, so fifty apps on one repo cost one
fetch. Trees are materialised per commit SHA into read-only directories, which makes a checkout
immutable: one app's new revision never changes the files another app is rendering. A push gives an
app reading one directory that directory alone (:mod:`exporter.checkouts`).

Secrets never reach the command line (where ``ps`` shows them) or a message: tokens travel in
``GIT_CONFIG_*`` environment variables and every message is scrubbed of credentials.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import re
import shlex
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from exporter.checkouts import (
    DIRECTORY_TREES_PER_COMMIT,
    holds_symlink,
    least_recently_used,
    make_read_only,
    remove_tree,
    single_directory,
)
from exporter.clock import SystemClock, monotonic
from exporter.config_types import RepoCredentials
from exporter.instruments import GIT_FETCH_DURATION, GIT_FETCH_TOTAL
from exporter.model import Commit
from exporter.process import run
from exporter.semver import VersionNotFound, pick_version
from exporter.urls import safe_url, strip_userinfo, url_credentials

log = logging.getLogger(__name__)

_HEX = re.compile(r"^[0-9a-fA-F]{4,64}$")
#: A revision that may be a semver range rather than a branch or tag: it holds an operator, a
#: wildcard or a space next to a digit.
_RANGE = re.compile(r"(?=.*\d)(?=.*[\s*xX^~<>=|,])")
_AUTH_HEADER = re.compile(r"(?i)(authorization:\s*)(basic|bearer|token)?\s*\S+")


class GitError(Exception):
    """A Git operation failed. The message is one line, safe to show (no credentials)."""


def scrub(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` with credentials in URLs, auth headers and the given secret values removed."""
    text = strip_userinfo(text)
    text = _AUTH_HEADER.sub(r"\1<redacted>", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text


@dataclass
class GitAuth:
    """What one git invocation needs to authenticate: extra environment, and values to scrub."""

    env: dict[str, str]
    secrets: list[str]
    #: ``git -c`` settings, passed as ``GIT_CONFIG_KEY_n``/``GIT_CONFIG_VALUE_n``.
    config: list[tuple[str, str]] = field(default_factory=list)


def _read_secret(path: str | None, env: str | None, what: str) -> str | None:
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise GitError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None
    if env:
        value = os.environ.get(env)
        if value is None:
            raise GitError(f"environment variable {env} for the {what} is not set")
        return value.strip()
    return None


def _basic_header(scope: str, user: str, password: str, auth: GitAuth) -> None:
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    # Scoped to one URL prefix, so a redirect to another host never receives it.
    auth.config.append((f"http.{scope}.extraHeader", f"Authorization: Basic {basic}"))
    auth.secrets += [s for s in (user, password, basic) if len(s) >= 4]


def matching_credentials(url: str, credentials: Sequence[RepoCredentials]) -> RepoCredentials | None:
    """The ``repositories[]`` entry for ``url``: the longest matching prefix."""
    matching = [c for c in credentials if url.startswith(c.url) or safe_url(url).startswith(c.url)]
    return max(matching, key=lambda c: len(c.url)) if matching else None


def basic_credentials(url: str, credentials: Sequence[RepoCredentials], what: str) -> tuple[str, str] | None:
    """(user, secret) for ``url``, from the URL itself or its ``repositories[]`` entry (a file or an
    environment variable, never the configuration). Raises ``GitError`` when the secret is unreadable."""
    in_url = url_credentials(url)
    if in_url is not None:
        return in_url
    creds = matching_credentials(url, credentials)
    if creds is None:
        return None
    token = creds.token or _read_secret(creds.token_file, creds.token_env, what)
    return (creds.username or "x-access-token", token) if token else None


def auth_for(url: str, credentials: Sequence[RepoCredentials]) -> GitAuth:
    """Environment for ``url``: credentials written into the URL itself, else the longest
    matching credentials prefix. Either way they travel in ``GIT_CONFIG_*`` variables, never on
    git's command line, where ``ps`` would show them."""
    auth = GitAuth(env={}, secrets=[])
    in_url = url_credentials(url)
    creds = matching_credentials(url, credentials)
    if in_url is not None:
        _basic_header(safe_url(url), *in_url, auth)
    elif creds is not None:
        token = creds.token or _read_secret(creds.token_file, creds.token_env, "Git token")
        if token:
            scope = creds.url if "://" in creds.url else url
            _basic_header(scope, creds.username or "x-access-token", token, auth)
    if creds is not None and creds.ssh_key_file:
        ssh = ["ssh", "-i", creds.ssh_key_file, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"]
        if creds.known_hosts_file:
            ssh += ["-o", f"UserKnownHostsFile={creds.known_hosts_file}", "-o", "StrictHostKeyChecking=yes"]
        auth.env["GIT_SSH_COMMAND"] = shlex.join(ssh)
    auth.env["GIT_CONFIG_COUNT"] = str(len(auth.config))
    for index, (key, value) in enumerate(auth.config):
        auth.env[f"GIT_CONFIG_KEY_{index}"] = key
        auth.env[f"GIT_CONFIG_VALUE_{index}"] = value
    return auth


def _reason(stderr: str) -> str:
    """The line of git's stderr that says what went wrong, without git's ``fatal:`` prefix."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for prefix in ("fatal:", "error:"):
        for i, line in enumerate(lines):
            if line.lower().startswith(prefix):
                reason = line[len(prefix):].strip()
                if reason.endswith(":") and i + 1 < len(lines):  # the detail is on the next line
                    reason = f"{reason} {lines[i + 1]}"
                return reason
    return lines[-1] if lines else "no error output"


#: Commits whose subject and author are kept in memory (apps name a few per repository).
_COMMITS_KEPT = 4096


class GitCache:
    """Bare mirrors and per-commit trees of the repositories the agent reads.

    Has no operation that writes to a remote: it clones, fetches, and reads.
    """

    def __init__(self, cache_dir: str, credentials: Sequence[RepoCredentials] = (), timeout: float = 60,
                 max_checkouts: int = 64) -> None:
        self.cache_dir = Path(cache_dir)
        self.credentials = list(credentials)
        self.timeout = timeout
        self.max_checkouts = max_checkouts
        self._mirrors = self.cache_dir / "mirrors"
        self._trees = self.cache_dir / "trees"
        #: Trees holding one app's directory (:meth:`checkout_directory`).
        self._parts = self.cache_dir / "directories"
        try:
            for root in (self._mirrors, self._trees, self._parts):
                root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise GitError(f"cannot use the cache directory {self.cache_dir}: {exc.strerror or exc}") from None
        self._fetches: dict[str, asyncio.Task[None]] = {}
        self._fetched: set[str] = set()
        self._checkouts: dict[Path, asyncio.Task[Path]] = {}
        self._directory_trees: dict[tuple[str, str], int] = {}
        self._cut: dict[Path, asyncio.Task[Path | None]] = {}
        self._used: dict[Path, float] = {}
        self._commits: dict[tuple[str, str], asyncio.Task[Commit]] = {}

    # -- paths ---------------------------------------------------------------------------------

    def mirror_path(self, repo_url: str) -> Path:
        """The bare mirror for ``repo_url``; one per URL, whoever asks."""
        digest = hashlib.sha256(repo_url.encode()).hexdigest()[:16]
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", safe_url(repo_url).rstrip("/").rsplit("/", 1)[-1])[:40]
        return self._mirrors / f"{name}-{digest}.git"

    def _remote(self, repo_url: str) -> str:
        """What git's command line names: the URL without credentials (those go in the
        environment, see :func:`auth_for`), or a local path made absolute."""
        if "://" in repo_url:
            return safe_url(repo_url)
        if re.match(r"^[^/]+@[^/]+:", repo_url):
            return repo_url
        return str(Path(repo_url).expanduser().resolve())

    # -- running git ---------------------------------------------------------------------------

    async def _git(self, args: Sequence[str], *, repo_url: str, auth: GitAuth | None = None,
                   git_dir: Path | None = None, what: str = "git", env: dict[str, str] | None = None) -> str:
        """Run git; its stdout, or GitError with a scrubbed one-line reason."""
        auth = auth or GitAuth({}, [])
        full_env = dict(os.environ)
        for key in [k for k in full_env if k.startswith("GIT_CONFIG_")]:
            del full_env[key]
        for key in ("GIT_ASKPASS", "SSH_ASKPASS"):  # nothing may prompt, not even a GUI
            full_env.pop(key, None)
        full_env.update({"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C",
                         "GIT_SSH_COMMAND": full_env.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")})
        full_env.update(auth.env)
        full_env.update(env or {})
        cmd = ["git"]
        if git_dir is not None:
            cmd.append(f"--git-dir={git_dir}")
        cmd += list(args)
        limit = self.timeout
        try:
            code, out, err = await run(cmd, time_limit=limit, env=full_env)
        except TimeoutError:  # before OSError, of which it is a subclass
            raise _Timeout(f"{what} of {safe_url(repo_url)} timed out after {limit:g}s") from None
        except OSError as exc:
            raise GitError(f"{what} of {safe_url(repo_url)} failed: cannot run git: {exc.strerror}") from None
        if code != 0:
            reason = scrub(_reason(err), auth.secrets)
            raise GitError(f"{what} of {safe_url(repo_url)} failed: {reason}")
        return out

    # -- fetching ------------------------------------------------------------------------------

    async def fetch(self, repo_url: str) -> None:
        """Bring the mirror of ``repo_url`` up to date (cloning it the first time).

        Callers that arrive while a fetch of the same repository runs share that fetch.
        """
        task = self._fetches.get(repo_url)
        if task is None:
            task = asyncio.ensure_future(self._fetch(repo_url))
            self._fetches[repo_url] = task
            task.add_done_callback(lambda _t: self._fetches.pop(repo_url, None))
        await asyncio.shield(task)

    async def _fetch(self, repo_url: str) -> None:
        label = safe_url(repo_url)
        started = monotonic()
        result = "error"
        try:
            auth = auth_for(repo_url, self.credentials)
            mirror = self.mirror_path(repo_url)
            if not (mirror / "HEAD").exists():
                await self._clone(repo_url, mirror, auth)
            else:
                await self._git(["fetch", "--prune", "--prune-tags", "--force", "--quiet", "origin"],
                                repo_url=repo_url, auth=auth, git_dir=mirror, what="git fetch")
            self._fetched.add(repo_url)
            result = "success"
        except _Timeout as exc:
            result = "timeout"
            raise GitError(str(exc)) from None
        finally:
            GIT_FETCH_TOTAL.labels(label, result).inc()
            GIT_FETCH_DURATION.labels(label, result).observe(monotonic() - started)

    async def _clone(self, repo_url: str, mirror: Path, auth: GitAuth) -> None:
        """A bare clone next to its final place, moved in only when complete."""
        tmp = Path(tempfile.mkdtemp(prefix=".clone-", dir=self._mirrors))
        try:
            await self._git(["clone", "--bare", "--quiet", "--", self._remote(repo_url), str(tmp / "repo.git")],
                            repo_url=repo_url, auth=auth, what="git fetch")
            repo = tmp / "repo.git"
            for refspec in ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"):
                await self._git(["config", "--add", "remote.origin.fetch", refspec], repo_url=repo_url,
                                git_dir=repo, what="git config")
            # A mirror without HEAD is the remains of an interrupted clone.
            await asyncio.get_running_loop().run_in_executor(None, remove_tree, mirror)
            os.rename(repo, mirror)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    async def _refs(self, repo_url: str) -> dict[str, str]:
        out = await self._git(["for-each-ref", "--format=%(objectname) %(refname)"], repo_url=repo_url,
                              git_dir=self.mirror_path(repo_url), what="git for-each-ref")
        refs: dict[str, str] = {}
        for line in out.splitlines():
            sha, _, name = line.partition(" ")
            refs[name] = sha
        return refs

    async def changed(self, repo_url: str) -> bool:
        """Fetch, and tell whether any branch or tag moved (True on the first fetch)."""
        if not (self.mirror_path(repo_url) / "HEAD").exists():
            await self.fetch(repo_url)
            return True
        before = await self._refs(repo_url)
        await self.fetch(repo_url)
        return await self._refs(repo_url) != before

    # -- reading -------------------------------------------------------------------------------

    async def resolve(self, repo_url: str, revision: str) -> str:
        """The full commit SHA that ``revision`` (branch, tag, full or short SHA, HEAD) names; a
        semver range (``>=1.2.0 <2.0.0``, ``1.x``, ``~1.4``) that names no branch or tag selects
        the newest tag it matches, as Argo CD and Flux's ``ref.semver`` do.

        Fetches when the mirror is new to this process, or when the revision is not known yet.
        """
        is_ref = bool(revision) and not revision.startswith("-") and not any(c in revision for c in " \t\n~^:?*[\\")
        ranged = _RANGE.search(revision) is not None and "\n" not in revision
        if not is_ref and not ranged:
            raise GitError(f"revision '{revision}' not found in {safe_url(repo_url)}")
        fetched_now = repo_url not in self._fetched
        if fetched_now:
            await self.fetch(repo_url)
        sha = await self._named(repo_url, revision, is_ref, ranged)
        if sha is None and not fetched_now:
            await self.fetch(repo_url)
            sha = await self._named(repo_url, revision, is_ref, ranged)
        if sha is None:
            raise GitError(f"revision '{revision}' not found in {safe_url(repo_url)}")
        return sha

    async def _named(self, repo_url: str, revision: str, is_ref: bool, ranged: bool) -> str | None:
        sha = await self._rev_parse(repo_url, revision) if is_ref else None
        if sha is not None or not ranged:
            return sha
        tags = [name.removeprefix("refs/tags/") for name in await self._refs(repo_url) if name.startswith("refs/tags/")]
        try:
            tag = pick_version(tags, revision, f"the tags of {safe_url(repo_url)}")
        except VersionNotFound as exc:
            raise GitError(str(exc)) from None
        except ValueError:
            return None
        return await self._rev_parse(repo_url, tag)

    async def _rev_parse(self, repo_url: str, revision: str) -> str | None:
        candidates = [revision] if revision == "HEAD" else [f"refs/heads/{revision}", f"refs/tags/{revision}"]
        if _HEX.match(revision):
            candidates.append(revision)
        for candidate in candidates:
            try:
                out = await self._git(["rev-parse", "--verify", "--quiet", "--end-of-options",
                                       f"{candidate}^{{commit}}"], repo_url=repo_url,
                                      git_dir=self.mirror_path(repo_url), what="git rev-parse")
            except GitError:
                continue
            sha = out.strip()
            if sha:
                return sha
        return None

    def _tree_path(self, repo_url: str, sha: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha):
            raise GitError(f"checkout of {safe_url(repo_url)} failed: '{sha}' is not a full commit SHA")
        return self._trees / f"{sha}-{hashlib.sha256(repo_url.encode()).hexdigest()[:12]}"

    async def checkout(self, repo_url: str, sha: str) -> Path:
        """A read-only directory holding the tree of commit ``sha``; made once, then reused."""
        target = self._tree_path(repo_url, sha)
        self._used[target] = monotonic()
        if target.is_dir():
            return target
        task = self._checkouts.get(target)
        if task is None:
            task = asyncio.ensure_future(self._checkout(repo_url, sha, target))
            self._checkouts[target] = task
            task.add_done_callback(lambda _t: self._checkouts.pop(target, None))
        path = await asyncio.shield(task)
        self._used[target] = monotonic()
        await self._prune()
        return path

    async def checkout_directory(self, repo_url: str, sha: str, path: str) -> Path:
        """A read-only tree of commit ``sha`` in which ``path`` is whole, for an app that reads
        that directory alone: after a push that touched one app, that costs what git's checkout of
        the push costs (see :mod:`exporter.checkouts`). The whole tree where it is on disk already,
        for the root, past a few directories of one commit, and where the directory is not plain
        files (a symbolic link, or a path git cannot check out alone, such as one below a link)."""
        whole = self._tree_path(repo_url, sha)
        rel = single_directory(path)
        key = (repo_url, sha)
        if whole.is_dir() or whole in self._checkouts or rel is None \
                or self._directory_trees.get(key, 0) >= DIRECTORY_TREES_PER_COMMIT:
            return await self.checkout(repo_url, sha)
        target = self._parts / f"{whole.name}-{hashlib.sha256(rel.encode()).hexdigest()[:12]}"
        self._used[target] = monotonic()
        if target.is_dir():
            return target
        task = self._cut.get(target)
        if task is None:
            self._directory_trees[key] = self._directory_trees.get(key, 0) + 1
            while len(self._directory_trees) > _COMMITS_KEPT:
                self._directory_trees.pop(next(iter(self._directory_trees)))
            task = self._cut[target] = asyncio.ensure_future(self._checkout_directory(repo_url, sha, rel, target))
            task.add_done_callback(lambda _t: self._cut.pop(target, None))
        made = await asyncio.shield(task)
        if made is None:
            return await self.checkout(repo_url, sha)
        self._used[target] = monotonic()
        await self._prune()
        return made

    async def _checkout_directory(self, repo_url: str, sha: str, rel: str, target: Path) -> Path | None:
        try:
            return await self._write_tree(repo_url, sha, rel, target)
        except GitError:
            return None  # not a directory of that commit, or below a link: the whole tree says why

    async def _checkout(self, repo_url: str, sha: str, target: Path) -> Path:
        tree = await self._write_tree(repo_url, sha, ".", target)
        assert tree is not None  # the whole tree is never refused
        return tree

    async def _write_tree(self, repo_url: str, sha: str, rel: str, target: Path) -> Path | None:
        """Check out ``rel`` of commit ``sha`` (``.``: all of it) beside ``target``, seal it and
        move it in. None where a part is not one directory of plain files."""
        loop = asyncio.get_running_loop()
        tmp = Path(tempfile.mkdtemp(prefix=".tree-", dir=target.parent))
        tree = tmp / "tree"
        tree.mkdir()
        try:
            # A private index file: the mirror's own state is never touched, so checkouts of
            # several commits can run side by side. Literal pathspecs: a path is never a glob.
            await self._git([f"--work-tree={tree}", "checkout", "--quiet", "--force", sha, "--", rel],
                            repo_url=repo_url, git_dir=self.mirror_path(repo_url), what="git checkout",
                            env={"GIT_INDEX_FILE": str(tmp / "index"), "GIT_LITERAL_PATHSPECS": "1"})
            if rel != "." and (not (tree / rel).is_dir() or await loop.run_in_executor(None, holds_symlink, tree)):
                return None
            await loop.run_in_executor(None, make_read_only, tree)
            os.rename(tree, target)
            os.chmod(target, 0o555)
            return target
        finally:
            await loop.run_in_executor(None, remove_tree, tmp)

    async def _prune(self) -> None:
        """Drop the least recently used trees beyond the bound (never one being made)."""
        loop = asyncio.get_running_loop()
        offset = SystemClock().now() - monotonic()
        for root in (self._trees, self._parts):
            for path in least_recently_used(root, self._used, self.max_checkouts, offset):
                self._used.pop(path, None)
                await loop.run_in_executor(None, remove_tree, path)

    async def changed_files(self, repo_url: str, old: str, new: str) -> list[str]:
        """Paths that differ between two commits, so unaffected apps can skip re-rendering."""
        out = await self._git(["diff", "--name-only", "--no-renames", "-z", old, new], repo_url=repo_url,
                              git_dir=self.mirror_path(repo_url), what="git diff")
        return [p for p in out.split("\0") if p]

    async def commit(self, repo_url: str, sha: str) -> Commit:
        """Subject, author and date of commit ``sha``, read once from the mirror: a push moves
        every app of a repository to the same commit, so one ``git show`` serves all of them, even
        when they all ask at once."""
        key = (repo_url, sha)
        task = self._commits.get(key)
        if task is None:
            if len(self._commits) >= _COMMITS_KEPT:
                self._commits.pop(next(iter(self._commits)))
            task = self._commits[key] = asyncio.ensure_future(self._read_commit(repo_url, sha))
        try:
            return await asyncio.shield(task)
        except GitError:
            if self._commits.get(key) is task:
                del self._commits[key]
            raise

    async def _read_commit(self, repo_url: str, sha: str) -> Commit:
        out = await self._git(["show", "-s", "--format=%s%x00%an%x00%ct", sha, "--"], repo_url=repo_url,
                              git_dir=self.mirror_path(repo_url), what="git show")
        subject, _, rest = out.rstrip("\n").partition("\0")
        author, _, when = rest.partition("\0")
        return Commit(sha, subject, author, float(when) if when.strip().isdigit() else 0.0)

    async def list_directories(self, repo_url: str, sha: str) -> list[str]:
        """Every directory in the tree of ``sha``, as paths relative to the repository root."""
        out = await self._git(["ls-tree", "-r", "-d", "--name-only", "-z", sha], repo_url=repo_url,
                              git_dir=self.mirror_path(repo_url), what="git ls-tree")
        return sorted(p for p in out.split("\0") if p)


class _Timeout(GitError):
    pass
