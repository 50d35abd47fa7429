"""When to tell people: the per-app alert state machine, free of I/O.

An app is *bad* while its combined state is in the policy's ``bad_states``. The incident starts when
the app leaves the good set and lasts until it comes back; moving between bad states (Progressing
-> Degraded) is the same incident and does not restart the clock. A *firing* message goes out once
the app has been bad for the threshold of its current state; a *repeat* every ``repeat`` seconds
while it stays bad; a *resolved* when it is good again, only if firing went out. Blips shorter
than the threshold produce nothing.

While muted (an active maintenance window), firing and repeats are held back; if the app is still
bad when the mute ends, firing goes out then, with the incident's original start. A resolved for an
incident that did fire is never muted: people who were told it broke are told it recovered.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from exporter.config_types import NotifyPolicy
from exporter.status import is_bad

Event = Literal["firing", "resolved", "repeat"]


@dataclass
class AlertState:
    """What the notifier remembers about one app. Persisted, so plain fields only."""

    #: Unix time the app left the good set; None while good.
    bad_since: float | None = None
    #: The last state observed (a bad one while an incident runs).
    state: str = "Healthy"
    #: Whether firing went out for the running incident.
    firing: bool = False
    #: When firing or the last repeat went out.
    last_sent: float | None = None
    #: When the running incident fired (identifies it for threading).
    fired_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AlertState:
        return cls(bad_since=d.get("bad_since"), state=str(d.get("state", "Healthy")),
                   firing=bool(d.get("firing")), last_sent=d.get("last_sent"), fired_at=d.get("fired_at"))


def threshold_for(policy: NotifyPolicy, state: str) -> float:
    """The threshold of the current state: a per-state one if configured, else the policy's."""
    return policy.state_thresholds.get(state, policy.threshold)


def step(alert: AlertState, policy: NotifyPolicy, now: float, *, state: str | None = None,
         reported_bad_since: float | None = None, muted: bool = False) -> tuple[AlertState, Event | None]:
    """Advance one app's alert state to ``now``; return the new state and the message to send, if any.

    ``state`` is a freshly observed combined state, or None for a clock tick without a new
    observation. ``reported_bad_since`` is the agent's own bad-since; it is used only when it is
    earlier than what the notifier saw itself (the app was already bad before the notifier started
    watching), never to restart a running incident.
    """
    new = replace(alert)
    if state is not None:
        if is_bad(state, policy):
            if new.bad_since is None:
                start = now
                if reported_bad_since is not None and reported_bad_since <= now:
                    start = reported_bad_since
                new.bad_since = start
            new.state = state
        else:
            was_firing = new.firing
            new = AlertState(state=state)
            return new, ("resolved" if was_firing else None)
    if new.bad_since is None or muted:
        return new, None
    if not new.firing:
        if now - new.bad_since >= threshold_for(policy, new.state):
            new.firing, new.last_sent, new.fired_at = True, now, now
            return new, "firing"
        return new, None
    if policy.repeat > 0 and new.last_sent is not None and now - new.last_sent >= policy.repeat:
        new.last_sent = now
        return new, "repeat"
    return new, None


def next_due(alert: AlertState, policy: NotifyPolicy) -> float | None:
    """When the next firing or repeat becomes due without a new observation (for scheduling ticks)."""
    if alert.bad_since is None:
        return None
    if not alert.firing:
        return alert.bad_since + threshold_for(policy, alert.state)
    if policy.repeat > 0 and alert.last_sent is not None:
        return alert.last_sent + policy.repeat
    return None
