"""A read-only Kubernetes client: discovery, paginated lists and watch streams as raw JSON.

``kubernetes_asyncio`` is used only for what it does best, turning a kubeconfig context (tokens,
client certificates, exec plugins, CA bundles) or an in-cluster service account into connection
settings. Requests then go through ``aiohttp`` and stay plain ``dict``s: generating model objects
for every list item and watch event costs more CPU and memory than the whole comparison at fleet
scale, and the rest of the agent works on dicts anyway.

Every request passes through one function, ``KubeClient._open``, which refuses any method but GET
and counts the request in ``gitops_kube_requests_total``. Tokens and certificates never reach a log
line or an error message.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import socket
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from kubernetes_asyncio import config as kconfig
from kubernetes_asyncio.client import Configuration
from kubernetes_asyncio.config.config_exception import ConfigException

from exporter import __version__
from exporter.clock import monotonic
from exporter.config.kubeconfig import kubeconfig_problem
from exporter.config_types import ClusterConfig
from exporter.instruments import KUBE_REQUESTS_TOTAL
from exporter.kube.compact import decode_list_page
from exporter.kube.errors import (
    KubeError,
    NotFound,
    ReadOnlyViolation,
    Unauthorized,
    Unreachable,
    WatchSilent,
    error_from_status,
    retry_after_seconds,
)
from exporter.workers import in_worker

log = logging.getLogger(__name__)

#: Largest single watch event accepted (a CRD with a big schema is a few hundred KiB).
MAX_EVENT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ResourceInfo:
    """A resource type as discovery describes it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """``deployments.apps`` or ``configmaps``: the name RBAC rules and messages use."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(self, namespace: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if namespace and self.namespaced:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"


def _describe(res: ResourceInfo, namespace: str | None) -> str:
    return f"{res.qualified} in namespace {namespace}" if namespace else res.qualified


async def load_configuration(cluster: ClusterConfig) -> Configuration:
    """Credentials and endpoint for a cluster, from in-cluster files or a kubeconfig context."""
    cfg = Configuration()
    if not cluster.in_cluster:
        problem = await asyncio.get_running_loop().run_in_executor(
            None, kubeconfig_problem, cluster.kubeconfig, cluster.context)
        if problem is not None:
            raise KubeError(f"cluster {cluster.name}: {problem}", cluster=cluster.name)
    try:
        if cluster.in_cluster:
            kconfig.load_incluster_config(client_configuration=cfg)
        else:
            await kconfig.load_kube_config(config_file=cluster.kubeconfig, context=cluster.context,
                                           client_configuration=cfg, persist_config=False)
    except (ConfigException, OSError, ValueError, KeyError, TypeError) as e:
        where = "in-cluster service account" if cluster.in_cluster else (
            f"kubeconfig {cluster.kubeconfig or '(default)'}"
            + (f" context {cluster.context}" if cluster.context else ""))
        raise KubeError(f"cluster {cluster.name}: cannot load credentials from {where}: {e}",
                        cluster=cluster.name) from None
    return cfg


#: TCP keepalive on every connection to an API server: an idle watch on a dead path (a load
#: balancer gone, a half-open connection) breaks within about ``KEEPALIVE_IDLE + KEEPALIVE_INTERVAL
#: * KEEPALIVE_COUNT`` seconds, and unacknowledged data within ``USER_TIMEOUT``, instead of when the
#: watch's own timeout runs out. A server that is alive but stopped (its kernel still answers) is
#: what the probe (:mod:`exporter.kube.probing`) notices.
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT, USER_TIMEOUT = 10, 5, 3, 30


def keepalive_socket(addr_info: tuple[Any, ...]) -> socket.socket:
    """A TCP socket with keepalive probes on (aiohttp's ``socket_factory``)."""
    family, type_, proto = addr_info[0], addr_info[1], addr_info[2]
    sock = socket.socket(family=family, type=type_, proto=proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", KEEPALIVE_IDLE), ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL),
                        ("TCP_KEEPCNT", KEEPALIVE_COUNT), ("TCP_USER_TIMEOUT", USER_TIMEOUT * 1000)):
        option = getattr(socket, name, None)
        if option is not None:  # Linux has all four; elsewhere the system's defaults stay
            sock.setsockopt(socket.IPPROTO_TCP, option, value)
    return sock


def _ssl_context(cfg: Configuration) -> ssl.SSLContext | bool:
    if not str(cfg.host).startswith("https"):
        return False
    ctx = ssl.create_default_context(cafile=cfg.ssl_ca_cert or None)
    if cfg.cert_file:
        ctx.load_cert_chain(cfg.cert_file, cfg.key_file or None)
    if not cfg.verify_ssl:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class KubeClient:
    """One cluster's read-only API client. Create with ``await KubeClient.connect(cluster)``."""

    @property
    def host(self) -> str:
        """The API server's URL, as the kubeconfig (or the in-cluster environment) names it."""
        return self._host

    def __init__(self, cluster: ClusterConfig, cfg: Configuration, session: aiohttp.ClientSession, *,
                 request_timeout: float, discovery_refresh: float,
                 probe_session: aiohttp.ClientSession | None = None) -> None:
        self.name = cluster.name
        self._cluster = cluster
        self._cfg = cfg
        self._host = str(cfg.host).rstrip("/")
        self._session = session
        #: A pool of its own for the probe, closing every connection after use: a probe must open
        #: a connection of its own to tell whether the server answers, not queue behind watches.
        self._probe_session = probe_session or session
        self._request_timeout = request_timeout
        self._discovery_refresh = discovery_refresh
        self._tls_server_name = getattr(cfg, "tls_server_name", None) or None
        self._proxy = getattr(cfg, "proxy", None) or None
        # group version -> (fetched at, kind -> resource); None when the group version is not served
        self._discovery: dict[str, tuple[float, dict[str, ResourceInfo] | None]] = {}
        self._discovery_locks: dict[str, asyncio.Lock] = {}

    @classmethod
    async def connect(cls, cluster: ClusterConfig, *, request_timeout: float = 30.0,
                      discovery_refresh: float = 10.0) -> KubeClient:
        """Load credentials and prepare a connection pool; no request is sent yet.

        ``discovery_refresh`` rate-limits how often a kind that discovery does not know makes the
        client ask again (CRDs installed after start-up appear after at most that long)."""
        cfg = await load_configuration(cluster)
        loop = asyncio.get_running_loop()
        try:
            ssl_ctx = await loop.run_in_executor(None, _ssl_context, cfg)
        except (OSError, ssl.SSLError, ValueError) as e:
            raise KubeError(f"cluster {cluster.name}: cannot set up TLS: {e}", cluster=cluster.name) from None
        headers = {"Accept": "application/json", "User-Agent": f"gitops-drift-exporter/{__version__}"}
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(
            ssl=ssl_ctx, limit=0, socket_factory=keepalive_socket), headers=headers)
        probe_session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(
            ssl=ssl_ctx, force_close=True, socket_factory=keepalive_socket), headers=headers)
        return cls(cluster, cfg, session, request_timeout=request_timeout, discovery_refresh=discovery_refresh,
                   probe_session=probe_session)

    async def close(self) -> None:
        await self._session.close()
        if self._probe_session is not self._session:
            await self._probe_session.close()

    async def __aenter__(self) -> KubeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the one door to the network -----------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _open(self, method: str, path: str, params: Mapping[str, str] | None, *, verb: str,
                    what: str, read_timeout: float | None = None, total: float | None = None,
                    probe: bool = False) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send one request and yield the successful response; raise a typed ``KubeError`` otherwise.

        Only GET leaves this function: the agent is read-only by construction, not by convention."""
        if method.upper() != "GET":
            raise ReadOnlyViolation(f"refusing to send {method.upper()} {path} to cluster {self.name}: "
                                    "the agent only reads", cluster=self.name)
        headers: dict[str, str] = {}
        token = await self._cfg.get_api_key_with_prefix("BearerToken")
        if token:
            headers["Authorization"] = token
        elif self._cfg.username and self._cfg.password:
            headers["Authorization"] = self._cfg.get_basic_auth_token()
        timeout = aiohttp.ClientTimeout(total=total or (None if read_timeout else self._request_timeout),
                                        sock_connect=min(total or self._request_timeout, 10.0), sock_read=read_timeout)
        answered = False
        session = self._probe_session if probe else self._session
        try:
            async with session.get(self._host + path, params=params, headers=headers, timeout=timeout,
                                         server_hostname=self._tls_server_name, proxy=self._proxy,
                                         allow_redirects=False) as resp:
                answered = True
                KUBE_REQUESTS_TOTAL.labels(self.name, verb, str(resp.status)).inc()
                log.debug("cluster %s: %s %s -> %s", self.name, verb, path, resp.status)
                if resp.status >= 400:
                    try:
                        body: Any = json.loads(await resp.read())
                    except ValueError:
                        body = None
                    error = error_from_status(self.name, resp.status, body, what, verb)
                    error.retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
                    raise error
                yield resp
        except KubeError:
            raise
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            if not answered:  # an answer cut short was already counted by its status code
                KUBE_REQUESTS_TOTAL.labels(self.name, verb, "error").inc()
            if read_timeout and isinstance(e, TimeoutError | aiohttp.ServerTimeoutError):
                raise WatchSilent(f"{verb} on {what} in {self.name}: no answer for {read_timeout:.0f}s",
                                  cluster=self.name, silent_for=read_timeout) from None
            if total and isinstance(e, TimeoutError | aiohttp.ServerTimeoutError):
                raise Unreachable(f"cluster {self.name}: {what} did not answer within {total:g}s",
                                  cluster=self.name) from None
            detail = str(e) or type(e).__name__
            raise Unreachable(f"cluster {self.name} unreachable: {detail}", cluster=self.name) from None

    async def _get_json(self, path: str, params: Mapping[str, str] | None, *, verb: str, what: str,
                        decode: Callable[[bytes], Awaitable[Any]] | None = None) -> Any:
        for attempt in (1, 2):
            try:
                async with self._open("GET", path, params, verb=verb, what=what) as resp:
                    try:
                        body = await resp.read()
                        return json.loads(body) if decode is None else await decode(body)
                    except ValueError:
                        raise KubeError(f"{verb} on {what} in {self.name}: the answer is not JSON",
                                        status=resp.status, cluster=self.name) from None
            except Unauthorized:
                # Exec plugins and projected service account tokens expire; load them again once.
                if attempt == 2 or not await self._reload_credentials():
                    raise
        raise AssertionError("unreachable")

    async def _reload_credentials(self) -> bool:
        try:
            fresh = await load_configuration(self._cluster)
        except KubeError as e:
            log.warning("%s", e)
            return False
        old = await self._cfg.get_api_key_with_prefix("BearerToken")
        new = await fresh.get_api_key_with_prefix("BearerToken")
        if not new or new == old:
            return False
        self._cfg = fresh
        log.info("cluster %s: credentials reloaded after 401", self.name)
        return True

    async def request(self, method: str, path: str, params: Mapping[str, str] | None = None) -> Any:
        """GET any API path as JSON (for callers that need a one-off read). Other methods raise
        ``ReadOnlyViolation`` without sending anything."""
        async with self._open(method, path, params, verb="get", what=path) as resp:
            return json.loads(await resp.read())

    async def probe(self, timeout: float) -> None:  # noqa: ASYNC109 - the probe's own deadline
        """``GET /readyz`` on a new connection, answered in full within ``timeout`` seconds; raises
        ``Unreachable`` (no answer, a refused or broken connection) or the ``KubeError`` of the
        status (a server that says it is not ready). Everyone may read ``/readyz`` (the built-in
        ``system:public-info-viewer`` role), so this needs no permission."""
        async with self._open("GET", "/readyz", None, verb="get", what="/readyz", total=timeout,
                              probe=True) as resp:
            await resp.read()

    async def can_list(self, res: ResourceInfo, namespace: str | None = None, label_selector: str | None = None,
                       timeout: float = 10.0) -> None:  # noqa: ASYNC109 - the check's own deadline
        """One ``list ?limit=1`` of a type, on the probe's connection: it proves the identity may
        still list what a long-open watch streams (a revoked binding ends only new requests). It
        is one key from etcd, whatever the number of objects. Raises the ``KubeError``."""
        params = {"limit": "1", **({"labelSelector": label_selector} if label_selector else {})}
        async with self._open("GET", res.path(namespace), params, verb="list", what=_describe(res, namespace),
                              total=timeout, probe=True) as resp:
            await resp.read()

    async def _get_document(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """A large JSON document (an OpenAPI one is megabytes), decoded off the event loop."""
        async with self._open("GET", path, params, verb="get", what=path) as resp:
            body = await resp.read()
        try:
            return await asyncio.get_running_loop().run_in_executor(None, json.loads, body)
        except ValueError:
            raise KubeError(f"get on {path} in {self.name}: the answer is not JSON", cluster=self.name) from None

    async def openapi_v2(self) -> Any:
        """The server's ``/openapi/v2`` document."""
        return await self._get_document("/openapi/v2")

    async def openapi_v3(self) -> list[Any]:
        """The server's ``/openapi/v3`` group-version documents (``api/v1``, ``apis/<group>/<version>``);
        empty where the server does not serve v3."""
        try:
            index = await self._get_json("/openapi/v3", None, verb="get", what="/openapi/v3")
        except NotFound:
            return []
        paths = index.get("paths") if isinstance(index, Mapping) else None
        docs: list[Any] = []
        for name, entry in sorted((paths or {}).items()):
            url = entry.get("serverRelativeURL") if isinstance(entry, Mapping) else None
            if not isinstance(url, str) or not (name == "api/v1" or name.count("/") == 2):
                continue
            path, _, query = url.partition("?")
            params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
            docs.append(await self._get_document(path, params))
        return docs

    # -- discovery -----------------------------------------------------------------------------

    async def resolve(self, api_version: str, kind: str) -> ResourceInfo | None:
        """The resource serving ``kind`` in ``api_version``, or None if the cluster has none.

        A miss asks the cluster again (at most every ``discovery_refresh`` seconds per group
        version), so custom resources resolve once their CRD is installed."""
        gv = api_version.strip()
        if not gv or not kind:
            return None
        entry = self._discovery.get(gv)
        if entry is not None and entry[1] is not None and kind in entry[1]:
            return entry[1][kind]
        lock = self._discovery_locks.setdefault(gv, asyncio.Lock())
        async with lock:
            entry = self._discovery.get(gv)
            fresh = entry is not None and monotonic() - entry[0] < self._discovery_refresh
            if entry is None or not fresh:
                entry = (monotonic(), await self._discover(gv))
                self._discovery[gv] = entry
        kinds = entry[1]
        return kinds.get(kind) if kinds else None

    def forget(self, api_version: str) -> None:
        """Ask discovery again at the next ``resolve`` of ``api_version`` (its CRD just appeared)."""
        self._discovery.pop(api_version, None)

    async def _discover(self, gv: str) -> dict[str, ResourceInfo] | None:
        group, _, version = gv.rpartition("/")
        path = f"/apis/{gv}" if group else f"/api/{gv}"
        try:
            doc = await self._get_json(path, None, verb="get", what=f"API group version {gv}")
        except NotFound:
            return None
        kinds: dict[str, ResourceInfo] = {}
        for r in doc.get("resources") or []:
            name = str(r.get("name") or "")
            if not name or "/" in name or not r.get("kind"):
                continue
            kinds.setdefault(r["kind"], ResourceInfo(group, version, r["kind"], name, bool(r.get("namespaced"))))
        return kinds

    # -- list and watch ------------------------------------------------------------------------

    async def list(self, res: ResourceInfo, namespace: str | None = None, label_selector: str | None = None,
                   limit: int = 500, *, compact: bool = False) -> tuple[list[dict[str, Any]], str]:
        """Every object of a type (in a namespace, matching a selector), following ``continue``
        pages; returns the items with ``apiVersion``/``kind`` set and the list's resourceVersion.

        ``compact``: the items in the cache's compact form (:mod:`exporter.kube.compact`); large
        pages are decoded and compacted in a worker process, off the event loop's core.

        If a continue token expires half-way (a slow list on a busy cluster), the list starts over,
        as client-go does, rather than returning an inconsistent mixture."""
        what = _describe(res, namespace)
        path = res.path(namespace)
        decode = functools.partial(_decode_compact, res) if compact else None
        for _ in range(3):
            items: list[dict[str, Any]] = []
            params: dict[str, str] = {"limit": str(limit)}
            if label_selector:
                params["labelSelector"] = label_selector
            try:
                while True:
                    page = await self._get_json(path, params, verb="list", what=what, decode=decode)
                    page_items = page.get("items") or []
                    if decode is None:  # decode_list_page has set them on compact items already
                        for item in page_items:
                            item["apiVersion"] = res.api_version
                            item["kind"] = res.kind
                    items.extend(page_items)
                    meta = page.get("metadata") or {}
                    token = meta.get("continue")
                    if not token:
                        return items, str(meta.get("resourceVersion") or "")
                    params["continue"] = token
            except KubeError as e:
                if e.status != 410 or "continue" not in params:
                    raise
                log.info("cluster %s: continue token for %s expired, listing again", self.name, what)
        raise KubeError(f"list on {what} in {self.name}: continue tokens kept expiring", status=410,
                        reason="Expired", cluster=self.name)

    async def watch(self, res: ResourceInfo, resource_version: str, namespace: str | None = None,
                    label_selector: str | None = None,
                    timeout: float = 60.0,  # noqa: ASYNC109 - the server-side timeoutSeconds
                    silence: float = 15.0,
                    ) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
        """Changes after ``resource_version`` as ``(type, object)``, BOOKMARKs included.

        The stream ends normally after about ``timeout`` seconds (the server closes it) or when the
        server drops it; an ``ERROR`` event becomes the matching ``KubeError`` (``ResourceExpired``
        for 410). A stream that sends nothing for ``timeout + silence`` seconds, when the server
        should have closed it, raises ``WatchSilent``: a connection that hangs must not be trusted
        as a quiet one. Use it under ``contextlib.aclosing`` so an abandoned stream releases its
        connection."""
        what = _describe(res, namespace)
        params = {"watch": "true", "allowWatchBookmarks": "true", "timeoutSeconds": str(max(1, int(timeout)))}
        if resource_version:
            params["resourceVersion"] = resource_version
        if label_selector:
            params["labelSelector"] = label_selector
        read_timeout = max(1, int(timeout)) + silence
        for attempt in (1, 2):
            try:
                async with self._open("GET", res.path(namespace), params, verb="watch", what=what,
                                      read_timeout=read_timeout) as resp:
                    buf = b""
                    chunks = resp.content.iter_any()
                    while True:
                        try:
                            chunk = await chunks.__anext__()
                        except StopAsyncIteration:
                            break
                        except (TimeoutError, aiohttp.ServerTimeoutError):
                            raise WatchSilent(f"watch on {what} in {self.name} sent nothing for "
                                              f"{read_timeout:.0f}s", cluster=self.name,
                                              silent_for=read_timeout) from None
                        buf += chunk
                        if len(buf) > MAX_EVENT_BYTES:
                            raise KubeError(f"watch on {what} in {self.name}: event larger than "
                                            f"{MAX_EVENT_BYTES} bytes", cluster=self.name)
                        while b"\n" in buf:
                            line, buf = buf.split(b"\n", 1)
                            if line.strip():
                                yield self._event(line, what)
                    if buf.strip():
                        yield self._event(buf, what)
                return
            except Unauthorized:
                # A 401 only ever comes before the first event: reload expiring credentials once.
                if attempt == 2 or not await self._reload_credentials():
                    raise

    def _event(self, line: bytes, what: str) -> tuple[str, dict[str, Any]]:
        try:
            ev = json.loads(line)
            type_, obj = str(ev["type"]), ev["object"]
        except (ValueError, KeyError, TypeError):
            raise KubeError(f"watch on {what} in {self.name}: malformed event", cluster=self.name) from None
        if type_ == "ERROR":
            code = int(obj.get("code") or 500) if isinstance(obj, dict) else 500
            raise error_from_status(self.name, code, obj, what, "watch")
        return type_, obj


#: List answers at least this large are decoded in a worker process; smaller ones cost less than the hop.
WORKER_PAGE_BYTES = 256 * 1024


async def _decode_compact(res: ResourceInfo, body: bytes) -> Any:
    if len(body) >= WORKER_PAGE_BYTES:
        return await in_worker(decode_list_page, body, res.api_version, res.kind)
    return decode_list_page(body, res.api_version, res.kind)
