"""The OCI distribution API, read-only, on the agent's event loop: a repository's tags, a manifest
by tag or digest, and a blob written to disk with its digest checked.

Helm's registry client (helm-python-sdk) speaks this API for charts only; ``oras`` is
synchronous (``requests``) and brings a dependency closure of its own. The three GETs an artifact
source needs are small enough to make with aiohttp, which the agent already runs, so a slow
registry costs a timeout and never a thread. Authentication is the registry's own challenge:
Basic, or the Bearer token service a ``WWW-Authenticate`` header names (Docker Hub, GHCR, Harbor,
``docker-registry`` with token auth), with the credentials of ``repositories[]``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp

__all__ = ["MANIFEST_TYPES", "MAX_LAYER", "RegistryError", "Reference", "RegistryClient", "parse_reference"]

#: Manifest media types asked for: OCI's, and Docker's v2 schema 2 that older registries store.
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json")
#: The most bytes one manifest or token answer may have; a blob is limited by its descriptor's size.
_SMALL = 4 << 20
#: The largest layer read (an artifact of manifests is kilobytes; a chart, a few megabytes).
MAX_LAYER = 64 << 20
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


class RegistryError(Exception):
    """The registry could not answer; the message names the reference and the reason."""


@dataclass(frozen=True)
class Reference:
    """``oci://host[:port]/path/name`` split into the registry host and the repository path."""

    host: str
    repository: str

    def __str__(self) -> str:
        return f"oci://{self.host}/{self.repository}"


def parse_reference(url: str) -> Reference:
    """The registry and repository of an ``oci://`` URL; ValueError for anything else."""
    if not url.startswith("oci://"):
        raise ValueError(f"'{url}' is not an oci:// URL")
    host, _, repository = url.removeprefix("oci://").rstrip("/").partition("/")
    if not host or not repository or "@" in host:
        raise ValueError(f"'{url}' names no repository (oci://host/path/name)")
    return Reference(host, repository)


@dataclass
class RegistryClient:
    """One registry's read API for one repository, with the token its challenge asked for kept
    for the session. ``user`` is (name, secret) or None for anonymous pulls."""

    reference: Reference
    session: aiohttp.ClientSession
    user: tuple[str, str] | None = field(default=None, repr=False)
    plain_http: bool = False
    verify_tls: bool = True
    _authorization: str | None = field(default=None, repr=False)

    @property
    def _base(self) -> str:
        scheme = "http" if self.plain_http else "https"
        return f"{scheme}://{self.reference.host}/v2/{self.reference.repository}"

    async def tags(self) -> list[str]:
        """Every tag of the repository, following the ``Link`` pages the registry hands out."""
        found: list[str] = []
        url: str | None = f"{self._base}/tags/list?n=1000"
        while url is not None:
            response, body = await self._get(url, "application/json", _SMALL)
            try:
                found += [str(t) for t in json.loads(body).get("tags") or []]
            except (ValueError, AttributeError):
                raise RegistryError(f"{self.reference}: the tag list is not JSON") from None
            url = _next_page(response, self.reference.host, self.plain_http)
        return found

    async def manifest(self, ref: str) -> tuple[str, dict[str, Any]]:
        """(digest, manifest) of ``ref``, a tag or ``sha256:...``; the digest is the one computed
        from the bytes received, and must equal ``ref`` when ``ref`` is a digest."""
        _, body = await self._get(f"{self._base}/manifests/{ref}", ", ".join(MANIFEST_TYPES), _SMALL)
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if ref.startswith("sha256:") and digest != ref:
            raise RegistryError(f"{self.reference}@{ref}: the manifest received has digest {digest}")
        try:
            manifest = json.loads(body)
        except ValueError:
            raise RegistryError(f"{self.reference}:{ref}: the manifest is not JSON") from None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("layers"), list):
            kind = manifest.get("mediaType") if isinstance(manifest, dict) else None
            raise RegistryError(f"{self.reference}:{ref} is not an artifact manifest with layers ({kind or 'no mediaType'})")
        return digest, manifest

    async def blob(self, descriptor: dict[str, Any]) -> bytes:
        """The blob ``descriptor`` names, checked against its size and digest. Artifacts of
        manifests are small; one over ``MAX_LAYER`` bytes is refused rather than held."""
        digest, size = str(descriptor.get("digest") or ""), int(descriptor.get("size") or 0)
        if not digest.startswith("sha256:"):
            raise RegistryError(f"{self.reference}: layer digest '{digest}' is not sha256")
        if size > MAX_LAYER:
            raise RegistryError(f"{self.reference}: layer {digest} has {size} bytes, over the {MAX_LAYER} this agent reads")
        async with self._request(f"{self._base}/blobs/{digest}", "*/*") as response:
            try:
                body = await response.content.read(size + 1)
            except aiohttp.ClientError as exc:
                raise RegistryError(f"{self.reference}: layer {digest}: {exc.__class__.__name__}") from None
        if len(body) != size or "sha256:" + hashlib.sha256(body).hexdigest() != digest:
            raise RegistryError(f"{self.reference}: layer {digest} arrived with other content")
        return body

    async def _get(self, url: str, accept: str, limit: int) -> tuple[aiohttp.ClientResponse, bytes]:
        async with self._request(url, accept) as response:
            try:
                body = await response.content.read(limit + 1)
            except aiohttp.ClientError as exc:
                raise RegistryError(f"{self.reference}: {exc.__class__.__name__}: {_short(exc)}") from None
            if len(body) > limit:
                raise RegistryError(f"{self.reference}: the answer to {url.rpartition('/v2/')[2]} is over {limit} bytes")
            return response, body

    def _request(self, url: str, accept: str) -> _Request:
        return _Request(self, url, accept)

    async def _authorize(self, challenge: str) -> None:
        """Answer a 401: Basic with the user, or a token from the Bearer realm the challenge names."""
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() == "basic":
            if self.user is None:
                raise RegistryError(f"{self.reference}: the registry asks for credentials "
                                    "(add the registry to repositories[])")
            self._authorization = _basic(self.user)
            return
        if scheme.lower() != "bearer":
            raise RegistryError(f"{self.reference}: the registry asks for '{scheme}' authentication")
        values = dict(_CHALLENGE.findall(params))
        realm = values.pop("realm", "")
        if not realm.startswith(("https://", "http://")):
            raise RegistryError(f"{self.reference}: the registry's token realm '{realm}' is not a URL")
        values.setdefault("scope", f"repository:{self.reference.repository}:pull")
        headers = {"Authorization": _basic(self.user)} if self.user else {}
        try:
            async with self.session.get(f"{realm}?{urlencode(values)}", headers=headers,
                                        ssl=self.verify_tls) as response:
                body = await response.content.read(_SMALL)
                if response.status != 200:
                    raise RegistryError(f"{self.reference}: the token service refused ({response.status})")
        except aiohttp.ClientError as exc:
            raise RegistryError(f"{self.reference}: the token service: {exc.__class__.__name__}") from None
        try:
            answer = json.loads(body)
            token = answer.get("token") or answer.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not token:
            raise RegistryError(f"{self.reference}: the token service gave no token")
        self._authorization = f"Bearer {token}"


