"""What the notifier must not forget across restarts, and the atomic file that keeps it.

Three things: the alert state per app (is an incident running, did it fire, when), the Slack
thread of each incident's firing message per channel (so resolved replies in the right thread
after a restart), and the outbox of messages decided but not yet delivered. A message enters the
outbox, and the file, *before* it is sent and leaves it after the service accepted it, so a
channel that is down, or an agent that restarts, delays messages instead of dropping them.
Delivery is at-least-once: only a crash between the service's answer and the next write can
repeat a message.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from exporter.atomic import write_atomic
from exporter.notify.policy import AlertState

log = logging.getLogger(__name__)

VERSION = 1


@dataclass
class Pending:
    """One message for one channel, waiting to be delivered.

    ``action`` is ``post`` (a new message, or a reply when the incident has a thread) or ``update``
    (turn the incident's firing message into a resolved one).
    """

    id: int
    channel: str
    event: str
    app: str
    message: dict[str, Any]
    created: float
    incident: str | None = None
    action: str = "post"
    attempts: int = 0
    #: Attempts whose outcome is unknown (the request went out, no answer came back).
    unknown: int = 0
    #: Not to be tried before this time (after an unknown outcome).
    not_before: float = 0.0


@dataclass
class NotifyState:
    alerts: dict[str, AlertState] = field(default_factory=dict)
    #: incident id -> channel name -> thread reference returned by the channel for firing.
    threads: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    outbox: list[Pending] = field(default_factory=list)
    next_id: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"version": VERSION,
                "alerts": {k: v.to_dict() for k, v in sorted(self.alerts.items())},
                "threads": self.threads,
                "outbox": [asdict(p) for p in self.outbox],
                "next_id": self.next_id}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NotifyState:
        if d.get("version") != VERSION:
            raise ValueError(f"unsupported version {d.get('version')!r} (expected {VERSION})")
        return cls(alerts={str(k): AlertState.from_dict(v) for k, v in (d.get("alerts") or {}).items()},
                   threads={str(k): dict(v) for k, v in (d.get("threads") or {}).items()},
                   outbox=[Pending(**p) for p in d.get("outbox") or []],
                   next_id=int(d.get("next_id") or 1))

    def prune_threads(self) -> None:
        """Forget threads of incidents that are neither running nor waiting for a delivery."""
        live = {incident_id(app, a.bad_since) for app, a in self.alerts.items() if a.bad_since is not None}
        live |= {p.incident for p in self.outbox if p.incident}
        for inc in [i for i in self.threads if i not in live]:
            del self.threads[inc]


def incident_id(app: str, bad_since: float) -> str:
    return f"{app}@{bad_since:.3f}"


async def save(path: str, state: NotifyState) -> None:
    """Write the state next to ``path`` and rename it over: a reader sees the old or the new file."""
    text = json.dumps(state.to_dict(), indent=1, sort_keys=True)
    await asyncio.get_running_loop().run_in_executor(None, write_atomic, path, text)


async def load(path: str) -> NotifyState:
    """Read the state file; a missing file is a fresh start, an unreadable one is logged and ignored.

    Ignoring a damaged file can repeat a firing message; refusing to start would silence every
    alert, which is worse for the people relying on them.
    """
    def read() -> str | None:
        try:
            with open(path, encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return None
    text = await asyncio.get_running_loop().run_in_executor(None, read)
    if text is None:
        return NotifyState()
    try:
        return NotifyState.from_dict(json.loads(text))
    except json.JSONDecodeError as e:
        log.error("%s:%d: notification state is not valid JSON (%s); starting with no history",
                  path, e.lineno, e.msg)
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        log.error("%s: notification state cannot be read (%s); starting with no history", path, e)
    return NotifyState()
