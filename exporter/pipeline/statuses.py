"""One app's new status from its judged objects: the verdict, the since and bad-since clocks
carried over from its previous status (or, after a restart, from the history book), and the
count of its state changes.
"""

from __future__ import annotations

import logging

from exporter.history import HistoryBook
from exporter.model import AppStatus, Blind, DeployerState, ObjectStatus
from exporter.pipeline.desired import AppRuntime
from exporter.status import clocks, combine, good_states

log = logging.getLogger("exporter.agent")


def new_status(rt: AppRuntime, objects: list[ObjectStatus], error: str | None, *, now: float,
               frozen: bool, history: HistoryBook, deployer: DeployerState | None = None) -> AppStatus:
    """The status of ``rt``'s app now; a state change is logged and written to ``history``."""
    app = rt.config
    verdict = combine(objects, error, deployer)
    # After a restart the history book carries the clocks over while the state still holds.
    since, bad_since = clocks(rt.status or history.last_seen(app.name), verdict.state, now,
                              good_states(app.notifications))
    status = AppStatus(
        name=app.name, state=verdict.state, sync=verdict.sync, health=verdict.health, reason=verdict.reason,
        revision=rt.sha, target_revision=app.source.target_revision, objects=objects,
        since=since, bad_since=bad_since, evaluated_at=now, error=error, frozen=frozen, deployer=deployer,
        blind=isinstance(error, Blind),
        commit=rt.commit if rt.commit is not None and rt.commit.sha == rt.sha else None,
    )
    if rt.status is None or rt.status.state is not status.state:
        log.info("app %s is %s: %s", app.name, status.state.value, status.reason or "all good",
                 extra={"app": app.name, "state": status.state.value})
    if history.observe(status) is not None or not rt.status:
        status.state_changes = tuple((a, b, n) for (a, b), n in sorted(history.changes(app.name).items()))
    else:
        status.state_changes = rt.status.state_changes
    return status
