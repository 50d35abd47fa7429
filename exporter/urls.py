"""Repository URLs: the one way to make a URL safe to show, and one spelling per repository.

A token written into a repository URL (``https://x-access-token:TOKEN@host/org/repo.git``, or
``?private_token=`` in a query) is a credential, and the agent shows repository URLs in metric
labels, the API, the status page, notifications and logs. :func:`safe_url` is what every one of
those uses; Git receives the credential through its environment instead (:mod:`exporter.git`).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Query parameter names whose values are credentials (matched as lower-case substrings).
_SECRET_PARAMS = ("token", "secret", "password", "passwd", "pwd", "key", "sig", "auth", "credential",
                  "session", "jwt")
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/]+)@)?(?P<host>[^:/]+):(?P<path>(?!//).*)$")


def strip_userinfo(text: str) -> str:
    """``text`` with the ``user:password@`` part of every URL in it removed (for messages that
    quote URLs, where :func:`safe_url` cannot be applied to one URL)."""
    return _USERINFO.sub(r"\g<scheme>", text)


def is_secret_param(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_PARAMS)


def safe_url(url: str) -> str:
    """``url`` without credentials: what labels, messages, pages and logs may show.

    For HTTP(S) every user name goes (a token is often written as the user name); for other
    schemes a bare user name stays (``ssh://git@host`` names no secret) and a password goes.
    Query parameters that carry credentials are dropped; the others (``ref=main``) stay.
    """
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return strip_userinfo(url).split("?", 1)[0]
    netloc = parts.netloc
    if "@" in netloc and (password is not None or parts.scheme.lower().startswith("http")):
        netloc = netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if not is_secret_param(k)]
        if len(kept) != len(pairs):
            query = urlencode(kept)
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_credentials(url: str) -> tuple[str, str] | None:
    """The ``(user, password)`` written into an HTTP(S) URL, or None. A lone user name is a token
    used as the user name (GitHub's and GitLab's form), sent with an empty password."""
    if not url.lower().startswith(("http://", "https://")):
        return None
    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:
        return None
    if not user and not password:
        return None
    return user or "", password or ""


def normalise_repo_url(url: str) -> str:
    """Reduce a Git remote to one spelling, so the same repository compares equal however written.

    ``https://github.com/Org/Repo.git``, ``git@github.com:org/repo``, ``ssh://git@github.com:22/org/repo/``
    and ``http://github.com/org/repo`` all become ``github.com/org/repo``: webhooks name a repository
    by its web URL while apps are often configured with the SSH form. Scheme, credentials, port,
    a trailing ``.git`` and slashes are dropped, and remote URLs are lower-cased as hosting services
    treat them case-insensitively. Local repositories keep their case; ``file:///srv/git/app.git``
    and ``/srv/git/app`` both become ``/srv/git/app``.
    """
    text = url.strip()
    if text.startswith("file://"):
        return _strip_git_suffix(urlsplit(text).path) or "/"
    if "://" in text:
        parts = urlsplit(text)
        host, path = (parts.hostname or "").lower(), parts.path
    elif (scp := _SCP_LIKE.match(text)) and not text.startswith(("/", "./", "../", "~")):
        host, path = scp.group("host").lower(), scp.group("path")
    else:
        return _strip_git_suffix(text) or text[:1]
    path = _strip_git_suffix("/" + path.lstrip("/")).lower()
    return f"{host}{path}" if path != "/" else host


def _strip_git_suffix(path: str) -> str:
    path = path.rstrip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")].rstrip("/")
    return path


#: How a hosting service's web UI shows one commit, by a word of its host name.
_COMMIT_PAGES = (("github", "https://{host}{path}/commit/{sha}"),
                 ("gitlab", "https://{host}{path}/-/commit/{sha}"),
                 ("bitbucket.org", "https://{host}{path}/commits/{sha}"),
                 ("gitea", "https://{host}{path}/commit/{sha}"),
                 ("codeberg", "https://{host}{path}/commit/{sha}"),
                 ("forgejo", "https://{host}{path}/commit/{sha}"))
_FULL_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def commit_url(repo_url: str, sha: str | None) -> str | None:
    """The web page of commit ``sha`` of the repository at ``repo_url`` on GitHub, GitLab,
    Bitbucket (Cloud, and Server's ``/scm/PROJECT/REPO``) or Gitea (Forgejo, Codeberg), built from
    host and path alone so no credential of the URL can reach it; None for any other host, a
    local repository or a revision that is not a commit."""
    if not sha or not _FULL_SHA.match(sha):
        return None
    name = normalise_repo_url(repo_url)
    host, slash, path = name.partition("/")
    if not slash or not host or name.startswith("/"):
        return None
    path = "/" + path
    if "bitbucket" in host and path.startswith("/scm/") and path.count("/") == 3:
        _, _, project, repo = path.split("/")
        return f"https://{host}/projects/{project.upper()}/repos/{repo}/commits/{sha}"
    for word, page in _COMMIT_PAGES:
        if word in host:
            return page.format(host=host, path=path, sha=sha)
    return None
