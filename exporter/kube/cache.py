"""The live cache: per cluster, one informer (list, then watch) per resource type the apps use.

An informer lists once, then watches from the list's resourceVersion with bookmarks, so it always
knows the newest version to resume from. When a watch ends it is re-established silently: at once
after a normal close (server timeout, dropped stream), after a capped, jittered exponential backoff
after an error, and through a fresh list after ``410 Gone``; every restart is counted in
``gitops_watch_restarts_total`` by reason (``closed``, ``error``, ``expired``). A relist compares
the old and new contents and reports what changed meanwhile, deletions included, so the agent never
misses a change just because it happened while no watch was open. Where RBAC grants ``list`` but
not ``watch``, the informer falls back to listing on the backoff schedule. While an informer cannot
follow changes, ``LiveCache.error`` says why, so the agent can report ``Unknown`` instead of
trusting objects that may be stale.

What is kept: every object in an informer's scope (the resource type, optionally one namespace
and optionally a label selector), in the compact form of :mod:`exporter.kube.compact`. The agent
narrows the scope with a selector where it can (for example ``app.kubernetes.io/instance``
exists, when apps are tracked by label), rather than filtering
by desired keys: keys change with every commit, while a scope keeps one list+watch per type, and an
extraneous object carrying the tracking mark must be seen even though Git does not name it.
An ``ensure`` for a scope that an existing informer already covers (same type, all namespaces or
the same one, no selector or the same one) reuses it; a broader one replaces the narrower ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from exporter.backoff import jittered
from exporter.clock import Clock, SystemClock
from exporter.instruments import WATCH_RESTARTS_TOTAL
from exporter.kube.client import KubeClient, ResourceInfo
from exporter.kube.compact import COMPACTOR
from exporter.kube.errors import Forbidden, KubeError, ResourceExpired, WatchSilent
from exporter.kube.selectors import SelectorError, parse_label_selector
from exporter.model import ObjectKey

log = logging.getLogger(__name__)

OnEvent = Callable[[ObjectKey, "dict[str, Any] | None"], None]
OnStale = Callable[["Informer", bool], None]

#: A watch that delivered events or stayed open this long resets the failure count.
HEALTHY_AFTER = 10.0


@dataclass(frozen=True)
class Scope:
    """What one informer watches."""

    res: ResourceInfo
    namespace: str | None = None
    label_selector: str | None = None

    def covers(self, other: Scope) -> bool:
        return (self.res.group == other.res.group and self.res.plural == other.res.plural
                and self.res.version == other.res.version
                and (self.namespace is None or self.namespace == other.namespace)
                and (self.label_selector is None or self.label_selector == other.label_selector))

    def __str__(self) -> str:
        text = self.res.qualified
        if self.namespace:
            text += f" in {self.namespace}"
        if self.label_selector:
            text += f" ({self.label_selector})"
        return text


class Informer:
    """One list+watch loop; its objects are readable at any time, changes go to ``on_event``.

    While it cannot follow changes (the list or watch fails, or the stream goes silent) it keeps
    the objects it has, but says so: ``error`` and ``error_since`` tell what and since when, and
    once that has lasted ``stale_after`` seconds ``on_stale(informer, True)`` is called at once,
    so the apps that read these objects turn Unknown without waiting for their next evaluation.
    Recovery always goes through a fresh list, then ``on_stale(informer, False)``.
    """

    def __init__(self, client: KubeClient, scope: Scope, on_event: OnEvent | None, *,
                 watch_timeout: float, backoff_base: float, backoff_cap: float, stale_after: float = 30.0,
                 silence: float = 15.0, on_stale: OnStale | None = None, clock: Clock | None = None) -> None:
        self.client = client
        self.scope = scope
        #: Staleness, backoff resets and "since" times read this clock, never the system's directly.
        self.clock = clock or SystemClock()
        self.objects: dict[ObjectKey, dict[str, Any]] = {}
        self.resource_version = ""
        self.listed = asyncio.Event()
        self.restarts = 0
        #: The last failure while no watch or list has succeeded since; None while healthy.
        self.error: KubeError | None = None
        #: Unix time since which the objects are not known to be current.
        self.error_since: float | None = None
        #: Whether ``on_stale`` was told about the current failure.
        self.reported_stale = False
        #: The failure the cluster's probe reported (the server not answering, the list no longer
        #: allowed) while the watch itself goes on; None when the watch's own word stands.
        self.suspected: KubeError | None = None
        self._on_event = on_event
        self._on_stale = on_stale
        self._watch_timeout = watch_timeout
        self._silence = silence
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._stale_after = stale_after
        self._stale_timer: asyncio.Task[None] | None = None
        self._events = 0
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    @property
    def stale(self) -> bool:
        """True once the objects have not been known current for ``stale_after`` seconds."""
        return self.error_since is not None and self.clock.now() - self.error_since >= self._stale_after

    async def start(self) -> None:
        """List once (raising on failure), then keep watching in the background."""
        items, rv = await self.client.list(self.scope.res, self.scope.namespace, self.scope.label_selector,
                                           compact=True)
        self.objects = {ObjectKey.of(o): o for o in items}
        self.resource_version = rv
        self.listed.set()
        self._task = asyncio.create_task(self._run(), name=f"informer {self.client.name} {self.scope}")

    async def stop(self) -> None:
        self._stopped = True
        if self._stale_timer is not None:
            self._stale_timer.cancel()
            self._stale_timer = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _emit(self, key: ObjectKey, obj: dict[str, Any] | None) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(key, obj)
        except Exception:
            log.exception("cluster %s: change handler failed for %s", self.client.name, key)

    def _tell_stale(self, stale: bool) -> None:
        if self._on_stale is None:
            return
        try:
            self._on_stale(self, stale)
        except Exception:
            log.exception("cluster %s: staleness handler failed for %s", self.client.name, self.scope)

    def _restart(self, reason: str) -> None:
        self.restarts += 1
        WATCH_RESTARTS_TOTAL.labels(self.client.name, self.scope.res.plural, reason).inc()

    def suspect(self, error: KubeError, since: float) -> None:
        """The cluster's probe found that these objects may no longer be current (the server does
        not answer, or the list is no longer allowed) although the watch has not said so: fail as
        from ``since``, the probe's last good word. Only a fresh list (:meth:`resync`) clears it."""
        if self.error is not None:
            return  # failing on its own already: that failure and its recovery stand
        self.suspected = error
        self._failed(error, since)

    async def resync(self) -> None:
        """Start over from a fresh list (the probe's trouble is over): the watch is restarted, the
        list reports what changed meanwhile, and the failure clears once it succeeds."""
        old, self._task = self._task, None
        if old is not None:
            old.cancel()
            try:
                await old
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # the caller itself is being cancelled: that must not be swallowed
        if self._task is None and not self._stopped:  # not stopped or resynced by someone else meanwhile
            self._task = asyncio.create_task(self._run(need_list=True),
                                             name=f"informer {self.client.name} {self.scope}")

    def _failed(self, error: KubeError, since: float | None = None) -> None:
        if self.error is None:
            now = self.clock.now()
            # A silent stream has not been known current since its last byte, not since now.
            self.error_since = min(since, now) if since is not None else \
                now - error.silent_for if isinstance(error, WatchSilent) else now
            delay = max(0.0, self.error_since + self._stale_after - now)
            self._stale_timer = asyncio.create_task(self._stale_in(delay), name=f"stale timer {self.scope}")
        self.error = error

    async def _stale_in(self, delay: float) -> None:
        """The staleness bound, on the injected clock: a failure that outlasts it is reported."""
        await self.clock.sleep(delay)
        self._stale_timer = None
        self._became_stale()

    def _became_stale(self) -> None:
        if self.error is None or self.reported_stale:
            return
        self.reported_stale = True
        log.warning("cluster %s: %s not followed for %.0fs, its apps are Unknown: %s", self.client.name,
                    self.scope, self.clock.now() - (self.error_since or self.clock.now()), self.error)
        self._tell_stale(True)

    def _recovered(self) -> None:
        if self._stale_timer is not None:
            self._stale_timer.cancel()
            self._stale_timer = None
        was_stale = self.reported_stale
        self.error = None
        self.error_since = None
        self.reported_stale = False
        self.suspected = None
        if was_stale:
            log.info("cluster %s: following %s again", self.client.name, self.scope)
            self._tell_stale(False)

    async def _pause(self, failures: int, error: KubeError | None, doing: str) -> None:
        """Wait before trying again: jittered exponential backoff, or longer if the server said so."""
        delay = jittered(failures, self._backoff_base, self._backoff_cap)
        if error is not None and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        if error is not None:
            log.log(logging.WARNING if failures == 1 else logging.DEBUG, "%s; %s %s again in %.1fs",
                    error, doing, self.scope, delay)
        await self.clock.sleep(delay)

    async def _run(self, need_list: bool = False) -> None:
        failures = 0
        while True:
            if need_list:
                try:
                    await self._relist()
                except KubeError as e:
                    self._failed(e)
                    self._restart("error")  # every failed attempt to get the watch back is counted
                    failures += 1
                    await self._pause(failures, e, "listing")
                    continue
                need_list = False
                self._recovered()
            started = self.clock.now()
            self._events = 0
            error: KubeError | None = None
            try:
                await self._watch_once()
                outcome = "closed"
            except ResourceExpired:
                log.info("cluster %s: %s resourceVersion %s expired; listing again", self.client.name,
                         self.scope, self.resource_version)
                outcome = "expired"
            except KubeError as e:
                outcome, error = "error", e
            except Exception as e:
                # A bug must not silently end the informer: report it, then carry on from a list.
                log.exception("cluster %s: informer for %s failed", self.client.name, self.scope)
                outcome = "error"
                error = KubeError(f"cluster {self.client.name}: watching {self.scope} failed: {e!r}",
                                  cluster=self.client.name)
            lasted = self.clock.now() - started
            if self._events or lasted >= HEALTHY_AFTER:
                failures = 0  # a healthy stretch forgets earlier trouble: the next blip retries at once
            self._restart(outcome)
            if outcome == "closed" and lasted >= 1.0:
                continue  # the server's timeout or a dropped stream: resume at once
            if outcome == "expired":
                need_list = True
                if lasted >= 1.0:
                    continue
            elif error is not None:
                # Whatever failed, recovery starts from a fresh list. Where RBAC grants list but
                # not watch, listing on the backoff schedule keeps the cache current, so that is
                # not an error state.
                need_list = True
                if not isinstance(error, Forbidden):
                    self._failed(error)
            failures += 1  # a stream that ends as soon as it starts deserves the same patience as an error
            await self._pause(failures, error, "listing" if need_list else "watching")

    async def _watch_once(self) -> None:
        stream = self.client.watch(self.scope.res, self.resource_version, self.scope.namespace,
                                   self.scope.label_selector, timeout=self._watch_timeout, silence=self._silence)
        async with contextlib.aclosing(stream):
            async for type_, obj in stream:
                self._events += 1
                rv = str((obj.get("metadata") or {}).get("resourceVersion") or "")
                if type_ == "BOOKMARK":
                    if rv:
                        self.resource_version = rv
                    continue
                key = ObjectKey.of(obj)
                if type_ == "DELETED":
                    self.objects.pop(key, None)
                    self._emit(key, None)
                elif type_ in ("ADDED", "MODIFIED"):
                    obj = COMPACTOR.compact(obj)
                    self.objects[key] = obj
                    self._emit(key, obj)
                else:
                    log.debug("cluster %s: ignoring %s event on %s", self.client.name, type_, self.scope)
                    continue
                if rv:
                    self.resource_version = rv

    async def _relist(self) -> None:
        items, rv = await self.client.list(self.scope.res, self.scope.namespace, self.scope.label_selector,
                                           compact=True)
        fresh = {ObjectKey.of(o): o for o in items}
        old = self.objects
        self.objects = fresh
        self.resource_version = rv
        for key in old.keys() - fresh.keys():
            self._emit(key, None)
        for key, obj in fresh.items():
            before = old.get(key)
            if before is None or _rv(before) != _rv(obj):
                self._emit(key, obj)


