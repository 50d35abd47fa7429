"""The simulated cluster's HTTP face: routes, lists, watches and error bodies as a 1.24 server sends them."""


from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import json
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp.web
import kmock

from exporter.kube.selectors import (
    FieldRequirement,
    Requirement,
    SelectorError,
    fields_match,
    labels_match,
    parse_field_selector,
    parse_label_selector,
)
from exporter.simulator.catalogue import Catalogue, SimResource
from exporter.simulator.store import (
    CONTINUE_EXPIRED,
    WRITE_VERBS,
    ApiRoute,
    NameKey,
    Obj,
    StoredEvent,
    StoreKey,
    Watcher,
    status_body,
)

log = logging.getLogger(__name__)



class HttpFace:
    """Answers Kubernetes API requests from the state :class:`SimulatedCluster` keeps; mixed into it."""

    # Kept by SimulatedCluster; declared here for the type checker.
    token: str | None
    user: str
    bookmark_interval: float
    catalogue: Catalogue
    write_attempts: int
    write_requests: list[tuple[str, str]]
    _rv: int
    _horizon: int
    _stores: dict[StoreKey, dict[NameKey, Obj]]
    _watchers: dict[StoreKey, set[Watcher]]
    _forbidden: set[tuple[str, str, str, str | None]]
    _log: collections.deque[StoredEvent]

    def _state_at(self, store: StoreKey, rv: int) -> dict[NameKey, Obj]:
        raise NotImplementedError

    # -- HTTP --------------------------------------------------------------------------------

    def _json(self, body: Any, status: int = 200) -> aiohttp.web.Response:
        return aiohttp.web.Response(body=json.dumps(body, separators=(",", ":")).encode(), status=status,
                                    content_type="application/json")

    def _status(self, code: int, reason: str, message: str,
                details: Mapping[str, Any] | None = None) -> aiohttp.web.Response:
        return self._json(status_body(code, reason, message, details), code)

    async def _render_error(self, exc: Exception) -> aiohttp.web.StreamResponse:
        if isinstance(exc, kmock.KubernetesError):  # e.g. kmock's "no reaction for this path" 404
            return self._status(exc.status, "NotFound" if exc.status == 404 else (exc.reason or "InternalError"),
                                exc.message or "the server could not find the requested resource", {})
        log.error("simulated cluster failed to answer: %r", exc)
        return self._status(500, "InternalError", f"an error on the server has prevented the request "
                                                   f"from succeeding: {exc!r}")

    async def _answer(self, route: ApiRoute | None, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        path = raw.path.rstrip("/") or "/"
        if path == "/version":
            return self._json(self.catalogue.version_doc)
        if path == "/readyz":  # the agent's probe; the real server answers "ok" as plain text
            return aiohttp.web.Response(text="ok", content_type="text/plain")
        if path == "/api":
            return self._json(self.catalogue.api_doc)
        if path == "/apis":
            return self._json(self.catalogue.apis_doc)
        assert route is not None
        if route.plural is None:
            if route.version is None:
                gdoc = self.catalogue.group_doc(route.group)
                return self._json(gdoc) if gdoc else self._not_found_path()
            doc = self.catalogue.lists.get(f"{route.group}/{route.version}" if route.group else route.version)
            return self._json(doc) if doc else self._not_found_path()
        return await self._serve_resource(route, raw)

    def _not_found_path(self) -> aiohttp.web.Response:
        return self._status(404, "NotFound", "the server could not find the requested resource", {})

    def _refuse_write(self, request: ApiRoute | None, raw: aiohttp.web.BaseRequest) -> aiohttp.web.Response:
        self.write_attempts += 1
        self.write_requests.append((raw.method, raw.path))
        log.warning("simulated cluster refused a write: %s %s", raw.method, raw.path)
        verb = WRITE_VERBS.get(raw.method, raw.method.lower())
        if request is None or request.plural is None:
            return self._status(403, "Forbidden", f'forbidden: User "{self.user}" cannot {raw.method.lower()} '
                                                  f'path "{raw.path}"', {})
        if verb == "delete" and request.name is None:
            verb = "deletecollection"
        group, plural = request.group, request.plural
        where = f'in the namespace "{request.namespace}"' if request.namespace else "at the cluster scope"
        qualified = f"{plural}.{group}" if group else plural
        details: Obj = {"group": group, "kind": plural} if group else {"kind": plural}
        if request.name:
            details["name"] = request.name
        return self._status(403, "Forbidden", f'{qualified} is forbidden: User "{self.user}" cannot {verb} '
                                              f'resource "{plural}" in API group "{group}" {where}', details)

    def _forbidden_for(self, res: SimResource, verb: str, namespace: str | None) -> bool:
        scopes: tuple[str | None, ...] = (namespace, None) if namespace is not None else (None, "")
        for v in (verb, "*"):
            for ns in scopes:
                if (res.group, res.plural, v, ns) in self._forbidden:
                    return True
        return False

    async def _serve_resource(self, request: ApiRoute,
                              raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        res = self.catalogue.by_path.get((request.group, request.version or "", request.plural or ""))
        if res is None or (request.namespace is not None and not res.namespaced):
            return self._not_found_path()
        if request.subresource not in (None, "status"):
            return self._not_found_path()
        params = raw.query
        watching = params.get("watch") in ("1", "true", "True")
        verb = "watch" if watching else ("get" if request.name else "list")
        if self._forbidden_for(res, verb, request.namespace):
            where = f'in the namespace "{request.namespace}"' if request.namespace else "at the cluster scope"
            details: Obj = {"group": res.group, "kind": res.plural} if res.group else {"kind": res.plural}
            if request.name:
                details["name"] = request.name
            return self._status(403, "Forbidden", f'{res.qualified} is forbidden: User "{self.user}" cannot '
                                                  f'{verb} resource "{res.plural}" in API group "{res.group}" '
                                                  f'{where}', details)
        if verb == "get":
            assert request.name is not None
            obj = self._stores[(res.group, res.plural)].get((request.namespace or "", request.name))
            if obj is None:
                details = {"group": res.group, "kind": res.plural} if res.group else {"kind": res.plural}
                details["name"] = request.name
                return self._status(404, "NotFound", f'{res.qualified} "{request.name}" not found', details)
            return self._json(dict(obj, apiVersion=res.api_version))
        try:
            labels = parse_label_selector(params.get("labelSelector"))
            fields = parse_field_selector(params.get("fieldSelector"))
        except SelectorError as e:
            return self._status(400, "BadRequest", str(e))
        if request.name:
            fields = fields + (FieldRequirement("metadata.name", False, request.name),)
        if watching:
            return await self._answer_watch(res, request.namespace, labels, fields, raw)
        return self._answer_list(res, request.namespace, labels, fields, params)

    def _answer_list(self, res: SimResource, namespace: str | None, labels: tuple[Requirement, ...],
                    fields: tuple[FieldRequirement, ...], params: Mapping[str, str]) -> aiohttp.web.Response:
        store = (res.group, res.plural)
        start = ""
        try:
            limit = int(params.get("limit") or 0)
        except ValueError:
            return self._status(400, "BadRequest", f"invalid limit {params.get('limit')!r}")
        rv = self._rv
        if params.get("continue"):
            try:
                token = json.loads(base64.urlsafe_b64decode(params["continue"] + "=" * (-len(params["continue"]) % 4)))
                rv, start = int(token["rv"]), str(token["start"])
            except (ValueError, KeyError, TypeError, binascii.Error):
                return self._status(400, "BadRequest", "continue key is not valid: incorrect encoded start "
                                                       "resourceVersion (version meta.k8s.io/v1)")
            if rv < self._horizon:
                return self._status(410, "Expired", CONTINUE_EXPIRED)
        elif params.get("resourceVersion") not in (None, "", "0") and (
                params.get("resourceVersionMatch") == "Exact" or limit):
            try:
                rv = int(params["resourceVersion"])
            except ValueError:
                return self._status(400, "BadRequest", f"invalid resource version: {params['resourceVersion']!r}")
            if rv < self._horizon:
                return self._status(410, "Expired", "The resourceVersion for the provided list is too old.")
            rv = min(rv, self._rv)
        state = self._state_at(store, rv) if rv != self._rv else self._stores[store]

        def sort_key(nk: NameKey) -> str:
            return f"{nk[0]}/{nk[1]}" if res.namespaced and namespace is None else nk[1]

        selected = sorted(
            ((sort_key(nk), obj) for nk, obj in state.items()
             if (namespace is None or nk[0] == namespace)
             and labels_match(labels, obj) and fields_match(fields, obj)),
            key=lambda t: t[0])
        if start:
            selected = [t for t in selected if t[0] >= start]
        meta: Obj = {"resourceVersion": str(rv)}
        if limit and len(selected) > limit:
            last = selected[limit - 1][0]
            token_json = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": last + "\x00"},
                                    separators=(",", ":"))
            meta["continue"] = base64.urlsafe_b64encode(token_json.encode()).decode().rstrip("=")
            meta["remainingItemCount"] = len(selected) - limit
            selected = selected[:limit]
        items = [{k: v for k, v in obj.items() if k not in ("apiVersion", "kind")} for _, obj in selected]
        return self._json({"apiVersion": res.api_version, "items": items, "kind": f"{res.kind}List",
                           "metadata": meta})

    async def _answer_watch(self, res: SimResource, namespace: str | None, labels: tuple[Requirement, ...],
                           fields: tuple[FieldRequirement, ...],
                           raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        params = raw.query
        store = (res.group, res.plural)
        since = params.get("resourceVersion") or ""
        if since not in ("", "0"):
            try:
                since_rv = int(since)
            except ValueError:
                return self._status(400, "BadRequest", f"invalid resource version: {since!r}")
            if since_rv < self._horizon:
                # As the real server does once a watch is admitted: 200, then one ERROR event.
                expired = aiohttp.web.StreamResponse(status=200)
                expired.content_type = "application/json"
                await expired.prepare(raw)
                await self._send(expired, "ERROR", status_body(
                    410, "Expired", f"too old resource version: {since_rv} ({self._horizon})"), res)
                await expired.write_eof()
                return expired
        bookmarks = params.get("allowWatchBookmarks") in ("1", "true", "True")
        try:
            timeout = float(params["timeoutSeconds"]) if params.get("timeoutSeconds") else None
        except ValueError:
            return self._status(400, "BadRequest", f"invalid timeoutSeconds {params['timeoutSeconds']!r}")

        watcher = Watcher(store, namespace, labels, fields)
        # Registering and collecting the backlog happen without an await in between, so no change
        # can fall into a gap between the two.
        if since in ("", "0"):
            backlog = [("ADDED", o) for _, o in sorted(self._stores[store].items()) if watcher.matches(o)]
        else:
            backlog = [seen for ev in self._log if ev.rv > since_rv and ev.store == store
                       for seen in [watcher.translate(ev)] if seen is not None]
        self._watchers[store].add(watcher)
        response = aiohttp.web.StreamResponse(status=200)
        response.content_type = "application/json"
        response.enable_chunked_encoding()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout is not None else None
        try:
            await response.prepare(raw)
            for type_, obj in backlog:
                await self._send(response, type_, obj, res)
            await self._stream(response, watcher, res, bookmarks, deadline)
            await response.write_eof()
        except ConnectionResetError:
            pass
        finally:
            self._watchers[store].discard(watcher)
        return response

    async def _stream(self, response: aiohttp.web.StreamResponse, watcher: Watcher, res: SimResource,
                      bookmarks: bool, deadline: float | None) -> None:
        """Send changes as they come, bookmarks while idle, until the deadline or a dropped watch."""
        loop = asyncio.get_running_loop()
        while True:
            wait = self.bookmark_interval if bookmarks else None
            if deadline is not None:
                left = deadline - loop.time()
                if left <= 0:
                    return
                wait = left if wait is None else min(wait, left)
            try:
                item = await asyncio.wait_for(watcher.queue.get(), wait)
            except TimeoutError:
                if bookmarks and (deadline is None or loop.time() < deadline):
                    await self._send(response, "BOOKMARK", {
                        "kind": res.kind, "apiVersion": res.api_version,
                        "metadata": {"resourceVersion": str(self._rv), "creationTimestamp": None}}, res)
                continue
            if item is None:
                return
            await self._send(response, item[0], item[1], res)

    @staticmethod
    async def _send(response: aiohttp.web.StreamResponse, type_: str, obj: Obj, res: SimResource) -> None:
        if type_ not in ("BOOKMARK", "ERROR"):
            obj = dict(obj, apiVersion=res.api_version)
        line = json.dumps({"type": type_, "object": obj}, separators=(",", ":")) + "\n"
        await response.write(line.encode())

