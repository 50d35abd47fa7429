"""A simulated Kubernetes API server on 127.0.0.1, for the ``demo`` command and for tests.

It is a ``kmock.KubernetesEmulator`` so that tests can still declare extra answers with kmock's DSL
(``sim['get /openapi/v2'] << {...}``) for paths outside the Kubernetes API, answered by kmock's
reactions and fallbacks. The emulator's own storage and routing are too thin for what the agent
depends on (no resourceVersion, selectors, pagination, resumable watches, and its path parser
cannot take ``/api/v1/namespaces`` apart), so the Kubernetes API paths are answered here instead,
with the semantics checked against answers captured from a real 1.24 server
(``fixtures/real-apiserver-1.24``):

- one global, monotonically increasing ``resourceVersion``; ``uid``, ``creationTimestamp``,
  ``generation`` (bumped on spec changes; as captured, core, RBAC and autoscaling objects carry
  none) and ``managedFields`` attributed per field manager;
- lists with label and field selectors, ``limit``/``continue`` pages served from a consistent
  snapshot, list ``resourceVersion``; ``410 Expired`` below a compaction horizon (``compact()``),
  which a watch reports the way the real server does: HTTP 200 and one ``ERROR`` event carrying
  the 410 Status;
- watches that resume from a ``resourceVersion``, send ``BOOKMARK`` events, honour
  ``timeoutSeconds``, translate label-selector transitions into ADDED/DELETED as the watch cache
  does, and can be cut on demand (``drop_watches()``);
- discovery from the captured documents, extended by CustomResourceDefinitions;
- 401 for a wrong bearer token, 403 for resources made forbidden with ``forbid()``.

Every write verb over HTTP is refused with 403 and counted in ``write_attempts``: the agent is
read-only, and the simulated cluster is where that promise is checked. Tests and the demo change
state through Python methods (``apply``, ``patch``, ``set_status``, ``delete``) that emit the
watch events a real server would. ``patch`` is a JSON merge patch (lists are replaced whole, not
merged by key), and objects are stored as given: the server's defaulting is not reproduced, so a
test that needs a defaulted live object applies one captured from a real cluster.

kmock's ``Server`` wrapper is not used to listen: it patches aiohttp's global DNS resolution,
which would also catch the agent's own connections and must be unwound in strict LIFO order,
which several clusters in one process cannot promise. A plain ``aiohttp.web.ServerRunner`` serves
the same kmock handler instead.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import logging
import ssl
import uuid
from collections.abc import Iterable
from typing import Literal

import aiohttp.web
import kmock
import yaml

from exporter.model import ObjectKey
from exporter.simulator import managed
from exporter.simulator.catalogue import NO_GENERATION_GROUPS, Catalogue, SimResource
from exporter.simulator.http import HttpFace
from exporter.simulator.store import (
    CRD_KIND,
    ApiRoute,
    NameKey,
    Obj,
    SimulationError,
    StoredEvent,
    StoreKey,
    Watcher,
    merge_patch,
    now_timestamp,
    record_last_applied,
    spec_of,
    status_body,
    strategic_patch,
)

log = logging.getLogger(__name__)


class SimulatedCluster(HttpFace, kmock.KubernetesEmulator):
    """A read-only-over-HTTP Kubernetes API server with Python methods to change its state.

    ``token``: when set, every request must carry ``Authorization: Bearer <token>`` (else 401).
    ``ssl_context``: serve HTTPS (make it require client certificates to test certificate auth).
    ``port``: 0 picks a free port; a stopped cluster restarts on the port it had, with its state,
    which is how tests simulate an API server outage.
    ``user``: the identity named in 403 messages. ``bookmark_interval``: seconds between BOOKMARK
    events on idle watches that asked for them. ``history_limit``: changes kept for watch resumption
    before the oldest are compacted away (as etcd compaction would).
    """

    def __init__(self, *, token: str | None = None,
                 user: str = "system:serviceaccount:gitops:drift-reader",
                 bookmark_interval: float = 1.0, history_limit: int = 20000, port: int = 0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__()
        self.token = token
        self.ssl_context = ssl_context
        self.user = user
        self.bookmark_interval = bookmark_interval
        self.history_limit = history_limit
        self.catalogue = Catalogue()
        #: Write requests received over HTTP (all refused). The agent must leave this at 0.
        self.write_attempts = 0
        #: ``(method, path)`` of each refused write, for messages in failing tests.
        self.write_requests: list[tuple[str, str]] = []
        self._rv = 100
        self._horizon = 0
        self._stores: dict[StoreKey, dict[NameKey, Obj]] = collections.defaultdict(dict)
        self._owners: dict[tuple[StoreKey, NameKey], dict[tuple[str, str | None], tuple[set[managed.Path], str, str]]] = {}
        self._log: collections.deque[StoredEvent] = collections.deque()
        self._watchers: dict[StoreKey, set[Watcher]] = collections.defaultdict(set)
        self._forbidden: set[tuple[str, str, str, str | None]] = set()
        self._runner: aiohttp.web.ServerRunner | None = None
        self._site: aiohttp.web.TCPSite | None = None
        self._port = port

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> SimulatedCluster:
        await kmock.KubernetesEmulator.__aenter__(self)
        # Cancel a watch handler when its client goes away, so abandoned streams do not linger.
        server = aiohttp.web.Server(self, handler_cancellation=True, access_log=None)
        self._runner = aiohttp.web.ServerRunner(server, handle_signals=False)
        await self._runner.setup()
        self._site = aiohttp.web.TCPSite(self._runner, "127.0.0.1", self._port, ssl_context=self.ssl_context)
        await self._site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        """Stop listening; the stored state stays, and ``start()`` serves it again on the same port."""
        self.drop_watches()
        if self._runner is not None:
            await asyncio.sleep(0)
            await self._runner.cleanup()
            self._runner = None
            await kmock.KubernetesEmulator.__aexit__(self, None, None, None)

    async def __aenter__(self) -> SimulatedCluster:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:  # type: ignore[override]
        if not self._port:
            raise RuntimeError("the simulated cluster is not started")
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{self._port}"

    def write_kubeconfig(self, path: str, context: str = "sim", token: str | None = None, *,
                         ca_file: str | None = None, client_cert: str | None = None,
                         client_key: str | None = None, exec_command: list[str] | None = None) -> str:
        """Write a kubeconfig for this cluster; ``token`` defaults to the one the cluster expects.

        ``ca_file`` (HTTPS), ``client_cert``/``client_key`` and ``exec_command`` (an exec
        credential plugin, ``client.authentication.k8s.io/v1``) write the other kinds of
        credentials kubeconfig files carry."""
        user: Obj = {}
        if token is not None or (self.token is not None and exec_command is None):
            user["token"] = token if token is not None else self.token
        if client_cert:
            user["client-certificate"] = client_cert
            user["client-key"] = client_key
        if exec_command:
            user["exec"] = {"apiVersion": "client.authentication.k8s.io/v1", "command": exec_command[0],
                            "args": exec_command[1:], "interactiveMode": "Never"}
        cluster: Obj = {"server": self.url}
        if ca_file:
            cluster["certificate-authority"] = ca_file
        doc = {
            "apiVersion": "v1", "kind": "Config", "current-context": context, "preferences": {},
            "clusters": [{"name": context, "cluster": cluster}],
            "users": [{"name": f"{context}-user", "user": user}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": f"{context}-user"}}],
        }
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(doc, f, sort_keys=False)
        return path

    # -- knobs for tests ---------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        return self._rv

    @property
    def open_watches(self) -> int:
        return sum(len(ws) for ws in self._watchers.values())

    def compact(self) -> int:
        """Forget history up to now: older resourceVersions answer ``410 Expired`` from now on."""
        self._horizon = self._rv
        self._log.clear()
        return self._horizon

    def drop_watches(self, expired: bool = False) -> int:
        """End every open watch stream, as an API server restart or a load balancer would.

        ``expired=True`` first sends each stream an ``ERROR`` event with a 410 ``Expired`` Status,
        as a server does when a watcher falls too far behind; the client must then list again."""
        n = 0
        for ws in self._watchers.values():
            for w in ws:
                if expired:
                    w.queue.put_nowait(("ERROR", status_body(
                        410, "Expired", f"too old resource version: {self._horizon} ({self._rv})")))
                w.queue.put_nowait(None)
                n += 1
        return n

    def forbid(self, resource: str, verb: str = "list", namespace: str | None = None, *,
               cluster_wide_only: bool = False) -> None:
        """Make RBAC deny ``verb`` (``get``/``list``/``watch``/``*``) on ``resource``
        (``secrets`` or ``deployments.apps``), everywhere or in one namespace; with
        ``cluster_wide_only``, only requests across all namespaces are denied, as for an account
        bound by namespaced Roles."""
        plural, _, group = resource.partition(".")
        self._forbidden.add((group, plural, verb, "" if cluster_wide_only else namespace))

    def allow(self, resource: str, verb: str = "list", namespace: str | None = None) -> None:
        plural, _, group = resource.partition(".")
        self._forbidden.discard((group, plural, verb, namespace))

    # -- state changes (Python side) ---------------------------------------------------------

    def _resource_for(self, api_version: str, kind: str) -> SimResource:
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        res = self.catalogue.by_kind.get((group, kind))
        if res is None:
            raise SimulationError(f"no resource serves kind {kind!r} in {api_version!r}"
                                  " (apply its CustomResourceDefinition first)")
        return res

    def _locate(self, key: ObjectKey) -> tuple[SimResource, NameKey, Obj]:
        res = self.catalogue.by_kind.get((key.group, key.kind))
        if res is None:
            raise SimulationError(f"no resource serves kind {key.kind!r} in group {key.group!r}")
        nk = (key.namespace if res.namespaced else "", key.name)
        obj = self._stores[(res.group, res.plural)].get(nk)
        if obj is None:
            raise SimulationError(f"{key} does not exist")
        return res, nk, obj

    def get(self, key: ObjectKey) -> Obj | None:  # type: ignore[override]
        """The stored object (a copy), or None."""
        try:
            return copy.deepcopy(self._locate(key)[2])
        except SimulationError:
            return None

    def objects(self, group: str, kind: str) -> list[Obj]:  # type: ignore[override]
        res = self.catalogue.by_kind.get((group, kind))
        if res is None:
            return []
        return [copy.deepcopy(o) for o in self._stores[(res.group, res.plural)].values()]

    def apply(self, obj: Obj, manager: str = "kubectl-client-side-apply") -> Obj:
        """Create or replace an object as ``manager`` would with an Update; returns the stored copy.

        ``status`` is kept from the stored object unless ``obj`` carries one (then it is written as
        the ``status`` subresource by the same manager). As ``kubectl apply`` does, the default
        manager also records the applied object in the ``last-applied-configuration`` annotation,
        unless ``obj`` already carries one (e.g. a live object captured from a real cluster)."""
        if not isinstance(obj, dict) or not obj.get("kind") or not obj.get("apiVersion"):
            raise SimulationError("apply needs an object with apiVersion and kind")
        meta = obj.get("metadata") or {}
        if not meta.get("name"):
            raise SimulationError(f"{obj['kind']} without metadata.name")
        res = self._resource_for(obj["apiVersion"], obj["kind"])
        ns = (meta.get("namespace") or "default") if res.namespaced else ""
        nk = (ns, meta["name"])
        prev = self._stores[(res.group, res.plural)].get(nk)
        new = copy.deepcopy(obj)
        new_status = new.pop("status", None)
        if manager == "kubectl-client-side-apply":
            record_last_applied(new, ns if res.namespaced else None)
        if prev is not None and "status" in prev:
            new["status"] = copy.deepcopy(prev["status"])
        stored = self._write(res, nk, prev, new, manager, None)
        if new_status is not None:
            stored = self._write(res, nk, stored, dict(stored, status=new_status), manager, "status")
        return copy.deepcopy(stored)

    def load(self, obj: Obj) -> Obj:
        """Store an object exactly as a real API server returned it, for fixtures captured from one:
        ``managedFields``, ``status``, annotations and defaults are kept (field owners are read back
        from ``managedFields``, so later changes move ownership as on the real server); only
        ``uid`` and ``resourceVersion`` are this server's own."""
        res = self._resource_for(obj["apiVersion"], obj["kind"])
        meta = obj.get("metadata") or {}
        nk = ((meta.get("namespace") or "default") if res.namespaced else "", meta["name"])
        store = (res.group, res.plural)
        prev = self._stores[store].get(nk)
        new = copy.deepcopy(obj)
        new["metadata"]["uid"] = str(uuid.uuid4())
        owners = self._owners[(store, nk)] = {}
        for entry in new["metadata"].get("managedFields") or []:
            owners[(entry["manager"], entry.get("subresource"))] = (
                managed.from_fields_v1(entry.get("fieldsV1") or {}), entry.get("time") or now_timestamp(),
                entry.get("apiVersion") or res.api_version)
        return copy.deepcopy(self._commit(res, nk, prev, new, "ADDED" if prev is None else "MODIFIED"))

    def patch(self, key: ObjectKey, patch: Obj, manager: str = "kubectl-patch",  # type: ignore[override]
              patch_type: Literal["strategic", "merge"] = "strategic") -> Obj:
        """Patch an object as ``manager``; a ``status`` key writes the status subresource.

        ``strategic`` (``kubectl patch``'s default) merges keyed lists such as containers item by
        item; custom resources only take ``merge`` patches on a real server, so they always get one."""
        res, nk, prev = self._locate(key)
        patch = copy.deepcopy(patch)
        status_patch = patch.pop("status", None)
        stored = prev
        builtin = (res.group, res.version, res.plural) in self.catalogue.builtin
        merge = strategic_patch if patch_type == "strategic" and builtin else merge_patch
        if patch:
            body = merge(prev, patch)
            body["metadata"] = dict(body.get("metadata") or {}, name=prev["metadata"]["name"])
            stored = self._write(res, nk, prev, body, manager, None)
        if status_patch is not None:
            stored = self._write(res, nk, stored, merge(stored, {"status": status_patch}), manager, "status")
        return copy.deepcopy(stored)

    def set_status(self, key: ObjectKey, status: Obj, manager: str = "kube-controller-manager") -> Obj:
        """Replace the ``status`` of an object, as a controller writing the status subresource."""
        res, nk, prev = self._locate(key)
        return copy.deepcopy(self._write(res, nk, prev, dict(prev, status=copy.deepcopy(status)),
                                         manager, "status"))

    def delete(self, group: str, kind: str, namespace: str, name: str) -> Obj | None:  # type: ignore[override]
        """Delete an object (objects with finalizers get a deletionTimestamp and stay until
        a patch removes their finalizers). Returns the last state, or None if it did not exist."""
        res = self.catalogue.by_kind.get((group, kind))
        if res is None:
            return None
        nk = (namespace if res.namespaced else "", name)
        prev = self._stores[(res.group, res.plural)].get(nk)
        if prev is None:
            return None
        meta = prev.get("metadata") or {}
        if meta.get("finalizers"):
            if meta.get("deletionTimestamp"):
                return copy.deepcopy(prev)
            marked = copy.deepcopy(prev)
            marked["metadata"].update(deletionTimestamp=now_timestamp(), deletionGracePeriodSeconds=0)
            return copy.deepcopy(self._commit(res, nk, prev, marked, "MODIFIED"))
        return copy.deepcopy(self._remove(res, nk, prev))

    def _remove(self, res: SimResource, nk: NameKey, prev: Obj) -> Obj:
        gone = copy.deepcopy(prev)
        self._rv += 1
        gone["metadata"]["resourceVersion"] = str(self._rv)
        del self._stores[(res.group, res.plural)][nk]
        self._owners.pop(((res.group, res.plural), nk), None)
        self._record(StoredEvent(self._rv, (res.group, res.plural), "DELETED", nk, gone, prev))
        if (res.group, res.kind) == CRD_KIND:
            for cr in self.catalogue.remove_crd(prev):
                for cr_nk, cr_obj in list(self._stores[(cr.group, cr.plural)].items()):
                    self._remove(cr, cr_nk, cr_obj)
        return gone

    def _write(self, res: SimResource, nk: NameKey, prev: Obj | None, new: Obj, manager: str,
               subresource: str | None) -> Obj:
        store = (res.group, res.plural)
        new = copy.deepcopy(new)  # callers build it from the stored object; never alter history
        meta = new.setdefault("metadata", {})
        for k in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields",
                  "deletionTimestamp", "deletionGracePeriodSeconds"):
            meta.pop(k, None)
        meta["name"] = nk[1]
        if res.namespaced:
            meta["namespace"] = nk[0]
        else:
            meta.pop("namespace", None)
        new["apiVersion"] = new.get("apiVersion") or res.api_version
        new["kind"] = res.kind
        pmeta = (prev or {}).get("metadata") or {}
        meta["uid"] = pmeta.get("uid") or str(uuid.uuid4())
        meta["creationTimestamp"] = pmeta.get("creationTimestamp") or now_timestamp()
        for k in ("deletionTimestamp", "deletionGracePeriodSeconds"):
            if k in pmeta:
                meta[k] = pmeta[k]
        if res.group not in NO_GENERATION_GROUPS:
            gen = int(pmeta.get("generation") or 0)
            meta["generation"] = gen + 1 if prev is None or spec_of(prev) != spec_of(new) else gen
        self._attribute(store, nk, prev, new, manager, subresource)
        if (res.group, res.kind) == CRD_KIND and prev is None and "status" not in new:
            new["status"] = {
                "acceptedNames": (new.get("spec") or {}).get("names") or {},
                "conditions": [
                    {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                     "message": "no conflicts found", "lastTransitionTime": now_timestamp()},
                    {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                     "message": "the initial names have been accepted", "lastTransitionTime": now_timestamp()}],
                "storedVersions": [v["name"] for v in (new.get("spec") or {}).get("versions") or []
                                   if v.get("storage")]}
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            assert prev is not None
            return self._remove(res, nk, prev)
        return self._commit(res, nk, prev, new, "ADDED" if prev is None else "MODIFIED")

    def _attribute(self, store: StoreKey, nk: NameKey, prev: Obj | None, new: Obj, manager: str,
                   subresource: str | None) -> None:
        """Move field ownership for an Update by ``manager`` and render ``managedFields``."""
        owners = self._owners.setdefault((store, nk), {})
        before = managed.field_values(prev or {}, subresource)
        after = managed.field_values(new, subresource)
        changed = managed.changed_paths(before, after)
        now = now_timestamp()
        for (_, sub), (paths, _, _) in owners.items():
            if sub == subresource:
                paths -= changed
        mine, _, _ = owners.get((manager, subresource), (set(), "", ""))
        gained = {p for p in changed if p in after}
        if gained or (manager, subresource) in owners:
            owners[(manager, subresource)] = (mine | gained, now, new["apiVersion"])
        for k in [k for k, (paths, _, _) in owners.items() if not paths]:
            del owners[k]
        entries = []
        for (mgr, sub), (paths, when, api_version) in owners.items():
            entry: Obj = {"manager": mgr, "operation": "Update", "apiVersion": api_version, "time": when,
                          "fieldsType": "FieldsV1", "fieldsV1": managed.to_fields_v1(paths)}
            if sub:
                entry["subresource"] = sub
            entries.append(entry)
        if entries:
            new["metadata"]["managedFields"] = entries

    def _commit(self, res: SimResource, nk: NameKey, prev: Obj | None, new: Obj, type_: str) -> Obj:
        self._rv += 1
        new["metadata"]["resourceVersion"] = str(self._rv)
        self._stores[(res.group, res.plural)][nk] = new
        self._record(StoredEvent(self._rv, (res.group, res.plural), type_, nk, new, prev))
        if (res.group, res.kind) == CRD_KIND:
            self.catalogue.add_crd(new)
        return new

    def _record(self, ev: StoredEvent) -> None:
        self._log.append(ev)
        while len(self._log) > self.history_limit:
            self._horizon = self._log.popleft().rv
        for w in self._watchers.get(ev.store, ()):
            seen = w.translate(ev)
            if seen is not None:
                w.queue.put_nowait(seen)

    def _state_at(self, store: StoreKey, rv: int) -> dict[NameKey, Obj]:
        state = dict(self._stores[store])
        for ev in reversed(self._log):
            if ev.rv <= rv:
                break
            if ev.store != store:
                continue
            if ev.prev is None:
                state.pop(ev.key, None)
            else:
                state[ev.key] = ev.prev
        return state

    async def __call__(self, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        """Answer Kubernetes paths here; hand anything else to kmock's reactions and fallbacks."""
        if self.token is not None and raw.headers.get("Authorization") != f"Bearer {self.token}":
            return self._status(401, "Unauthorized", "Unauthorized")
        route = ApiRoute.parse(raw.path)
        if raw.method != "GET":
            return self._refuse_write(route, raw)
        if route is None and raw.path.startswith("/openapi/"):
            # The simulator keeps no OpenAPI document: it answers as a server that serves none, in
            # the server's words, not with the mock library's advice on declaring one.
            return self._not_found_path()
        if route is None and raw.path.rstrip("/") not in ("/version", "/readyz", "/api", "/apis"):
            del self._requests[:-200]  # kmock keeps every request; a long demo must not grow without end
            return await super().__call__(raw)
        try:
            return await self._answer(route, raw)
        except Exception as e:
            return await self._render_error(e)

    def apply_all(self, objs: Iterable[Obj], manager: str = "kubectl-client-side-apply") -> list[Obj]:
        """Apply several objects in order (CRDs before their custom resources)."""
        return [self.apply(o, manager) for o in objs]
