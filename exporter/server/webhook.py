"""Git push webhooks: who sent it, is it genuine, and which repository and branch moved.

A push webhook only shortens the wait for the next Git poll, so everything here errs on the side
of refusing: a request whose signature does not verify is dropped before its body is parsed, and
anything that is not a push is acknowledged and ignored. The parsing is pure so each provider's
payload shape can be tested without a server; :func:`handle_webhook` is the thin edge that reads
the request and hands the result to the agent.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import json
import logging
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from exporter.clock import monotonic
from exporter.instruments import WEBHOOK_REQUESTS_TOTAL
from exporter.urls import safe_url

log = logging.getLogger(__name__)

GITHUB = "github"
GITLAB = "gitlab"
BITBUCKET = "bitbucket"
GITEA = "gitea"
UNKNOWN = "unknown"

@dataclass(frozen=True)
class Push:
    """What a push webhook tells the agent: the repository (every URL form the payload gives) and
    the branch or tag that moved. ``branch`` is None when the push names several refs or none, so
    every app on the repository is refreshed."""

    repo_urls: list[str] = field(default_factory=list)
    branch: str | None = None


class InvalidPayload(ValueError):
    """The body is not the JSON a push event of this provider sends."""


def detect_provider(headers: Mapping[str, str]) -> str:
    """Name the sender from its event header.

    Gitea and Forgejo also send GitHub's headers for compatibility, so they are recognised first.
    """
    if "X-Gitea-Event" in headers or "X-Forgejo-Event" in headers:
        return GITEA
    if "X-Gitlab-Event" in headers:
        return GITLAB
    if "X-Event-Key" in headers:
        return BITBUCKET
    if "X-GitHub-Event" in headers:
        return GITHUB
    return UNKNOWN


def is_push(provider: str, headers: Mapping[str, str]) -> bool:
    if provider == GITEA:
        return (headers.get("X-Gitea-Event") or headers.get("X-Forgejo-Event")) == "push"
    if provider == GITLAB:
        return headers.get("X-Gitlab-Event") == "Push Hook"
    if provider == BITBUCKET:
        return headers.get("X-Event-Key") == "repo:push"
    if provider == GITHUB:
        return headers.get("X-GitHub-Event") == "push"
    return False


def verify_signature(provider: str, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    """Check the request against the shared secret, in constant time.

    GitHub and Bitbucket Cloud sign the body with HMAC-SHA256 (``sha256=<hex>``), Gitea and Forgejo
    send the bare hex digest, and GitLab sends the secret itself as a token.
    """
    key = secret.encode()
    if provider == GITLAB:
        return hmac.compare_digest(headers.get("X-Gitlab-Token", "").encode(), key)
    expected = hmac.new(key, body, hashlib.sha256).hexdigest()
    if provider == GITEA:
        given = headers.get("X-Gitea-Signature") or headers.get("X-Forgejo-Signature") or ""
        return hmac.compare_digest(given.strip().lower().encode(), expected.encode())
    if provider in (GITHUB, BITBUCKET):
        header = "X-Hub-Signature-256" if provider == GITHUB else "X-Hub-Signature"
        given = headers.get(header, "").strip()
        return hmac.compare_digest(given.lower().encode(), f"sha256={expected}".encode())
    return False


def parse_push(provider: str, body: bytes, content_type: str = "application/json") -> Push:
    """Read the repository URLs and branch out of a push payload (JSON, or GitHub's
    ``application/x-www-form-urlencoded`` form with the JSON in its ``payload`` field)."""
    if content_type == "application/x-www-form-urlencoded":
        try:
            fields = urllib.parse.parse_qs(body.decode("utf-8"), max_num_fields=16)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidPayload(f"form body cannot be read: {exc}") from None
        if "payload" not in fields:
            raise InvalidPayload("form body has no 'payload' field")
        body = fields["payload"][0].encode()
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidPayload(f"body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise InvalidPayload("body is not a JSON object")
    if provider == BITBUCKET:
        return _parse_bitbucket(payload)
    section = "project" if provider == GITLAB else "repository"
    keys = (("git_http_url", "git_ssh_url", "web_url", "http_url", "ssh_url", "url") if provider == GITLAB
            else ("clone_url", "html_url", "ssh_url", "git_url"))
    urls = _strings(payload.get(section), keys)
    if provider == GITLAB:
        urls += _strings(payload.get("repository"), ("git_http_url", "git_ssh_url", "homepage", "url"))
    if not urls:
        raise InvalidPayload(f"push payload has no {section} URL")
    ref = payload.get("ref")
    return Push(_unique(urls), _short_ref(ref) if isinstance(ref, str) and ref else None)


def _parse_bitbucket(payload: dict[str, Any]) -> Push:
    repo = payload.get("repository")
    links = repo.get("links") if isinstance(repo, dict) else None
    html = links.get("html") if isinstance(links, dict) else None
    urls = _strings(html, ("href",))
    if not urls:
        raise InvalidPayload("push payload has no repository.links.html.href")
    names: list[str] = []
    push = payload.get("push")
    changes = push.get("changes") if isinstance(push, dict) else None
    for change in changes if isinstance(changes, list) else []:
        if not isinstance(change, dict):
            continue
        # A deleted branch has no "new" side; the old name still tells which apps to refresh.
        for side in ("new", "old"):
            ref = change.get(side)
            if isinstance(ref, dict) and isinstance(ref.get("name"), str):
                names.append(ref["name"])
                break
    names = _unique(names)
    return Push(urls, names[0] if len(names) == 1 else None)


def _strings(section: Any, keys: tuple[str, ...]) -> list[str]:
    if not isinstance(section, dict):
        return []
    return [section[k] for k in keys if isinstance(section.get(k), str) and section[k]]


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


OnPush = Callable[[list[str], str | None], Awaitable[int]]

#: Headers that carry a delivery's unique ID, per provider.
_DELIVERY_HEADERS = {GITHUB: ("X-GitHub-Delivery",), GITEA: ("X-Gitea-Delivery", "X-Forgejo-Delivery"),
                     GITLAB: ("X-Gitlab-Event-UUID",), BITBUCKET: ("X-Request-UUID", "X-Hook-UUID")}
_SIGNATURE_HEADERS = {GITHUB: ("X-Hub-Signature-256",), GITEA: ("X-Gitea-Signature", "X-Forgejo-Signature"),
                      GITLAB: ("X-Gitlab-Token",), BITBUCKET: ("X-Hub-Signature",)}


class WebhookGate:
    """What every webhook request passes before its body is read, and what is remembered after.

    A push is small (a few KiB; GitHub caps payloads at 25 MB), so bodies over ``max_body`` bytes
    are refused from their ``Content-Length`` or as they stream in; a request without the
    signature header a configured secret needs is refused before its body is read; at most
    ``max_concurrent`` requests are read at once (the rest get 429 and ``Retry-After``); and a
    delivery already processed (same delivery ID or same signed body) is acknowledged and ignored,
    so a captured request cannot be replayed to make the agent fetch over and over.
    """

    def __init__(self, secret: str | None, *, max_body: int = 5 * 1024 * 1024, max_concurrent: int = 4,
                 remember: int = 1000) -> None:
        self.secret = secret or None
        self.max_body = max_body
        self.max_concurrent = max_concurrent
        self.inflight = 0
        self._seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._remember = remember

    def seen(self, keys: list[str]) -> bool:
        return any(k in self._seen for k in keys)

    def remember(self, keys: list[str]) -> None:
        for key in keys:
            self._seen[key] = None
            self._seen.move_to_end(key)
        while len(self._seen) > self._remember:
            self._seen.popitem(last=False)


class _Refusals:
    """Logs refused webhooks at most once a minute, with how many were refused meanwhile, so a
    flood of forged requests cannot flood the log too."""

    def __init__(self, every: float = 60.0) -> None:
        self.every = every
        self.last = float("-inf")
        self.quiet = 0

    def log(self, provider: str, remote: str | None, why: str) -> None:
        now = monotonic()
        if now - self.last < self.every:
            self.quiet += 1
            return
        more = f" ({self.quiet} more refused since the last report)" if self.quiet else ""
        log.warning("refused %s webhook from %s: %s%s", provider, remote, why, more)
        self.last, self.quiet = now, 0


_REFUSALS = _Refusals()


class _TooLarge(Exception):
    pass


async def _read_capped(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _delivery_keys(provider: str, headers: Mapping[str, str], body: bytes) -> list[str]:
    keys = [f"id:{provider}:{headers[h]}" for h in _DELIVERY_HEADERS.get(provider, ()) if headers.get(h)]
    return keys + [f"body:{hashlib.sha256(body).hexdigest()}"]


async def handle_webhook(request: web.Request, *, gate: WebhookGate, on_push: OnPush) -> web.Response:
    """Verify, classify and forward one webhook; every outcome is counted by provider and result
    (accepted, bad_signature, ignored, invalid, too_large, busy, replay, error)."""
    provider = detect_provider(request.headers)

    def answer(result: str, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None,
               ) -> web.Response:
        WEBHOOK_REQUESTS_TOTAL.labels(provider=provider, result=result).inc()
        return web.json_response(payload, status=status, headers=headers)

    if provider == UNKNOWN:
        return answer("invalid", 400, {
            "error": "invalid", "message": "not a push webhook from GitHub, GitLab, Bitbucket Cloud, Gitea "
            "or Forgejo: none of X-GitHub-Event, X-Gitlab-Event, X-Event-Key, X-Gitea-Event is set"})
    if gate.secret and not any(request.headers.get(h) for h in _SIGNATURE_HEADERS.get(provider, ())):
        _REFUSALS.log(provider, request.remote, "no signature")
        return answer("bad_signature", 401, {"error": "bad_signature",
                                             "message": f"{provider} webhook carries no signature"})
    if gate.inflight >= gate.max_concurrent:
        return answer("busy", 429, {"error": "busy", "message": "too many webhook requests at once"},
                      headers={"Retry-After": "1"})
    gate.inflight += 1
    try:
        try:
            body = await _read_capped(request, gate.max_body)
        except _TooLarge:
            return answer("too_large", 413, {"error": "too_large",
                                             "message": f"webhook bodies are limited to {gate.max_body} bytes"})
    finally:
        gate.inflight -= 1
    if gate.secret and not verify_signature(provider, request.headers, body, gate.secret):
        _REFUSALS.log(provider, request.remote, "bad signature")
        return answer("bad_signature", 401, {"error": "bad_signature",
                                             "message": f"{provider} webhook signature does not match"})
    if not is_push(provider, request.headers):
        return answer("ignored", 200, {"result": "ignored", "message": "not a push event"})
    keys = _delivery_keys(provider, request.headers, body)
    if gate.seen(keys):
        return answer("replay", 200, {"result": "ignored", "message": "this delivery was already processed"})
    try:
        push = parse_push(provider, body, request.content_type)
    except InvalidPayload as exc:
        return answer("invalid", 400, {"error": "invalid", "message": f"{provider} push: {exc}"})
    try:
        affected = await on_push(push.repo_urls, push.branch)
    except Exception:
        # The push is genuine; the next Git poll still picks it up, so the sender is told to retry
        # rather than the whole request failing with a bare traceback.
        log.exception("could not schedule a refresh for %s push to %s", provider, safe_url(push.repo_urls[0]))
        return answer("error", 500, {"error": "error", "message": "the agent could not schedule a refresh"})
    gate.remember(keys)
    log.info("%s push to %s (%s): %d apps to refresh", provider, safe_url(push.repo_urls[0]),
             push.branch or "all refs", affected)
    return answer("accepted", 202, {"apps": affected})