class _Request:
    """One GET, authenticated once on a 401 challenge; any other failure is a ``RegistryError``."""

    def __init__(self, client: RegistryClient, url: str, accept: str) -> None:
        self.client, self.url, self.accept = client, url, accept
        self.response: aiohttp.ClientResponse | None = None

    async def _send(self) -> aiohttp.ClientResponse:
        headers = {"Accept": self.accept}
        if self.client._authorization:
            headers["Authorization"] = self.client._authorization
        return await self.client.session.get(self.url, headers=headers, allow_redirects=True,
                                             ssl=self.client.verify_tls)

    async def __aenter__(self) -> aiohttp.ClientResponse:
        where = f"{self.client.reference}"
        try:
            response = await self._send()
            if response.status == 401 and "WWW-Authenticate" in response.headers:
                challenge = response.headers["WWW-Authenticate"]
                response.release()
                await self.client._authorize(challenge)
                response = await self._send()
        except aiohttp.ClientError as exc:
            raise RegistryError(f"{where}: {exc.__class__.__name__}: {_short(exc)}") from None
        self.response = response
        if response.status != 200:
            response.release()
            raise RegistryError(f"{where}: {_status_text(response.status)} ({self.url.rpartition('/v2/')[2]})")
        return response

    async def __aexit__(self, *exc: object) -> None:
        if self.response is not None:
            self.response.release()


def _basic(user: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()


def _status_text(status: int) -> str:
    return {401: "unauthorized (check the registry's credentials in repositories[])",
            403: "forbidden", 404: "not found"}.get(status, f"HTTP {status}")


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else "no detail"


def _next_page(response: aiohttp.ClientResponse, host: str, plain_http: bool) -> str | None:
    """The next page of a tag list (``Link: </v2/...?last=x>; rel="next"``), or None."""
    link = response.headers.get("Link", "")
    match = re.match(r'\s*<([^>]+)>\s*;\s*rel="?next"?', link)
    if not match:
        return None
    target = match.group(1)
    if target.startswith("/"):
        target = f"{'http' if plain_http else 'https'}://{host}{target}"
    return target
