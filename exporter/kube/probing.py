"""Noticing within ``staleAfter`` that a cluster can no longer be seen, when its watches do not say so.

A watch on a quiet resource is silent for a minute by design, so silence on a watch cannot tell
a wedged API server (connections open, nothing answers), a dead load balancer or a revoked
RoleBinding (open watches keep streaming; only new requests are refused) from a calm cluster. The
probe asks instead, on a period derived from ``staleAfter``:

- ``GET /readyz`` on a new connection, with a deadline shorter than the period. When it gets no
  answer in time, or a server error (a refusal is an answer: a cluster that hides ``/readyz`` is
  not taken for a dead one), every informer of the cluster is suspected as from the last good
  answer, so its apps turn Unknown within ``staleAfter`` (plus one period) of the server going
  quiet, and ``/readyz`` of the agent names the cluster. When it answers again, each suspected
  informer starts over from a fresh list, so nothing that changed meanwhile is missed.
- ``list ?limit=1`` of a few watched scopes in turn, so that each scope's permission is proven
  again within ``staleAfter`` while the request budget allows (:func:`plan`). A refusal suspects
  that informer as from its last allowed list, and lists every other scope in the same round: a
  binding taken away is seen within one round, a single resource's permission within one cycle.

The cost per cluster is ``60 / period`` readiness reads a minute plus ``lists`` list reads per
round; the README gives the figures for common ``staleAfter`` values. Everything here reads: the
probe is one more GET, never an access review.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from exporter.clock import Clock
from exporter.instruments import CLUSTER_PROBES_TOTAL
from exporter.kube.cache import Informer, LiveCache, Scope
from exporter.kube.client import KubeClient
from exporter.kube.errors import Forbidden, KubeError, NotFound, Unauthorized

log = logging.getLogger(__name__)

#: At most this many permission lists per round, however many scopes are watched (a refusal
#: lists the others at once).
MAX_LISTS_PER_ROUND = 2


@dataclass(frozen=True)
class ProbePlan:
    """How often the probe runs, how long one check may take, and how many scopes it lists."""

    period: float
    timeout: float
    lists: int

    def requests_per_minute(self) -> float:
        return 60.0 / self.period * (1 + self.lists)


def plan(stale_after: float, scopes: int, budget: int = MAX_LISTS_PER_ROUND) -> ProbePlan:
    """The probe for a staleness bound of ``stale_after`` seconds and ``scopes`` watched scopes:
    a third of the bound per round (between 1 s and 30 s), each check given 80% of a round, and
    enough lists per round that every scope is listed again within the bound less one round,
    up to ``budget``."""
    period = min(max(stale_after / 3.0, 1.0), 30.0)
    cycle = max(stale_after - period, period)
    lists = min(budget, math.ceil(scopes * period / cycle)) if scopes else 0
    return ProbePlan(period, round(period * 0.8, 3), lists)


@dataclass
class ClusterProbe:
    """The probe of one cluster: :meth:`round` once per period (``Cluster.keep_probing`` paces it)."""

    client: KubeClient
    cache: LiveCache
    clock: Clock
    stale_after: float
    #: Unix time of the last good answer to ``/readyz``; the start counts as one.
    last_ok: float = 0.0
    #: Why the server is not answering, while it is not.
    down: KubeError | None = None
    #: Unix time each scope was last listed without refusal.
    allowed_at: dict[Scope, float] = field(default_factory=dict)
    _turn: int = 0

    def __post_init__(self) -> None:
        self.last_ok = self.last_ok or self.clock.now()

    @property
    def plan(self) -> ProbePlan:
        return plan(self.stale_after, len(self.cache.informers))

    async def round(self) -> None:
        """One readiness read and, while the server answers, this round's permission lists."""
        current = self.plan
        try:
            await self.client.probe(current.timeout)
        except (Forbidden, Unauthorized, NotFound) as exc:
            self._count("readyz", exc)  # refused, but answered: the server is there
        except KubeError as exc:
            self._count("readyz", exc)
            self._went_quiet(exc)
            return
        else:
            CLUSTER_PROBES_TOTAL.labels(self.client.name, "readyz", "ok").inc()
        self.last_ok = self.clock.now()
        came_back = self.down is not None
        if came_back:
            log.info("cluster %s answers again; listing what changed meanwhile", self.client.name)
            self.down = None
        for informer in self.cache.informers:
            # After an outage every informer not known good starts over from a list now, including
            # one that failed on its own meanwhile (its own retry may wait out a request timeout).
            if isinstance(informer.suspected, Forbidden | Unauthorized):
                continue
            if informer.suspected is not None or (came_back and informer.error is not None):
                await informer.resync()
        await self._lists(current)

    def _went_quiet(self, exc: KubeError) -> None:
        if self.down is None:
            log.warning("%s; its watches are not trusted from %.0fs ago", exc, self.clock.now() - self.last_ok)
        self.down = exc
        for informer in self.cache.informers:
            informer.suspect(exc, self.last_ok)

    async def _lists(self, current: ProbePlan) -> None:
        """This round's permission lists; a refusal lists every other scope at once, since a
        binding taken away usually takes every resource with it."""
        informers = self.cache.informers
        refused = False
        for _ in range(min(current.lists, len(informers))):
            informer = informers[self._turn % len(informers)]
            self._turn += 1
            refused |= not await self._list(informer, current.timeout)
        if refused:
            for informer in informers:
                if informer.suspected is None:
                    await self._list(informer, current.timeout)

    async def _list(self, informer: Informer, timeout: float) -> bool:  # noqa: ASYNC109 - one check's deadline
        """List one scope; False when the identity may no longer list it."""
        scope = informer.scope
        try:
            await self.client.can_list(scope.res, scope.namespace, scope.label_selector, timeout)
        except (Forbidden, Unauthorized) as exc:
            self._count("list", exc)
            informer.suspect(exc, self.allowed_at.get(scope, self.last_ok))
            return False
        except KubeError as exc:
            self._count("list", exc)  # the readiness read decides whether the server answers
            return True
        CLUSTER_PROBES_TOTAL.labels(self.client.name, "list", "ok").inc()
        self.allowed_at[scope] = self.clock.now()
        if isinstance(informer.suspected, Forbidden | Unauthorized):
            log.info("cluster %s: %s may be listed again", self.client.name, scope)
            await informer.resync()
        return True

    def _count(self, check: str, exc: KubeError) -> None:
        result = "forbidden" if isinstance(exc, Forbidden | Unauthorized) else "failed"
        CLUSTER_PROBES_TOTAL.labels(self.client.name, check, result).inc()


__all__ = ["MAX_LISTS_PER_ROUND", "ClusterProbe", "ProbePlan", "plan"]
