"""The agent: keeps every app's status current from Git and cluster events.

Evaluation is incremental. Rendered manifests are cached per app and commit, live objects are kept
current by watches, and a watch event marks dirty only the apps that own (or track) the changed
object; a new commit marks dirty only the apps on that repository. A worker evaluates dirty apps
with bounded concurrency. A periodic full pass is the safety net, not the loop.

Everything runs on one event loop: Git, kustomize and Helm run as subprocesses or in executors
inside their stages, and the comparison and health checks are pure functions on cached dicts.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from exporter import diff as compare_mod
from exporter.clock import Clock, SystemClock, monotonic
from exporter.collector import building_long_lived
from exporter.config_types import AppConfig, ClusterConfig, Config
from exporter.git import GitCache
from exporter.health import HealthEngine
from exporter.history import HistoryBook, Transition
from exporter.instruments import EVALUATION_DURATION
from exporter.kube.cache import Informer
from exporter.kube.client import ResourceInfo
from exporter.kube.errors import KubeError
from exporter.model import (
    AppStatus,
    KubeObject,
    ObjectKey,
    ObjectStatus,
    Sync,
)
from exporter.notify import Notifier
from exporter.pipeline.clusters import BUILTIN_GROUPS, Cluster
from exporter.pipeline.desired import AppRuntime, Revisions, prepare_checkouts, update_desired
from exporter.pipeline.evaluation import DesiredObject, evaluate_objects
from exporter.pipeline.freezes import FreezeWatch
from exporter.pipeline.listing import AppLister
from exporter.pipeline.routing import Marks, Tracking
from exporter.pipeline.scheduling import Scheduler
from exporter.pipeline.sources import SourceWatch
from exporter.status import clocks, combine, good_states
from exporter.supervision import Supervisor
from exporter.windows import FreezeLog, FreezeViolation, WindowSchedule

log = logging.getLogger(__name__)

class Agent:
    """Evaluates the apps of one config (or of one shard of it) and publishes their statuses."""

    def __init__(self, config: Config, *, clock: Clock | None = None, shard: tuple[int, int] | None = None,
                 notifier: Notifier | None = None, cache_dir: str | None = None,
                 concurrency: int = 8, windows: WindowSchedule | None = None, keep_state: bool = True,
                 supervisor: Supervisor | None = None) -> None:
        """``keep_state=False`` (one-shot commands) neither reads nor writes the history file, which
        belongs to the running agent."""
        self.config = config
        self.clock = clock or SystemClock()
        self.shard = shard
        self.health = HealthEngine(config.health_checks)
        self.git = GitCache(cache_dir or config.cache_dir or _default_cache_dir(), config.repositories,
                            timeout=config.git_timeout)
        self.notifier = notifier
        # One schedule shared with the notifier (it mutes alerts in maintenance), updated in place.
        self.windows = windows or (notifier.windows if notifier is not None else None) or \
            WindowSchedule(config.windows, self.clock)
        if notifier is not None and notifier.windows is None:
            notifier.windows = self.windows
        self.freeze_log = FreezeLog(config.freeze_log, self.clock)
        self.history = HistoryBook((config.state_file or os.path.join(self.git.cache_dir, "app-state.json"))
                                   if keep_state else None)
        self._apps: dict[str, AppRuntime] = {}
        self._tracking = Tracking()
        self._clusters: dict[str, Cluster] = {c.name: self._new_cluster(c) for c in config.clusters}
        #: The latest status of every app; ``snapshot()`` hands out an immutable copy of it.
        self._latest: dict[str, tuple[AppConfig, AppStatus]] = {}
        self._snapshot: Mapping[str, tuple[AppConfig, AppStatus]] | None = None
        #: Every long-lived task of the agent runs under it; ``/readyz`` reports one that is down.
        self.supervisor = supervisor or Supervisor()
        self._scheduler = Scheduler(self._evaluate_known, concurrency, supervisor=self.supervisor)
        self._revisions = Revisions(self.git)
        self._sources = SourceWatch(self._revisions, self._apps.values, self._mark,
                                    lambda rts: self._publish(*((rt.config, rt.status) for rt in rts if rt.status)))
        self._ready = False
        self._resync_pending = False
        self._lister = AppLister(self.git, self._clusters, self.windows, shard)

    def _new_cluster(self, config: ClusterConfig) -> Cluster:
        return Cluster(config, stale_after=self.config.stale_after, on_marks=self._on_marks,
                       on_stale=self._on_stale, tracking=self._tracking, clock=self.clock)

    # ---- what the server and metrics read -------------------------------------------------------

    def snapshot(self) -> Mapping[str, tuple[AppConfig, AppStatus]]:
        """One consistent, never-mutated picture of every app's status. Copied when read after a
        change, not on every change: a cold start publishes thousands of statuses, and copying
        the whole mapping each time would cost time quadratic in the number of apps."""
        if self._snapshot is None:
            self._snapshot = MappingProxyType(dict(self._latest))
        return self._snapshot

    def ready(self) -> bool:
        return self.not_ready_reason() is None

    def not_ready_reason(self) -> str | None:
        """Why ``/readyz`` should say no: caches not listed yet, or a cluster the agent cannot
        see (unreachable, or a watch that has failed for longer than the staleness bound)."""
        never = self._lister.never_listed()
        if never is not None:
            return never
        down = self.supervisor.down()
        if down:
            return "; ".join(down.values())
        if not self._ready:
            return next((c.error for c in self._clusters.values() if c.error), "caches have not synced yet")
        for cluster in self._clusters.values():
            if cluster.error is not None:
                return cluster.error
            for informer in cluster.cache.informers if cluster.cache is not None else ():
                if informer.reported_stale:
                    return cluster.stale_reason(informer)
        return None

    def freezes(self) -> list[dict[str, Any]]:
        return self.freeze_log.to_json()

    def history_of(self, name: str) -> list[Transition]:
        """The app's state changes, oldest first (``/api/v1/apps/NAME/history``)."""
        return self.history.entries(name)

    def app(self, name: str) -> tuple[AppConfig, AppStatus] | None:
        return self._latest.get(name)

    def diff_text(self, app: AppConfig, status: AppStatus) -> str:
        parts = [compare_mod.unified_diff(o.key, o.diff) for o in status.objects if o.diff is not None
                 and o.diff.sync is Sync.OUT_OF_SYNC]
        parts += [f"--- {o.key} (absent from the cluster; Git declares it)\n" for o in status.objects
                  if not o.exists]
        parts += [f"+++ {o.key} (requires pruning: live, tracked for this app, not in Git)\n"
                  for o in status.objects if o.requires_pruning]
        return "".join(p if p.endswith("\n") else p + "\n" for p in parts if p)

    async def on_git_push(self, repo_urls: list[str], branch: str | None) -> int:
        """A push webhook: refetch the repository now and re-evaluate the apps on that branch."""
        return await self._sources.on_push(repo_urls, branch)

    async def poll_sources(self) -> None:
        """Fetch every Git repository and read every chart repository now (the poll interval's job);
        generators list their directories again, so a new directory is a new app, and a source
        that failed to list its apps is tried again."""
        await self._sources.poll()
        if self.config.generators or self._lister.errors:
            await self._resync_apps()

    # ---- life cycle ------------------------------------------------------------------------------

    async def start(self, *, watch: bool = True, only: str | None = None) -> None:
        """Work out the apps, connect, evaluate every app once (or only the app ``only``), then
        (with ``watch``) keep going."""
        if self.notifier is not None:
            await self.notifier.start()
        await self.history.load()
        with building_long_lived():
            if only is None and not self.config.app_sources:
                # Each cluster's apps are evaluated as soon as it is listed, while others still are;
                # the apps are known first, so each object is indexed once. Git is made ready meanwhile.
                await self._take_apps()
                await asyncio.gather(prepare_checkouts([rt.config for rt in self._apps.values()], self._revisions),
                                     *(self._connect_then_evaluate(c) for c in self._clusters.values()),
                                     self._evaluate_where(lambda cluster: cluster not in self._clusters))
            else:
                # Argo CD's Applications are read from the clusters, so those are connected first.
                await asyncio.gather(*(c.connect() for c in self._clusters.values()))
                await self._take_apps()
                if only is None:
                    await self._evaluate_where(lambda _: True)
                elif only in self._apps:
                    await self._scheduler.run_now(only)
        self._ready = all(c.error is None for c in self._clusters.values())
        if watch:
            self._scheduler.start([
                ("full-pass", self.config.interval, self._full_pass),
                ("git-poll", self.config.git_poll_interval, self.poll_sources),
                ("tick", 15.0, self._tick),
            ])

    async def _take_apps(self) -> None:
        for app in await self._all_apps():
            self._apps[app.name] = AppRuntime(app)
        self._retrack()

    async def _connect_then_evaluate(self, cluster: Cluster) -> None:
        await cluster.connect()
        await self._evaluate_where(lambda name: name == cluster.config.name)

    async def _evaluate_where(self, destination: Callable[[str], bool]) -> None:
        """Evaluate now every app whose destination cluster's name ``destination`` accepts."""
        await asyncio.gather(*(self._scheduler.run_now(name) for name, rt in list(self._apps.items())
                               if destination(rt.config.destination.cluster)))

    async def close(self) -> None:
        await self._scheduler.close()
        await self.history.save()
        await self.freeze_log.close()
        for cluster in self._clusters.values():
            await cluster.close()
        if self.notifier is not None:
            await self.notifier.close()

    async def reload(self, config: Config) -> None:
        """Take a new config, keeping the state of every app whose definition did not change."""
        old_clusters = {c.name: c for c in self.config.clusters}
        self.config = config
        self.health = HealthEngine(config.health_checks)
        self.windows.replace(config.windows)
        for c in config.clusters:
            if old_clusters.get(c.name) != c:
                old = self._clusters.pop(c.name, None)
                if old is not None:
                    await old.close()
                self._clusters[c.name] = self._new_cluster(c)
                await self._clusters[c.name].connect()
        for name in set(self._clusters) - {c.name for c in config.clusters}:
            await self._clusters.pop(name).close()
        await self._resync_apps()
        log.info("config reloaded: %d apps", len(self._apps))

    async def _resync_apps(self) -> None:
        """Work out the apps again (config, generators, Argo CD), keeping the state of every app
        whose definition did not change."""
        self._resync_pending = False
        new_apps = {a.name: a for a in await self._all_apps()}
        for name in set(self._apps) - set(new_apps):
            self._forget_app(name)
        for name, app in new_apps.items():
            rt = self._apps.get(name)
            if rt is None or rt.config != app:
                self._apps[name] = AppRuntime(app, status=rt.status if rt else None)
                self._mark(name)
        self._retrack()

    # ---- evaluation ------------------------------------------------------------------------------

    async def evaluate(self, name: str) -> AppStatus:
        """Evaluate one app now and publish its status."""
        rt = self._apps[name]
        started = monotonic()
        try:
            objects, error = await self._objects(rt)
        except Exception as exc:  # one broken app must never stop the others
            error = f"internal error: {type(exc).__name__}: {exc}"
            if error != rt.internal_error:
                log.exception("evaluation of app %s failed", name)
            rt.internal_error = error
            objects = []
        now = self.clock.now()
        verdict = combine(objects, error)
        good = good_states(rt.config.notifications)
        # After a restart the history book carries the clocks over while the state still holds.
        since, bad_since = clocks(rt.status or self.history.last_seen(name), verdict.state, now, good)
        frozen = self.windows.is_frozen(rt.config, now)
        status = AppStatus(
            name=name, state=verdict.state, sync=verdict.sync, health=verdict.health, reason=verdict.reason,
            revision=rt.sha, target_revision=rt.config.source.target_revision, objects=objects,
            since=since, bad_since=bad_since, evaluated_at=now, error=error, frozen=frozen,
        )
        if self.history.observe(status) is not None or not rt.status:
            status.state_changes = tuple((a, b, n) for (a, b), n in sorted(self.history.changes(name).items()))
        else:
            status.state_changes = rt.status.state_changes
        if rt.status is None or rt.status.state is not status.state:
            log.info("app %s is %s: %s", name, status.state.value, status.reason or "all good",
                     extra={"app": name, "state": status.state.value})
        rt.status = status
        self._publish((rt.config, status))
        EVALUATION_DURATION.observe(monotonic() - started)
        if self.notifier is not None and name in self._apps:
            try:
                await self.notifier.observe(rt.config, status)
            except Exception:
                log.exception("notifier failed for app %s", name)
        return status

    async def _evaluate_known(self, name: str) -> None:
        if name in self._apps:  # it may have gone with a reload meanwhile
            await self.evaluate(name)

    async def _objects(self, rt: AppRuntime) -> tuple[list[ObjectStatus], str | None]:
        app = rt.config
        if app.invalid is not None:
            return [], app.invalid
        source_error = self._sources.error_for(rt)
        if source_error is not None:
            return [], source_error
        problem = await update_desired(rt, self._revisions, self.clock, self.config.render_timeout,
                                       self._on_new_commit, self.config.kustomize_build_options)
        if problem is not None:
            return [], problem
        cluster = self._clusters.get(app.destination.cluster)
        if cluster is None:
            return [], f"no cluster named {app.destination.cluster!r}"
        if cluster.error is not None or cluster.client is None or cluster.cache is None:
            return [], cluster.error or f"cluster {cluster.config.name} is not connected"
        keyed: list[tuple[ObjectKey, KubeObject, ResourceInfo]] = []
        for obj in rt.desired:
            try:
                res = await cluster.resource(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
            except KubeError as exc:
                return [], str(exc)
            if res is None:
                return [], (f"{obj.get('kind')} {obj.get('metadata', {}).get('name')}: cluster "
                            f"{cluster.config.name} does not serve {obj.get('apiVersion')} {obj.get('kind')} "
                            "(is its CRD installed?)")
            ns = str((obj.get("metadata") or {}).get("namespace") or app.destination.namespace) \
                if res.namespaced else ""
            if res.group not in BUILTIN_GROUPS and not res.group.endswith(".k8s.io"):
                await cluster.watch_crds()
            problem = await cluster.watch(res, ns or None)
            if problem is not None:
                return [], problem
            keyed.append((ObjectKey(res.group, res.kind, ns, str(obj["metadata"]["name"])), obj, res))
        if (stale := cluster.stale({(res.group, res.kind) for _, _, res in keyed})) is not None:
            return [], stale
        self._set_owners(rt, cluster, frozenset(k for k, _, _ in keyed))
        records = await cluster.deployer_records((k, r.version) for k, _, r in keyed)
        result = evaluate_objects(app, [DesiredObject(k, o, r.version) for k, o, r in keyed],
                                  cluster.view(), self.health, rt.rendered_sha or "", records)
        rt.live_seen = result.seen
        return result.objects, None

    # ---- Git -------------------------------------------------------------------------------------

    def _on_new_commit(self, rt: AppRuntime, old: str, new: str) -> None:
        self._tell_freeze(self._freezes().new_commit(rt, old, new))

    async def _all_apps(self) -> list[AppConfig]:
        return await self._lister.apps(self.config)

    def app_names(self) -> list[str]:
        """Every app this agent evaluates, evaluated yet or not."""
        return sorted(self._apps)

    def listing_errors(self) -> list[str]:
        """Why an app generator or Argo CD source could not list its apps (at the last try)."""
        return list(self._lister.errors.values())

    def _retrack(self) -> None:
        """Hand every cluster the apps' tracking settings, which are known only once the apps are
        (after start, and after a reload); each reads its cached objects' marks again."""
        self._tracking = Tracking.of((rt.config for rt in self._apps.values()),
                                     from_argo=bool(self.config.app_sources))
        for cluster in self._clusters.values():
            cluster.retrack(self._tracking)

    def _on_marks(self, _cluster: Cluster, marks: Marks, key: ObjectKey, obj: KubeObject | None) -> None:
        """The apps a watch event concerns (worked out by the cluster): note freeze violations
        and evaluate them; a change of Argo CD's Applications lists the apps again."""
        if marks.apps_changed and not self._resync_pending:
            self._resync_pending = True
            self._scheduler.spawn(self._resync_apps())
        for name in marks.apps:
            rt = self._apps.get(name)
            if rt is not None:
                self._tell_freeze(self._freezes().live_change(rt, key, obj))
                self._mark(name)

    def _freezes(self) -> FreezeWatch:
        return FreezeWatch(self.windows, self.freeze_log, self.clock)

    def _tell_freeze(self, violation: FreezeViolation | None) -> None:
        if violation is not None and self.notifier is not None:
            self._scheduler.spawn(self.notifier.notify_freeze(violation))

    def _on_stale(self, cluster: Cluster, informer: Informer, stale: bool) -> None:
        """A watch crossed the staleness bound (or came back): re-evaluate at once every app that
        reads objects of that type on that cluster, so it turns Unknown (or recovers) now."""
        gk = (informer.scope.res.group, informer.scope.res.kind)
        for rt in self._apps.values():
            if rt.config.destination.cluster == cluster.config.name and any(
                    (k.group, k.kind) == gk for k in rt.desired_keys):
                self._mark(rt.config.name)

    def _set_owners(self, rt: AppRuntime, cluster: Cluster, keys: frozenset[ObjectKey]) -> None:
        if keys != rt.desired_keys:
            cluster.declare(rt.config.name, rt.desired_keys, keys)
            rt.desired_keys = keys

    # ---- scheduling ------------------------------------------------------------------------------

    def _mark(self, name: str) -> None:
        self._scheduler.mark(name)

    async def _full_pass(self) -> None:
        for cluster in self._clusters.values():
            cluster.forbidden.clear()
            cluster.crds_tried = False
            if cluster.error is not None:
                await cluster.connect()
        self._ready = all(c.error is None for c in self._clusters.values())
        for name in self._apps:
            self._mark(name)

    async def _tick(self) -> None:
        self.history.keep_only(self._apps)
        await self.history.save()
        now = self.clock.now()
        self.windows.update_metrics(now)
        for rt in self._apps.values():
            if rt.status is not None and rt.status.frozen != self.windows.is_frozen(rt.config, now):
                self._mark(rt.config.name)
        if self.notifier is not None:
            await self.notifier.tick()

    def _publish(self, *entries: tuple[AppConfig, AppStatus]) -> None:
        """Make ``entries`` what the next ``snapshot()`` shows."""
        for app, status in entries:
            self._latest[app.name] = (app, status)
        self._snapshot = None

    def _forget_app(self, name: str) -> None:
        rt = self._apps.pop(name)
        cluster = self._clusters.get(rt.config.destination.cluster)
        if cluster is not None:
            self._set_owners(rt, cluster, frozenset())
        self._latest.pop(name, None)
        self._snapshot = None


def _default_cache_dir() -> str:
    import tempfile
    return os.environ.get("GITOPS_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "gitops-drift-exporter")


__all__ = ["Agent"]