def _rv(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


class LiveCache:
    """Live objects of one cluster, kept current by informers that ``ensure`` starts on demand."""

    def __init__(self, client: KubeClient, on_event: OnEvent | None = None, *, watch_timeout: float = 60.0,
                 backoff_base: float = 0.5, backoff_cap: float = 10.0, stale_after: float = 30.0,
                 silence: float = 15.0, on_stale: OnStale | None = None, clock: Clock | None = None) -> None:
        self.client = client
        self.clock = clock or SystemClock()
        self.on_event = on_event
        self.on_stale = on_stale
        self._watch_timeout = watch_timeout
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._stale_after = stale_after
        self._silence = silence
        self._informers: list[Informer] = []
        self._starting: dict[Scope, asyncio.Task[Informer]] = {}

    @property
    def synced(self) -> bool:
        """True when every informer has listed at least once (and no ``ensure`` is still listing)."""
        return not self._starting and all(i.listed.is_set() for i in self._informers)

    @property
    def error(self) -> KubeError | None:
        """A failure that currently keeps some informer from following changes (the objects it
        holds may be stale), or None. The agent reports the affected apps as Unknown meanwhile;
        ``error_since`` on each informer tells how long that has lasted."""
        return next((i.error for i in self._informers if i.error is not None), None)

    @property
    def informers(self) -> list[Informer]:
        return list(self._informers)

    async def ensure(self, res: ResourceInfo, namespace: str | None = None,
                     label_selector: str | None = None) -> None:
        """Make sure objects of ``res`` in this scope are cached; returns after the first list.

        Raises ``KubeError`` if that list fails (403, 401, unreachable …); nothing is kept then, so
        a later call tries again."""
        if label_selector is not None:
            try:
                parse_label_selector(label_selector)
            except SelectorError as e:
                raise KubeError(f"cluster {self.client.name}: {e}", status=400, reason="BadRequest",
                                cluster=self.client.name) from None
        scope = Scope(res, namespace if res.namespaced else None, label_selector or None)
        for inf in self._informers:
            if inf.scope.covers(scope):
                return
        task = self._starting.get(scope)
        if task is None:
            task = asyncio.create_task(self._start(scope))
            self._starting[scope] = task
            task.add_done_callback(lambda _t: self._starting.pop(scope, None))
        await asyncio.shield(task)

    async def _start(self, scope: Scope) -> Informer:
        inf = Informer(self.client, scope, self.on_event, watch_timeout=self._watch_timeout,
                       backoff_base=self._backoff_base, backoff_cap=self._backoff_cap,
                       stale_after=self._stale_after, silence=self._silence, on_stale=self.on_stale,
                       clock=self.clock)
        await inf.start()
        narrower = [i for i in self._informers if scope.covers(i.scope)]
        self._informers = [i for i in self._informers if i not in narrower] + [inf]
        for old in narrower:  # the new informer holds everything they did
            await old.stop()
        return inf

    def _for(self, group: str, kind: str, version: str | None = None) -> Iterator[Informer]:
        for inf in self._informers:
            res = inf.scope.res
            if res.group == group and res.kind == kind and (version is None or res.version == version):
                yield inf

    def get(self, key: ObjectKey, version: str | None = None) -> dict[str, Any] | None:
        """The live object, as served in ``version`` when given (the version Git declares: a kind
        served in several versions differs between them, and comparing with another version's
        shape would show fields as missing that are only spelled differently)."""
        for inf in self._for(key.group, key.kind, version):
            obj = inf.objects.get(key)
            if obj is not None:
                return obj
        return None

    def objects(self, group: str, kind: str) -> Iterable[dict[str, Any]]:
        seen: set[ObjectKey] = set()
        for inf in self._for(group, kind):
            for key, obj in list(inf.objects.items()):
                if key not in seen:
                    seen.add(key)
                    yield obj

    async def close(self) -> None:
        for task in list(self._starting.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, KubeError):
                await task
        for inf in self._informers:
            await inf.stop()
        self._informers.clear()
