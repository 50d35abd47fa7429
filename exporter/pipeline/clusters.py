"""The clusters an agent reads: per cluster, its client, its live cache and what the agent learnt
about it (which resource types it serves, which it may not read, its CRD and OpenAPI schemas).

A :class:`Cluster` connects and starts watches on demand, and routes its own watch events: it
owns its indexes (:class:`~exporter.pipeline.routing.EventIndex`), keeps them current with
:func:`~exporter.pipeline.routing.apply_event`, and hands the agent only the apps to evaluate
again. :class:`ClusterView` is the read-only face the evaluation
(:mod:`exporter.pipeline.evaluation`) compares against.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from exporter.clock import Clock, SystemClock
from exporter.config_types import AppConfig, ClusterConfig
from exporter.diff.openapi import ServerSchemas
from exporter.diff.records import Record
from exporter.kube.cache import Informer, LiveCache
from exporter.kube.client import KubeClient, ResourceInfo
from exporter.kube.errors import Forbidden, KubeError
from exporter.kube.helm_releases import HELM_MANAGER, ReleaseRecord, read_release, release_of
from exporter.kube.probing import ClusterProbe, plan
from exporter.model import Blind, KubeObject, ObjectKey
from exporter.pipeline import routing
from exporter.pipeline.evaluation import DesiredObject
from exporter.pipeline.routing import EventIndex, Marks, Tracking

log = logging.getLogger("exporter.agent")

#: Kinds watched on every cluster so that objects deleted from Git but still running are found
#: even when no app declares that kind any more.
EXTRANEOUS_KINDS: tuple[tuple[str, str], ...] = (
    ("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "Service"), ("v1", "ServiceAccount"),
    ("v1", "PersistentVolumeClaim"), ("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"), ("batch/v1", "Job"), ("batch/v1", "CronJob"),
    ("networking.k8s.io/v1", "Ingress"), ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("rbac.authorization.k8s.io/v1", "Role"), ("rbac.authorization.k8s.io/v1", "RoleBinding"),
)

#: Groups whose kinds are built in: their objects never wait for a CRD's schema.
BUILTIN_GROUPS = frozenset({"", "apps", "batch", "autoscaling", "policy", "extensions"})

#: What a cluster tells its owner: the apps an event concerns (with the event's key and object,
#: None when deleted), and a watch that went stale or came back.
OnMarks = Callable[["Cluster", Marks, ObjectKey, "KubeObject | None"], None]
OnStale = Callable[["Cluster", Informer, bool], None]


def _ignore_marks(_cluster: Cluster, _marks: Marks, _key: ObjectKey, _obj: KubeObject | None) -> None:
    return None


def _ignore_stale(_cluster: Cluster, _informer: Informer, _stale: bool) -> None:
    return None


@dataclass(eq=False)
class Cluster:
    config: ClusterConfig
    client: KubeClient | None = None
    cache: LiveCache | None = None
    error: str | None = None
    resources: dict[tuple[str, str], ResourceInfo | None] = field(default_factory=dict)
    #: Resource types cached, as (group, version, kind): each app reads the version Git declares.
    watched: set[tuple[str, str, str]] = field(default_factory=set)
    forbidden: dict[tuple[str, str], str] = field(default_factory=dict)
    #: Tracked objects, the apps declaring each object, CRD schemas: kept current from watch events.
    index: EventIndex = field(default_factory=EventIndex)
    #: The apps' tracking settings the events are read with (set with :meth:`retrack`).
    tracking: Tracking = field(default_factory=Tracking)
    watched_ns: set[tuple[tuple[str, str, str], str]] = field(default_factory=set)
    crds_tried: bool = False
    #: The server's own OpenAPI document; None until read (or where it cannot be read).
    openapi: ServerSchemas | None = None
    openapi_tried: bool = False
    #: Helm releases read, by (namespace, name): the resource versions of the live objects of the
    #: release when it was read, and the record. Helm changes its objects when it deploys, so a
    #: change of theirs is when to read the release again.
    helm_records: dict[tuple[str, str], tuple[frozenset[tuple[ObjectKey, str]], ReleaseRecord | None]] = \
        field(default_factory=dict)
    #: How long a watch may fail before its apps are Unknown (the config's ``staleAfter``).
    stale_after: float = 30.0
    #: The check that the server still answers and still lets the agent list (while connected).
    probe: ClusterProbe | None = None
    #: Apps that wait for a kind the cluster does not serve yet, by (group, kind): a CRD of that
    #: kind appearing evaluates them again at once.
    waiting: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    on_marks: OnMarks = _ignore_marks
    on_stale: OnStale = _ignore_stale
    clock: Clock = field(default_factory=SystemClock)

    async def connect(self) -> None:
        """Load credentials and start watching the kinds extraneous objects are looked for in.

        A cluster that cannot be reached makes its apps Unknown (with the reason) and is retried on
        every full pass; it never stops the agent or the other clusters.
        """
        try:
            if self.client is None:
                self.client = await KubeClient.connect(self.config)
                self.cache = LiveCache(self.client, on_event=self.apply_event,
                                          on_stale=functools.partial(self.on_stale, self),
                                          stale_after=self.stale_after, clock=self.clock)
                self.probe = ClusterProbe(self.client, self.cache, self.clock, self.stale_after)
            for api_version, kind in EXTRANEOUS_KINDS:
                res = await self.resource(api_version, kind)
                if res is not None:
                    problem = await self.watch(res)
                    if problem is not None:
                        log.info("not watching %s for extraneous objects: %s", res.plural, problem)
            await self._load_openapi()
            self.error = None
        except Exception as exc:
            self.error = str(exc) if isinstance(exc, KubeError) else \
                f"cluster {self.config.name} unreachable: {exc}"
            log.error("%s", self.error)

    async def retry(self) -> None:
        """The full pass's second chance: refusals (RBAC may have been granted since) and the CRD
        watch are tried again at their next use, and an unreachable cluster is connected again."""
        self.forbidden.clear()
        self.crds_tried = False
        if self.error is not None:
            await self.connect()

    async def resource(self, api_version: str, kind: str) -> ResourceInfo | None:
        key = (api_version, kind)
        if key not in self.resources or self.resources[key] is None:
            assert self.client is not None
            self.resources[key] = await self.client.resolve(api_version, kind)
        return self.resources[key]

    async def watch(self, res: ResourceInfo, namespace: str | None = None) -> str | None:
        """Start (once) the informer for a resource type; None when its objects are cached.

        Cluster-wide first; where RBAC allows only some namespaces (the chart's namespaced Roles),
        a namespaced type falls back to one informer per namespace the apps use. A refusal is
        remembered until the next full pass, so every evaluation does not ask again.
        """
        gk = (res.group, res.kind)
        gvk = (res.group, res.version, res.kind)
        if gvk in self.watched or (gvk, namespace) in self.watched_ns:
            return None
        assert self.cache is not None
        if gk not in self.forbidden:
            try:
                await self.cache.ensure(res)
            except Forbidden as exc:
                self.forbidden[gk] = str(exc)
            except KubeError as exc:
                return str(exc)
            else:
                self.watched.add(gvk)
                self._index(res)
                return None
        if not namespace or not res.namespaced:
            return self.forbidden[gk]
        try:
            await self.cache.ensure(res, namespace)
        except KubeError as exc:
            return str(exc)
        self.watched_ns.add((gvk, namespace))
        self._index(res)
        return None

    async def keep_probing(self) -> None:
        """The probe's rounds, for as long as the agent runs (a supervised task): while the cluster
        is not connected there is nothing to probe, and the full pass connects it again."""
        while True:
            if self.probe is not None and self.error is None:
                await self.probe.round()
            await self.clock.sleep(plan(self.stale_after, 0).period)

    def apply_event(self, key: ObjectKey, obj: KubeObject | None) -> None:
        """A watch event of this cluster: the indexes updated, the apps it concerns handed on."""
        marks = routing.apply_event(self.index, key, obj, self.tracking)
        if obj is not None and (key.group, key.kind) == routing.CRD:
            marks = self._crd_served(obj, marks)
        if marks:
            self.on_marks(self, marks, key, obj)

    async def _late_kind(self, app: str, api_version: str, kind: str) -> ResourceInfo | None:
        """A kind discovery did not know: served after all if its CRD has just arrived (discovery
        is asked again then); else None, with ``app`` waiting for the CRD's event."""
        group = api_version.rpartition("/")[0]
        if group not in BUILTIN_GROUPS:
            await self.watch_crds()  # so that its CRD's arrival is an event
        assert self.cache is not None
        if any(_defines(crd, group, kind) for crd in self.cache.objects(*routing.CRD)):
            assert self.client is not None
            self.client.forget(api_version)
            found = await self.resource(api_version, kind)
            if found is not None:
                return found
        self.waiting[(group, kind)].add(app)
        return None

    def _crd_served(self, crd: KubeObject, marks: Marks) -> Marks:
        """A CRD added or changed: discovery is asked again for its group versions, and the apps
        that wait for its kind are evaluated again now (not at the next full pass)."""
        spec = crd.get("spec") or {}
        group, kind = str(spec.get("group") or ""), str((spec.get("names") or {}).get("kind") or "")
        waiting = self.waiting.pop((group, kind), set())
        if not waiting:
            return marks
        for version in spec.get("versions") or []:
            if isinstance(version, dict) and self.client is not None:
                self.client.forget(f"{group}/{version.get('name')}")
        return Marks(tuple(sorted({*marks.apps, *waiting})), marks.apps_changed)

    def retrack(self, tracking: Tracking) -> None:
        """Read every cached object's mark again with new tracking settings: which apps exist,
        and the settings they use, are known only once the apps are (after start, after a reload)."""
        self.tracking = tracking
        for informer in self.cache.informers if self.cache is not None else ():
            for key, obj in list(informer.objects.items()):
                routing.track(self.index, key, obj, tracking)

    def declare(self, app: str, old: frozenset[ObjectKey], new: frozenset[ObjectKey]) -> None:
        """``app`` now declares the objects ``new`` of this cluster (it declared ``old``)."""
        routing.declare(self.index, app, old, new)

    def _index(self, res: ResourceInfo) -> None:
        assert self.cache is not None
        routing.index_listed(self.index, self.cache.objects(res.group, res.kind), self.tracking)

    async def place(self, app: AppConfig, desired: Iterable[KubeObject]) -> list[DesiredObject] | str:
        """Where each of Git's objects lives on this cluster and the version it is served in, with
        its type watched; or why the app cannot be judged now (not connected, a kind the cluster
        does not serve, a type it may not read, a watch stale for longer than the bound)."""
        if self.error is not None or self.client is None or self.cache is None:
            return Blind(self.error or f"cluster {self.config.name} is not connected")
        placed: list[DesiredObject] = []
        for obj in desired:
            meta = obj.get("metadata") or {}
            try:
                res = await self.resource(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
            except KubeError as exc:
                return Blind(exc)
            if res is None:
                res = await self._late_kind(app.name, str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
            if res is None:
                return (f"{obj.get('kind')} {meta.get('name')}: cluster {self.config.name} does not serve "
                        f"{obj.get('apiVersion')} {obj.get('kind')} (is its CRD installed?)")
            ns = str(meta.get("namespace") or app.destination.namespace) if res.namespaced else ""
            if res.group not in BUILTIN_GROUPS and not res.group.endswith(".k8s.io"):
                await self.watch_crds()
            problem = await self.watch(res, ns or None)
            if problem is not None:
                return Blind(problem)  # the agent may not read the type, or cannot list it now
            placed.append(DesiredObject(ObjectKey(res.group, res.kind, ns, str(meta["name"])), obj, res.version))
        stale = self.stale({(d.key.group, d.key.kind) for d in placed})
        return Blind(stale) if stale is not None else placed

    async def _load_openapi(self) -> None:
        """Read the server's OpenAPI document once per connection: it says which fields are
        quantities, how lists merge and which fields this server stores at all."""
        if self.openapi_tried or self.client is None:
            return
        self.openapi_tried = True
        try:
            document = await self.client.openapi_v2()
            try:
                v3 = await self.client.openapi_v3()
            except KubeError as exc:
                log.info("cluster %s: reading OpenAPI v2 only: %s", self.config.name, exc)
                v3 = []
            self.openapi = ServerSchemas(document, v3)
        except KubeError as exc:
            log.info("cluster %s: comparing built-in kinds with the shipped tables only: %s",
                     self.config.name, exc)

    async def watch_crds(self) -> None:
        """CRDs carry the schemas that say which custom-resource fields are quantities or
        int-or-string, and their defaults; without read access, custom resources compare as written."""
        if self.crds_tried:
            return
        self.crds_tried = True
        try:
            res = await self.resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
        except KubeError:
            return
        if res is not None:
            problem = await self.watch(res)
            if problem is not None:
                log.info("custom resources compare without schema hints: %s", problem)

    def stale(self, kinds: set[tuple[str, str]]) -> str | None:
        """Why the app's live objects cannot be trusted (a watch failing or silent for longer than the
        staleness bound), or None.

        A blip (a watch re-established within seconds) does not count: flapping to Unknown on every
        reconnect would be crying wolf.
        """
        assert self.cache is not None
        for informer in self.cache.informers:
            res = informer.scope.res
            if (res.group, res.kind) in kinds and informer.error is not None and informer.stale:
                return self.stale_reason(informer)
        return None

    def stale_reason(self, informer: Informer) -> str:
        now = self.clock.now()
        since = informer.error_since if informer.error_since is not None else now
        return (f"cluster {self.config.name}: cannot follow {informer.scope.res.plural} for "
                f"{now - since:.0f}s: {informer.error}")

    async def helm_release(self, release: tuple[str, str],
                           objects: frozenset[tuple[ObjectKey, str]]) -> ReleaseRecord | None:
        """Helm's record of ``release`` (namespace, name), read again only when one of its live
        ``objects`` (key, resourceVersion) changed since the last read."""
        known = self.helm_records.get(release)
        if known is not None and known[0] == objects:
            return known[1]
        assert self.client is not None
        secrets = await self.resource("v1", "Secret")
        configmaps = await self.resource("v1", "ConfigMap")
        record = await read_release(self.client, secrets, configmaps, *release)
        self.helm_records[release] = (objects, record)
        return record

    async def deployer_records(self, objects: Iterable[tuple[ObjectKey, str]],
                               storage_namespace: str | None = None) -> dict[ObjectKey, Record]:
        """Helm's record of each live object of ``objects`` (key, served version) that Helm installed,
        read from ``storage_namespace`` where the app's deployer keeps it there (helm-controller)."""
        assert self.cache is not None
        releases: dict[tuple[str, str], list[tuple[ObjectKey, KubeObject]]] = defaultdict(list)
        for key, version in objects:
            live = self.cache.get(key, version)
            release = release_of(live) if live is not None else None
            if live is not None and release is not None:
                releases[(storage_namespace or release[0], release[1])].append((key, live))
        found: dict[ObjectKey, Record] = {}
        for release, members in releases.items():
            stamp = frozenset((k, str((o.get("metadata") or {}).get("resourceVersion"))) for k, o in members)
            record = await self.helm_release(release, stamp)
            if record is None:
                continue
            for key, _ in members:
                manifest = record.find(key)
                if manifest is not None:
                    found[key] = Record(manifest, record.deployer, frozenset({HELM_MANAGER}))
        return found

    def view(self) -> ClusterView:
        return ClusterView(self)

    async def close(self) -> None:
        if self.cache is not None:
            await self.cache.close()
        if self.client is not None:
            await self.client.close()


def _defines(crd: KubeObject, group: str, kind: str) -> bool:
    spec = crd.get("spec") or {}
    return spec.get("group") == group and (spec.get("names") or {}).get("kind") == kind


class ClusterView:
    """One cluster's cache as the evaluation reads it."""

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster

    def get(self, key: ObjectKey, version: str) -> KubeObject | None:
        assert self._cluster.cache is not None
        return self._cluster.cache.get(key, version)

    def schema(self, key: ObjectKey, version: str) -> Any:
        crd = self._cluster.index.schemas.get((key.group, key.kind))
        if crd is not None:
            return crd
        openapi = self._cluster.openapi
        return openapi.hints(key.group, version, key.kind) if openapi is not None else None

    def tracked(self, app: str) -> Mapping[ObjectKey, KubeObject]:
        return self._cluster.index.tracked.get(app, {})
