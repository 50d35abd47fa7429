"""The agent: keeps every app's status current from Git and cluster events.

Evaluation is incremental. Rendered manifests are cached per app and commit, live objects are kept
current by watches, and a watch event marks dirty only the apps that own (or track) the changed
object; a new commit marks dirty only the apps on that repository. A worker evaluates dirty apps
with bounded concurrency. A periodic full pass is the safety net, not the loop.

The agent builds none of its parts: :mod:`exporter.wiring` builds them (:class:`Parts`) and, on a
reload, the new ones (:class:`NewParts`), which :meth:`Agent.reload` swaps in at one step. What
is left here is the life cycle and the evaluation of one app.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from exporter.clock import monotonic
from exporter.collector import building_long_lived
from exporter.config_types import AppConfig
from exporter.history import Transition
from exporter.instruments import EVALUATION_DURATION
from exporter.kube.cache import Informer
from exporter.model import AppStatus, KubeObject, ObjectKey, ObjectStatus
from exporter.parts import NewParts, Parts
from exporter.pipeline.clusters import Cluster
from exporter.pipeline.desired import AppRuntime, prepare_checkouts, update_desired
from exporter.pipeline.evaluation import evaluate_objects
from exporter.pipeline.flux_apps import deployer_keys, read_deployer, read_inventory
from exporter.pipeline.readiness import not_ready_reason
from exporter.pipeline.routing import Marks, Tracking
from exporter.pipeline.statuses import new_status
from exporter.windows import FreezeViolation

log = logging.getLogger(__name__)


class Agent:
    """Evaluates the apps of one config (or of one shard of it) and publishes their statuses."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        # The parts that never change, by name; what a reload replaces is read from ``parts``.
        self.clock, self.windows, self.history = parts.clock, parts.windows, parts.history
        self.freeze_log, self.supervisor, self.git = parts.freeze_log, parts.supervisor, parts.git
        self._apps, self._clusters, self._scheduler = parts.apps, parts.clusters, parts.scheduler
        self._sources, self._lister = parts.sources, parts.lister
        self._scheduler.evaluate = self._evaluate_known
        for cluster in self._clusters.values():
            self._attach(cluster)
        #: Whether the first evaluation of every app is done; whether a re-listing of the apps is queued.
        self._ready, self._resync_pending = False, False
        #: Whether the agent keeps going after its first evaluation (``start(watch=True)``).
        self._watching = False

    def _attach(self, cluster: Cluster) -> None:
        cluster.on_marks, cluster.on_stale = self._on_marks, self._on_stale

    # ---- what the server and metrics read -------------------------------------------------------

    def snapshot(self) -> Mapping[str, tuple[AppConfig, AppStatus]]:
        """One consistent, never-mutated picture of every app's status."""
        return self._apps.snapshot()

    def ready(self) -> bool:
        return self.not_ready_reason() is None

    def not_ready_reason(self) -> str | None:
        """Why ``/readyz`` should say no (:func:`~exporter.pipeline.readiness.not_ready_reason`)."""
        return not_ready_reason(never_listed=self._lister.never_listed(), down=self.supervisor.down(),
                                started=self._ready, clusters=self._clusters.values())

    def freezes(self) -> list[dict[str, Any]]:
        return self.freeze_log.to_json()  # (``/api/v1/freezes``)

    def history_of(self, name: str) -> list[Transition]:
        """The app's state changes, oldest first (``/api/v1/apps/NAME/history``)."""
        return self.history.entries(name)

    def app(self, name: str) -> tuple[AppConfig, AppStatus] | None:
        return self._apps.published(name)

    def app_names(self) -> list[str]:
        """Every app this agent evaluates, evaluated yet or not."""
        return sorted(self._apps)

    def listing_errors(self) -> list[str]:
        """Why an app generator or Argo CD source could not list its apps (at the last try)."""
        return list(self._lister.errors.values())

    async def on_git_push(self, repo_urls: list[str], branch: str | None) -> int:
        """A push webhook: refetch the repository now and re-evaluate the apps on that branch."""
        return await self._sources.on_push(repo_urls, branch)

    async def poll_sources(self) -> None:
        """Fetch every Git repository and read every chart repository now (the poll interval's job);
        generators list their directories again, so a new directory is a new app, and a source
        that failed to list its apps is tried again."""
        await self._sources.poll()
        if self.parts.config.generators or self._lister.errors:
            await self._resync_apps()

    # ---- life cycle ------------------------------------------------------------------------------

    async def start(self, *, watch: bool = True, only: str | None = None) -> None:
        """Work out the apps, connect, evaluate every app once (or only the app ``only``), then
        (with ``watch``) keep going."""
        if self.parts.notifier is not None:
            await self.parts.notifier.start()
        await self.history.load()
        with building_long_lived():
            if only is None and not self.parts.config.app_sources:
                # Each cluster's apps are evaluated as soon as it is listed, while others still are;
                # the apps are known first, so each object is indexed once. Git is made ready meanwhile.
                await self._resync_apps(mark=False)
                await asyncio.gather(prepare_checkouts([rt.config for rt in self._apps.runtimes()],
                                                       self.parts.revisions),
                                     *(self._connect_then_evaluate(c) for c in self._clusters.values()),
                                     self._evaluate_where(lambda cluster: cluster not in self._clusters))
            else:
                # Argo CD's Applications are read from the clusters, so those are connected first.
                await asyncio.gather(*(c.connect() for c in self._clusters.values()))
                await self._resync_apps(mark=False)
                if only is None:
                    await self._evaluate_where(lambda _: True)
                elif only in self._apps:
                    await self._scheduler.run_now(only)
        self._ready = all(c.error is None for c in self._clusters.values())
        if watch:
            self._watching = True
            for cluster in self._clusters.values():
                self._start_probe(cluster)
            self._scheduler.start([
                ("full-pass", self.parts.config.interval, self._full_pass),
                ("git-poll", self.parts.config.git_poll_interval, self.poll_sources),
                ("tick", 15.0, self._tick),
            ])

    def _start_probe(self, cluster: Cluster) -> None:
        """The cluster's probe, supervised: a server that stops answering, or a permission lost,
        turns its apps Unknown within ``staleAfter`` (:mod:`exporter.kube.probing`)."""
        self.supervisor.start(f"probe {cluster.config.name}", cluster.keep_probing)

    async def _connect_then_evaluate(self, cluster: Cluster) -> None:
        await cluster.connect()
        await self._evaluate_where(lambda name: name == cluster.config.name)

    async def _evaluate_where(self, destination: Callable[[str], bool]) -> None:
        """Evaluate now every app whose destination cluster's name ``destination`` accepts."""
        await asyncio.gather(*(self._scheduler.run_now(rt.config.name) for rt in self._apps.runtimes()
                               if destination(rt.config.destination.cluster)))

    async def close(self) -> None:
        await self._scheduler.close()
        await self.history.save()
        await self.freeze_log.close()
        for cluster in self._clusters.values():
            await cluster.close()
        if self.parts.notifier is not None:
            await self.parts.notifier.close()

    async def reload(self, new: NewParts) -> None:
        """Swap in the parts of a new config at one step, then connect the new clusters, close
        the old ones and work the apps out again (keeping the state of every unchanged app)."""
        running = set(self._clusters.values())
        gone = [c for name, c in self._clusters.items() if new.clusters.get(name) is not c]
        self.parts.config, self.parts.health, self.parts.notifier = new.config, new.health, new.notifier
        self.windows.replace(new.config.windows)
        self._clusters.clear()
        self._clusters.update(new.clusters)
        fresh = [c for c in new.clusters.values() if c not in running]
        for cluster in fresh:
            self._attach(cluster)
        for cluster in gone:
            await self.supervisor.stop(f"probe {cluster.config.name}")
            await cluster.close()
        await asyncio.gather(*(c.connect() for c in fresh))
        if self._watching:
            for cluster in fresh:
                self._start_probe(cluster)
        for name in self._apps.redeclare_on({c.config.name for c in fresh}):
            self._scheduler.mark(name)
        await self._resync_apps()
        log.info("config reloaded: %d apps", len(self._apps))

    async def _resync_apps(self, *, mark: bool = True) -> None:
        """Work out the apps (config, generators, Argo CD), keeping the state of every app whose
        definition did not change, and hand each cluster the apps' tracking settings."""
        self._resync_pending = False
        new_apps = {a.name: a for a in await self._lister.apps(self.parts.config)}
        for name in [n for n in self._apps if n not in new_apps]:
            gone = self._apps.forget(name)
            if (cluster := self._clusters.get(gone.config.destination.cluster)) is not None:
                self._set_owners(gone, cluster, frozenset())
        for name, app in new_apps.items():
            known = self._apps.get(name)
            if known is None or known.config != app:
                self._apps.put(AppRuntime(app, status=known.status if known else None))
                if mark:
                    self._scheduler.mark(name)
        tracking = Tracking.of((rt.config for rt in self._apps.runtimes()),
                               from_sources=bool(self.parts.config.app_sources))
        for cluster in self._clusters.values():
            cluster.retrack(tracking)

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
        cluster = self._clusters.get(rt.config.destination.cluster)
        deployer = read_deployer(rt.config.deployer, cluster) \
            if rt.config.deployer is not None and cluster is not None else None
        status = new_status(rt, objects, error, now=now, frozen=self.parts.freezes.frozen(rt, now, deployer),
                            history=self.history, deployer=deployer)
        self._tell_freeze(self.parts.freezes.deployer_change(rt, status))
        rt.status = status
        self._apps.publish([(rt.config, status)])
        EVALUATION_DURATION.observe(monotonic() - started)
        if self.parts.notifier is not None and name in self._apps:
            try:
                await self.parts.notifier.observe(rt.config, status)
            except Exception:
                log.exception("notifier failed for app %s", name)
        return status

    async def _evaluate_known(self, name: str) -> None:
        if name in self._apps:  # it may have gone with a reload meanwhile
            await self.evaluate(name)

    async def _objects(self, rt: AppRuntime) -> tuple[list[ObjectStatus], str | None]:
        """The app's objects judged, or why they cannot be: the app's definition, its sources, its
        render, its cluster (connected, serving and watching every kind, not stale), in that order."""
        app = rt.config
        problem = app.invalid or self._sources.error_for(rt) or await update_desired(
            rt, self.parts.revisions, self.clock, self.parts.config.render_timeout, self._on_new_commit,
            self.parts.config.kustomize_build_options)
        if problem is not None:
            return [], problem
        cluster = self._clusters.get(app.destination.cluster)
        if cluster is None:
            return [], f"no cluster named {app.destination.cluster!r}"
        placed = await cluster.place(app, rt.desired)
        if isinstance(placed, str):
            return [], placed
        deployer = deployer_keys(app.deployer) if app.deployer is not None else frozenset()
        self._set_owners(rt, cluster, frozenset(d.key for d in placed), deployer)
        records = await cluster.deployer_records(((d.key, d.version) for d in placed),
                                                 app.source.helm.storage_namespace)
        listed = read_inventory(app.deployer, cluster) if app.deployer is not None else {}
        result = evaluate_objects(app, placed, cluster.view(), self.parts.health, rt.rendered_sha or "", records,
                                  listed)
        rt.live_seen = result.seen
        return result.objects, None

    @staticmethod
    def _set_owners(rt: AppRuntime, cluster: Cluster, keys: frozenset[ObjectKey],
                    deployer: frozenset[ObjectKey] = frozenset()) -> None:
        declared = keys | deployer
        if declared != rt.declared_keys:
            cluster.declare(rt.config.name, rt.declared_keys, declared)
        rt.desired_keys, rt.declared_keys = keys, declared

    # ---- events and periodic jobs -----------------------------------------------------------------

    def _on_new_commit(self, rt: AppRuntime, old: str, new: str) -> None:
        self._tell_freeze(self.parts.freezes.new_commit(rt, old, new))

    def _on_marks(self, _cluster: Cluster, marks: Marks, key: ObjectKey, obj: KubeObject | None) -> None:
        """The apps a watch event concerns (worked out by the cluster): note freeze violations
        and evaluate them; a change of Argo CD's Applications lists the apps again."""
        if marks.apps_changed and not self._resync_pending:
            self._resync_pending = True
            self._scheduler.spawn(self._resync_apps())
        for name in marks.apps:
            rt = self._apps.get(name)
            if rt is not None:
                self._tell_freeze(self.parts.freezes.live_change(rt, key, obj))
                self._scheduler.mark(name)

    def _tell_freeze(self, violation: FreezeViolation | None) -> None:
        if violation is not None and self.parts.notifier is not None:
            self._scheduler.spawn(self.parts.notifier.notify_freeze(violation))

    def _on_stale(self, cluster: Cluster, informer: Informer, _stale: bool) -> None:
        """A watch crossed the staleness bound (or came back): re-evaluate at once every app that
        reads objects of that type on that cluster, so it turns Unknown (or recovers) now."""
        for name in self._apps.reading(cluster.config.name, informer.scope.res.group, informer.scope.res.kind):
            self._scheduler.mark(name)

    async def _full_pass(self) -> None:
        for cluster in self._clusters.values():
            await cluster.retry()
        self._ready = all(c.error is None for c in self._clusters.values())
        for name in self._apps:
            self._scheduler.mark(name)

    async def _tick(self) -> None:
        self.history.keep_only(self._apps)
        await self.history.save()
        now = self.clock.now()
        self.windows.update_metrics(now)
        for name in self._apps.freeze_changed(lambda rt: self.parts.freezes.frozen(rt, now)):
            self._scheduler.mark(name)
        if self.parts.notifier is not None:
            await self.parts.notifier.tick()


__all__ = ["Agent"]
