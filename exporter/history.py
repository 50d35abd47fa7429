"""Each app's state history, and the clocks that must survive an agent restart.

Every change of an app's combined state is kept with its time, the states before and after, the
revision and the reason, a few hundred per app (oldest dropped). With it the agent keeps each
app's ``since`` and ``bad_since``: restored on start while the app is still in the state it was
in, a rolling update of the agent no longer restarts time-in-state, the incident clock behind the
``GitOpsAppBad`` alert, or the status page's "for 3h".

The book lives in one JSON file written atomically on the tick after a change. A missing file is
a first start; a damaged one is logged and the agent starts with no history rather than not at all.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from exporter.atomic import write_atomic
from exporter.model import AppState, AppStatus, Health, Sync

log = logging.getLogger(__name__)

VERSION = 1
#: Transitions kept per app; the oldest go first.
MAX_ENTRIES = 300


@dataclass(frozen=True)
class Transition:
    """The app entered ``state`` at ``at`` (from ``previous``; None for the first state seen)."""

    at: float
    previous: str | None
    state: str
    revision: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "from": self.previous, "to": self.state, "revision": self.revision,
                "reason": self.reason}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Transition:
        return cls(float(d["at"]), d.get("from"), str(d["to"]), d.get("revision"), str(d.get("reason") or ""))


@dataclass
class AppHistory:
    state: str
    since: float
    bad_since: float | None
    entries: deque[Transition] = field(default_factory=lambda: deque(maxlen=MAX_ENTRIES))
    #: (from, to) -> how many times, since the book began (counted past the entries kept).
    changes: dict[tuple[str, str], int] = field(default_factory=dict)


def _as_dict(snapshot: list[tuple[str, str, float, float | None, tuple[Transition, ...],
                                  dict[tuple[str, str], int]]]) -> dict[str, Any]:
    return {"version": VERSION, "apps": {
        name: {"state": state, "since": since, "bad_since": bad_since, "entries": [e.to_dict() for e in entries],
               "changes": [[a, b, n] for (a, b), n in sorted(changes.items())]}
        for name, state, since, bad_since, entries, changes in sorted(snapshot)}}


def spans(starts: Sequence[float], start: float, now: float) -> list[tuple[int, float, float]]:
    """``(index, begin, end)`` of each entry's stretch within ``start``..``now``, given when each
    entry began (oldest first): an entry lasts until the next begins, the last one until now.
    Stretches that fall outside the window are left out."""
    out = []
    for index, began in enumerate(starts):
        begin = max(began, start)
        end = min(starts[index + 1] if index + 1 < len(starts) else now, now)
        if end > begin:
            out.append((index, begin, end))
    return out


def time_in_state(entries: list[Transition], start: float, now: float) -> dict[str, float]:
    """Seconds spent in each state between ``start`` and ``now``, from ``entries`` (oldest first);
    time before the oldest entry is not counted."""
    totals: dict[str, float] = {}
    for index, begin, end in spans([e.at for e in entries], start, now):
        state = entries[index].state
        totals[state] = totals.get(state, 0.0) + end - begin
    return totals


class HistoryBook:
    """The apps' histories and clocks, in memory and in the state file at ``path`` (if any)."""

    def __init__(self, path: str | None, max_entries: int = MAX_ENTRIES) -> None:
        self.path = path
        self.max_entries = max_entries
        self.apps: dict[str, AppHistory] = {}
        self._dirty = False

    # ---- clocks ---------------------------------------------------------------------------------

    def last_seen(self, name: str) -> AppStatus | None:
        """The app as the book last saw it (state and clocks only), to carry its clocks over the
        first evaluation after a start: ``status.clocks`` keeps ``since`` while the state is the
        same and ``bad_since`` while the app is still bad."""
        record = self.apps.get(name)
        if record is None:
            return None
        try:
            state = AppState(record.state)
        except ValueError:
            return None
        return AppStatus(name=name, state=state, sync=Sync.UNKNOWN, health=Health.UNKNOWN, reason="",
                         since=record.since, bad_since=record.bad_since)

    # ---- recording ------------------------------------------------------------------------------

    def observe(self, status: AppStatus) -> Transition | None:
        """Note an evaluation; the transition when the state changed (or the app is new)."""
        record = self.apps.get(status.name)
        state = status.state.value
        if record is not None and record.state == state:
            if record.bad_since != status.bad_since or record.since != status.since:
                record.bad_since, record.since = status.bad_since, status.since
                self._dirty = True
            return None
        transition = Transition(status.since, record.state if record else None, state, status.revision,
                                status.reason)
        if record is None:
            record = self.apps[status.name] = AppHistory(state, status.since, status.bad_since,
                                                         deque(maxlen=self.max_entries))
        else:
            key = (record.state, state)
            record.changes[key] = record.changes.get(key, 0) + 1
            record.state, record.since, record.bad_since = state, status.since, status.bad_since
        record.entries.append(transition)
        self._dirty = True
        return transition

    def keep_only(self, names: Iterable[str]) -> None:
        """Forget apps no longer configured, so the file stays bounded by the fleet."""
        wanted = set(names)
        for name in [n for n in self.apps if n not in wanted]:
            del self.apps[name]
            self._dirty = True

    # ---- reading --------------------------------------------------------------------------------

    def entries(self, name: str) -> list[Transition]:
        record = self.apps.get(name)
        return list(record.entries) if record else []

    def changes(self, name: str) -> dict[tuple[str, str], int]:
        record = self.apps.get(name)
        return dict(record.changes) if record else {}

    # ---- the file -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self._snapshot())

    def _snapshot(self) -> list[tuple[str, str, float, float | None, tuple[Transition, ...], dict[tuple[str, str], int]]]:
        """The book as immutable pieces (the entries are frozen): cheap to take on the event loop,
        safe to encode on another thread while the loop records more."""
        return [(name, r.state, r.since, r.bad_since, tuple(r.entries), dict(r.changes))
                for name, r in self.apps.items()]

    def _read(self, data: dict[str, Any]) -> None:
        if data.get("version") != VERSION:
            raise ValueError(f"unsupported version {data.get('version')!r} (expected {VERSION})")
        apps = {}
        for name, r in (data.get("apps") or {}).items():
            entries = deque((Transition.from_dict(e) for e in r.get("entries") or []), maxlen=self.max_entries)
            apps[str(name)] = AppHistory(str(r["state"]), float(r["since"]),
                                         None if r.get("bad_since") is None else float(r["bad_since"]), entries,
                                         {(str(a), str(b)): int(n) for a, b, n in r.get("changes") or []})
        self.apps = apps

    async def load(self) -> None:
        """Read the file; a missing one is a fresh start, a damaged one is logged and ignored."""
        if self.path is None:
            return
        path = self.path

        def read() -> str | None:
            try:
                with open(path, encoding="utf-8") as fh:
                    return fh.read()
            except FileNotFoundError:
                return None
        try:
            text = await asyncio.get_running_loop().run_in_executor(None, read)
        except OSError as exc:
            log.warning("%s: cannot read the app state (%s); starting with no history", path, exc.strerror or exc)
            return
        if text is None:
            return
        try:
            self._read(json.loads(text))
        except json.JSONDecodeError as exc:
            log.warning("%s:%d: app state is not valid JSON (%s); starting with no history", path, exc.lineno, exc.msg)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("%s: app state cannot be read (%s); starting with no history", path, exc)

    async def save(self) -> None:
        """Write the file if anything changed since the last write."""
        if self.path is None or not self._dirty:
            return
        self._dirty = False
        snapshot, path = self._snapshot(), self.path
        try:
            # Encoding a fleet's history takes a while: off the event loop, with the file write.
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: write_atomic(path, json.dumps(_as_dict(snapshot), separators=(",", ":"))))
        except OSError as exc:
            self._dirty = True
            log.warning("%s: cannot write the app state: %s", self.path, exc.strerror or exc)
