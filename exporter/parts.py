"""What an agent is made of: every part, built by :func:`exporter.wiring.build_parts`, and what a
reload replaces, built by :func:`exporter.wiring.apply_config` before anything is switched.

Kept apart from the agent so that the agent constructs nothing: it is handed its parts, and on a
reload swaps the new ones in at one step.
"""

from __future__ import annotations

from dataclasses import dataclass

from exporter.clock import Clock
from exporter.config_types import Config
from exporter.git import GitCache
from exporter.health import HealthEngine
from exporter.history import HistoryBook
from exporter.notify import Notifier
from exporter.pipeline.clusters import Cluster
from exporter.pipeline.desired import Revisions
from exporter.pipeline.freezes import FreezeWatch
from exporter.pipeline.listing import AppLister
from exporter.pipeline.scheduling import Scheduler
from exporter.pipeline.sources import SourceWatch
from exporter.pipeline.table import AppTable
from exporter.supervision import Supervisor
from exporter.windows import FreezeLog, WindowSchedule


@dataclass
class Parts:
    """Everything an agent works with, built by :func:`exporter.wiring.build_parts`."""

    config: Config
    clock: Clock
    git: GitCache
    revisions: Revisions
    health: HealthEngine
    #: One schedule shared with the notifier (it mutes alerts in maintenance), updated in place.
    windows: WindowSchedule
    freeze_log: FreezeLog
    freezes: FreezeWatch
    history: HistoryBook
    notifier: Notifier | None
    #: Every long-lived task of the agent runs under it; ``/readyz`` reports one that is down.
    supervisor: Supervisor
    scheduler: Scheduler
    #: By name; the same mapping the lister reads Argo CD's Applications through.
    clusters: dict[str, Cluster]
    apps: AppTable
    sources: SourceWatch
    lister: AppLister


@dataclass
class NewParts:
    """What a reload replaces, built before anything is switched: the new config, its health
    checks and notifier, and every cluster by name (the running one where its config is the same)."""

    config: Config
    health: HealthEngine
    notifier: Notifier | None
    clusters: dict[str, Cluster]


__all__ = ["NewParts", "Parts"]
