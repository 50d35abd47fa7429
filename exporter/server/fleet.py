"""One view of a sharded fleet: read-only fan-out from any shard to its siblings.

Each shard evaluates only the apps whose name hashes to it, yet a Service sends a user to any of
them. So that every shard can answer for the whole fleet without leader election or shared state,
a shard asks its siblings for *their local* answers (``scope=local``, which never fans out again)
and merges them with its own. A sibling that does not answer within a few seconds costs its apps,
never the request: the caller learns which shards are missing and says so.
"""

from __future__ import annotations

import asyncio
import json
import logging
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
from yarl import URL

from exporter import __version__
from exporter.sharding import shard_of

log = logging.getLogger(__name__)

#: Seconds one sibling may take to answer; a page waits at most this long for a dead shard.
PEER_TIMEOUT = 3.0
#: The query parameter that keeps a request on one shard: what siblings send each other.
LOCAL_SCOPE = ("scope", "local")
UNREACHABLE_HEADER = "X-Unreachable-Shards"
#: What a sibling's app must carry to be listed and drawn on the status page; an answer without
#: them (a sibling on an incompatible version) counts as no answer rather than breaking the page.
SUMMARY_FIELDS = frozenset({"name", "status", "project", "cluster", "namespace", "labels", "revision", "reason",
                            "sinceTimestamp", "frozen"})
DETAIL_FIELDS = SUMMARY_FIELDS | {"sync", "health", "repo", "path", "targetRevision", "evaluatedAtTimestamp",
                                  "objects"}


class PeerTemplateError(ValueError):
    """A peer URL template that cannot address the sibling shards."""


class PeerUnreachable(Exception):
    """A sibling did not answer in time, or answered with something that is not the API."""

    def __init__(self, shard: int, reason: str) -> None:
        super().__init__(f"shard {shard}: {reason}")
        self.shard = shard
        self.reason = reason


def check_peer_template(template: str) -> None:
    """Refuse a template that would not give one http(s) base URL per shard.

    Checked at start so that a typo fails the rollout instead of leaving every page partial.
    """
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise PeerTemplateError(f"{template!r} is not a valid template: {exc}") from None
    if "shard" not in fields:
        raise PeerTemplateError(f"{template!r} must contain {{shard}}, where the shard's ordinal goes")
    if fields != {"shard"}:
        others = ", ".join("{" + name + "}" for name in sorted(fields - {"shard"}))
        raise PeerTemplateError(f"{template!r} has placeholders other than {{shard}}: {others}")
    try:
        url = urlsplit(template.format(shard=0))
    except ValueError as exc:  # a format spec an integer does not take, e.g. {shard:q}
        raise PeerTemplateError(f"{template!r} is not a valid template: {exc}") from None
    if url.scheme not in ("http", "https") or not url.hostname:
        raise PeerTemplateError(f"{template!r} must be an http:// or https:// URL with a host")
    if url.username is not None or url.password is not None:
        raise PeerTemplateError(f"{template!r} must not carry credentials: the API takes none")
    if url.query or url.fragment:
        raise PeerTemplateError(f"{template!r} must be a base URL, without a query or fragment")


@dataclass(frozen=True)
class Fleet:
    """This shard's place in the fleet and where its siblings answer."""

    index: int
    count: int
    peers: Mapping[int, str]
    timeout: float = PEER_TIMEOUT

    @classmethod
    def from_template(cls, template: str, index: int, count: int, *, timeout: float = PEER_TIMEOUT) -> Fleet:
        """Sibling ``i``'s base URL is ``template.format(shard=i)``, for every ``i`` but ``index``."""
        check_peer_template(template)
        peers = {i: template.format(shard=i).rstrip("/") for i in range(count) if i != index}
        return cls(index, count, peers, timeout)

    def owner(self, app: str) -> int:
        """The shard that evaluates ``app``."""
        return shard_of(app, self.count)


@dataclass(frozen=True)
class PeerAnswer:
    """A sibling's HTTP answer, passed on as is."""

    status: int
    body: bytes
    content_type: str


@dataclass
class FleetApps:
    """The siblings' app lists, and the shards that did not give one."""

    apps: list[dict[str, Any]] = field(default_factory=list)
    unreachable: list[int] = field(default_factory=list)


def merge_apps(local: Iterable[dict[str, Any]], remote: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every app once, by name. This shard's own copy wins if a sibling reports the same app, as
    happens briefly while the shard count changes and two pods still hold it."""
    merged: dict[str, dict[str, Any]] = {}
    for app in local:
        merged[app["name"]] = app
    for app in remote:
        merged.setdefault(app["name"], app)
    return [merged[name] for name in sorted(merged)]


def unreachable_text(unreachable: Sequence[int], count: int) -> str:
    """The status page banner, worded the same by the server and the page's script."""
    if not unreachable:
        return ""
    if len(unreachable) == 1:
        return f"shard {unreachable[0]} of {count} did not answer; its apps are not shown."
    return f"shards {', '.join(map(str, unreachable))} of {count} did not answer; their apps are not shown."


def app_path(name: str, suffix: str = "") -> str:
    """``/api/v1/apps/NAME[suffix]`` with the name escaped as one path segment."""
    return f"/api/v1/apps/{quote(name, safe='')}{suffix}"


class FleetClient:
    """Asks the siblings, concurrently, each within :attr:`Fleet.timeout`.

    A shard that stops answering is logged once when it goes and once when it is back, not on
    every page refresh.
    """

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self._session: aiohttp.ClientSession | None = None
        self._down: set[int] = set()

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running loop that will serve it.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.fleet.timeout),
                headers={"User-Agent": f"gitops-drift-exporter/{__version__} (shard {self.fleet.index})"})
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def fetch(self, shard: int, path: str, query: Iterable[tuple[str, str]] = (),
                    accept: str = "application/json") -> PeerAnswer:
        """GET ``path`` from ``shard``, scoped to that shard's own apps; any HTTP status is an answer."""
        pairs = [(k, v) for k, v in query if k != LOCAL_SCOPE[0]] + [LOCAL_SCOPE]
        url = URL(f"{self.fleet.peers[shard]}{path}?{urlencode(pairs)}", encoded=True)
        try:
            async with self._client().get(url, headers={"Accept": accept}, allow_redirects=False) as resp:
                body = await resp.read()
                answer = PeerAnswer(resp.status, body, resp.headers.get("Content-Type", "application/octet-stream"))
        except TimeoutError:
            raise self._failed(shard, f"no answer within {self.fleet.timeout:g}s") from None
        except aiohttp.ClientError as exc:
            raise self._failed(shard, f"{type(exc).__name__}: {exc}") from None
        self._answered(shard)
        return answer

    async def list_apps(self, query: Iterable[tuple[str, str]] = ()) -> FleetApps:
        """Every sibling's ``/api/v1/apps`` under ``query``'s filters."""
        pairs = list(query)
        results = await asyncio.gather(*(self._list_one(shard, pairs) for shard in sorted(self.fleet.peers)),
                                       return_exceptions=True)
        out = FleetApps()
        for shard, result in zip(sorted(self.fleet.peers), results, strict=True):
            if isinstance(result, PeerUnreachable):
                out.unreachable.append(shard)
            elif isinstance(result, BaseException):
                raise result
            else:
                out.apps.extend(result)
        return out

    async def _list_one(self, shard: int, query: list[tuple[str, str]]) -> list[dict[str, Any]]:
        answer = await self.fetch(shard, "/api/v1/apps", query)
        apps = _json_list(answer)
        if apps is None:
            raise self._failed(shard, f"answered HTTP {answer.status} without an app list")
        return apps

    def _failed(self, shard: int, reason: str) -> PeerUnreachable:
        if shard not in self._down:
            self._down.add(shard)
            log.warning("shard %d of %d at %s did not answer, its apps are left out of fleet views: %s",
                        shard, self.fleet.count, _host(self.fleet.peers[shard]), reason)
        return PeerUnreachable(shard, reason)

    def _answered(self, shard: int) -> None:
        if shard in self._down:
            self._down.discard(shard)
            log.info("shard %d of %d answers again", shard, self.fleet.count)


def json_body(answer: PeerAnswer) -> Any:
    """The JSON of a successful answer; None for an error status or a body that is not JSON."""
    if answer.status != 200 or not answer.content_type.startswith("application/json"):
        return None
    try:
        return json.loads(answer.body)
    except ValueError:
        return None


def json_app(answer: PeerAnswer) -> dict[str, Any] | None:
    """A sibling's ``/api/v1/apps/NAME`` answer, if it is one the status page can draw."""
    data = json_body(answer)
    return data if _is_app(data, DETAIL_FIELDS) else None


def json_history(answer: PeerAnswer) -> dict[str, Any] | None:
    """A sibling's ``/api/v1/apps/NAME/history`` answer, if it has the shape the page draws."""
    data = json_body(answer) if answer.status == 200 else None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list) \
            or not isinstance(data.get("window"), dict) or not isinstance(data.get("timeInStateShare"), dict):
        return None
    return data


def _json_list(answer: PeerAnswer) -> list[dict[str, Any]] | None:
    data = json_body(answer)
    if not isinstance(data, list) or not all(_is_app(a, SUMMARY_FIELDS) for a in data):
        return None
    return data


def _is_app(data: Any, fields: frozenset[str]) -> bool:
    return isinstance(data, dict) and fields <= data.keys() and isinstance(data["name"], str)


def _host(url: str) -> str:
    # Templates are refused with credentials, but a log line names only the host regardless.
    return urlsplit(url).netloc.rpartition("@")[2]
