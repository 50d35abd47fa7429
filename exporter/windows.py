"""Sync windows (when changes are allowed) and the record of changes made while they were not.

Windows follow Argo CD's rules so that project windows copy over unchanged:

* a window is *active* when its most recent cron fire time, read in the window's time zone, lies
  within ``duration`` before now. The duration is elapsed time, so a 3h window that starts at
  01:00 on the night clocks spring forward ends at 05:00 local time, three real hours later;
* a window covers an app when any of its selectors match: application name, destination
  namespace, destination cluster (globs) or, beyond Argo CD, all of its label globs. A window
  without selectors covers nothing;
* an active deny window freezes the apps it covers; an app covered by allow windows is frozen
  whenever none of them is active; when both an allow and a deny window are active, deny wins.

A freeze is only reported here, never enforced: the agent is read-only. :class:`FreezeLog` keeps
what changed during a freeze: a new commit on the tracked revision (``git``) or an object edited
in the cluster (``live``), with the field manager that made the edit.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import logging
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from exporter.clock import Clock, SystemClock
from exporter.config_types import AppConfig, SyncWindowConfig
from exporter.instruments import FREEZE_VIOLATIONS_TOTAL, SYNC_WINDOW_ACTIVE
from exporter.model import ObjectKey

log = logging.getLogger(__name__)


class WindowError(ValueError):
    """A sync window that cannot be used; the message names the window and the field."""


def window_name(window: SyncWindowConfig, index: int) -> str:
    """The name used in metrics and messages: the configured one, else ``<kind>-<index>``."""
    return window.name or f"{window.kind}-{index}"


class _Compiled:
    """A validated window that remembers its current cron period.

    Between two fire times the last start does not change, so ``active`` is one comparison for
    every app and every evaluation until the next fire; croniter runs once per period, not once
    per question (it costs hundreds of microseconds, and a fleet asks thousands of times a pass).
    """

    def __init__(self, config: SyncWindowConfig, name: str, zone: ZoneInfo) -> None:
        self.config, self.name, self.zone = config, name, zone
        self._period = (1.0, 0.0)  # [last start, next start): empty until first asked

    def active(self, now: float) -> bool:
        start, nxt = self._period
        if not start <= now < nxt:
            start, nxt = cron_period(self.config.schedule, self.zone, now)
            self._period = (start, nxt)
        return now < start + self.config.duration


def _compile(window: SyncWindowConfig, index: int) -> _Compiled:
    where = f"windows[{index}]" + (f" ({window.name})" if window.name else "")
    if window.kind not in ("allow", "deny"):
        raise WindowError(f"{where}: kind must be 'allow' or 'deny', not {window.kind!r}")
    if not isinstance(window.schedule, str) or len(window.schedule.split()) != 5 \
            or not croniter.is_valid(window.schedule):
        raise WindowError(f"{where}: schedule {window.schedule!r} is not a five-field cron expression")
    if not window.duration or window.duration <= 0:
        raise WindowError(f"{where}: duration must be positive, not {window.duration!r}")
    try:
        zone = ZoneInfo(window.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise WindowError(f"{where}: timeZone {window.time_zone!r} is not a known IANA time zone") from None
    return _Compiled(window, window_name(window, index), zone)


def _any_glob(patterns: Iterable[str], value: str) -> bool:
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


def covers(window: SyncWindowConfig, app: AppConfig) -> bool:
    """Whether ``window`` applies to ``app`` (any selector matches; labels must all match; a
    window of certain projects covers only their apps)."""
    if window.projects and not _any_glob(window.projects, app.project):
        return False
    if window.applications and _any_glob(window.applications, app.name):
        return True
    if window.namespaces and _any_glob(window.namespaces, app.destination.namespace):
        return True
    if window.clusters and _any_glob(window.clusters, app.destination.cluster):
        return True
    if window.labels:
        return all(k in app.labels and fnmatch.fnmatchcase(app.labels[k], v)
                   for k, v in window.labels.items())
    return False


def last_start(schedule: str, zone: ZoneInfo, now: float) -> float:
    """Unix time of the most recent cron fire at or before ``now``, with the cron read in ``zone``.

    croniter walks local wall-clock time in the zone, so "09:00" stays 09:00 local on both sides of
    a daylight-saving change; converting the result back to unix time gives the real instant.
    """
    local_now = datetime.fromtimestamp(now, UTC).astimezone(zone)
    # A fire exactly at ``now`` counts: step a microsecond past it before looking back.
    prev: datetime = croniter(schedule, local_now + timedelta(microseconds=1)).get_prev(datetime)
    return prev.timestamp()


def cron_period(schedule: str, zone: ZoneInfo, now: float) -> tuple[float, float]:
    """``(last start, next start)`` around ``now``: the cron period ``now`` falls in."""
    start = last_start(schedule, zone, now)
    local = datetime.fromtimestamp(start, UTC).astimezone(zone)
    nxt: datetime = croniter(schedule, local).get_next(datetime)
    return start, nxt.timestamp()


def is_active(window: SyncWindowConfig, now: float, zone: ZoneInfo | None = None) -> bool:
    """Whether the window is open at ``now`` (its last start lies within ``duration``)."""
    start = last_start(window.schedule, zone or ZoneInfo(window.time_zone or "UTC"), now)
    return start <= now < start + window.duration


class WindowSchedule:
    """All configured windows, answering "is this app frozen now?".

    Construction validates every window and raises :class:`WindowError` naming the bad one, so a
    typo in a cron line stops the agent at start rather than silently never freezing.
    """

    def __init__(self, windows: Iterable[SyncWindowConfig], clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self._windows = [_compile(w, i) for i, w in enumerate(windows)]

    def replace(self, windows: Iterable[SyncWindowConfig]) -> None:
        """Take new windows (a reload) in place, so everyone holding this schedule sees them; all
        are compiled first, so a bad one leaves the old set whole."""
        self._windows = [_compile(w, i) for i, w in enumerate(windows)]

    def _active(self, now: float) -> Iterator[tuple[_Compiled, bool]]:
        for w in self._windows:
            yield w, w.active(now)

    def active_windows(self, now: float | None = None) -> list[tuple[SyncWindowConfig, bool]]:
        """Every window with whether it is active at ``now`` (default: the clock's now)."""
        at = self.clock.now() if now is None else now
        return [(w.config, active) for w, active in self._active(at)]

    def _for_app(self, app: AppConfig, now: float) -> list[tuple[_Compiled, bool]]:
        return [(w, active) for w, active in self._active(now) if covers(w.config, app)]

    def is_frozen(self, app: AppConfig, now: float | None = None) -> bool:
        """Argo CD's rule: an active deny freezes; allow windows freeze everything outside them."""
        at = self.clock.now() if now is None else now
        mine = self._for_app(app, at)
        if any(active and w.config.kind == "deny" for w, active in mine):
            return True
        allows = [active for w, active in mine if w.config.kind == "allow"]
        return bool(allows) and not any(allows)

    def in_maintenance(self, app: AppConfig, now: float | None = None) -> bool:
        """Whether an active allow window marked ``maintenance`` covers the app (alerts may mute)."""
        at = self.clock.now() if now is None else now
        return any(active and w.config.kind == "allow" and w.config.maintenance
                   for w, active in self._for_app(app, at))

    def update_metrics(self, now: float | None = None) -> None:
        """Set ``gitops_sync_window_active`` for every window."""
        at = self.clock.now() if now is None else now
        for w, active in self._active(at):
            SYNC_WINDOW_ACTIVE.labels(window=w.name, kind=w.config.kind).set(1 if active else 0)


# --- freeze violations -------------------------------------------------------------------------

#: ``git`` and ``live`` are changes during a freeze; ``suspend`` marks where the app's deployer (a
#: Flux Kustomization) was suspended or resumed: a freeze of its own, so the report shows it.
ViolationType = Literal["git", "live", "suspend"]


@dataclass(frozen=True)
class FreezeViolation:
    """One change seen while an app was frozen.

    ``change`` is ``merge`` for Git, else ``created``, ``deleted``, ``image`` or ``spec``. ``what``
    is a one-line human description; it names field paths and image references, never field values,
    so a Secret edited during a freeze does not leak through the report.
    """

    app: str
    type: ViolationType
    at: float
    what: str
    change: str
    manager: str | None = None
    revision_from: str | None = None
    revision_to: str | None = None
    object: ObjectKey | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["object"] = asdict(self.object) if self.object else None
        d["object_ref"] = str(self.object) if self.object else None
        d["time"] = _iso(self.at)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FreezeViolation:
        obj = d.get("object")
        return cls(app=str(d["app"]), type=d["type"], at=float(d["at"]), what=str(d.get("what", "")),
                   change=str(d.get("change", "")), manager=d.get("manager"),
                   revision_from=d.get("revision_from"), revision_to=d.get("revision_to"),
                   object=ObjectKey(**obj) if isinstance(obj, dict) else None)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def field_manager(obj: dict[str, Any] | None) -> str | None:
    """The manager of the newest ``managedFields`` entry: who touched the object last.

    Entries for the ``status`` subresource are skipped, since controllers writing status are not
    who changed the spec. On equal times the later entry wins (the API server appends).
    """
    entries = ((obj or {}).get("metadata") or {}).get("managedFields") or []
    best: tuple[datetime, int] | None = None
    manager: str | None = None
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or e.get("subresource") == "status":
            continue
        t = _parse_time(e.get("time")) or datetime.min.replace(tzinfo=UTC)
        if best is None or (t, i) >= best:
            best, manager = (t, i), e.get("manager")
    return manager


#: Metadata the API server and controllers rewrite on their own; never a human change.
_VOLATILE_TOP = frozenset({"metadata", "status", "apiVersion", "kind"})
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def _images(node: Any, path: str = "") -> dict[str, str]:
    """Container images by JSON pointer of their container, found anywhere under ``node``."""
    found: dict[str, str] = {}
    if isinstance(node, dict):
        for k, v in node.items():
            if k in _CONTAINER_LISTS and isinstance(v, list):
                for i, c in enumerate(v):
                    if isinstance(c, dict) and isinstance(c.get("image"), str):
                        found[f"{path}/{k}/{c.get('name') or i}"] = c["image"]
            else:
                found.update(_images(v, f"{path}/{k}"))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found.update(_images(v, f"{path}/{i}"))
    return found


def _changed_paths(before: Any, after: Any, path: str = "", limit: int = 5) -> list[str]:
    """JSON pointers where ``before`` and ``after`` differ (first ``limit``), values left out."""
    out: list[str] = []
    if isinstance(before, dict) and isinstance(after, dict):
        for k in sorted(set(before) | set(after)):
            if not path and k in _VOLATILE_TOP:
                continue
            out.extend(_changed_paths(before.get(k), after.get(k), f"{path}/{k}", limit - len(out)))
            if len(out) >= limit:
                break
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            out.extend(_changed_paths(b, a, f"{path}/{i}", limit - len(out)))
            if len(out) >= limit:
                break
    elif before != after:
        out.append(path or "/")
    return out[:limit]


_CHANGE_ALIASES = {"added": "created", "create": "created", "created": "created",
                   "deleted": "deleted", "delete": "deleted",
                   "modified": "modified", "update": "modified", "updated": "modified"}


def classify_live_change(change: str, before: dict[str, Any] | None,
                         after: dict[str, Any] | None) -> tuple[str, str] | None:
    """``(change, what)`` for a live edit, or None when nothing a human would call a change happened.

    ``change`` may be a watch event type (ADDED, MODIFIED, DELETED) or created/modified/deleted;
    anything else is inferred from which of ``before`` and ``after`` exist (a watch DELETED event
    still carries the object, so the event type wins when it is known). Status, managedFields,
    resourceVersion and other metadata rewritten by the server and by controllers are not changes;
    image edits are told apart from other spec edits because they are the edit people most often
    make by hand during an incident.
    """
    kind = _CHANGE_ALIASES.get(change.lower())
    if kind is None:
        kind = "created" if before is None and after is not None else \
            "deleted" if after is None and before is not None else "modified"
    if kind == "created":
        return "created", "created in the cluster"
    if kind == "deleted":
        return "deleted", "deleted from the cluster"
    before, after = before or {}, after or {}
    old_images, new_images = _images(before.get("spec")), _images(after.get("spec"))
    if old_images != new_images:
        moved = [f"{old_images.get(k, '-')} -> {new_images.get(k, '-')}"
                 for k in sorted(set(old_images) | set(new_images)) if old_images.get(k) != new_images.get(k)]
        return "image", "image " + ", ".join(moved)
    paths = _changed_paths(before, after)
    if not paths:
        return None
    return "spec", "changed " + ", ".join(paths)


class FreezeLog:
    """Changes made while apps were frozen, for ``/api/v1/freezes`` and ``report freeze``.

    The caller decides *whether* an app is frozen (see :class:`WindowSchedule`) and hands every
    change it sees here. With ``path`` set, each violation is appended to a JSON lines file and the
    file is read back on start, so the report covers restarts. Violations are seen from the watch
    event handler, so on a running event loop the appends go to one writer thread, in order, and
    never block the loop (a slow or full disk delays the file, not the agent); :meth:`flush` waits
    for them. Without a running loop (a command, a script) they are written before returning.
    """

    #: Violations kept in memory; older ones stay in the file.
    max_in_memory = 10_000

    def __init__(self, path: str | None = None, clock: Clock | None = None) -> None:
        self.path = path
        self.clock: Clock = clock or SystemClock()
        self._items: list[FreezeViolation] = []
        self._writer: ThreadPoolExecutor | None = None
        self._written: Future[None] | None = None
        if path and os.path.exists(path):
            self._load(path)

    def _load(self, path: str) -> None:
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    self._items.append(FreezeViolation.from_dict(json.loads(line)))
                except (ValueError, KeyError, TypeError) as e:
                    log.warning("%s:%d: skipping unreadable freeze record (%s)", path, lineno, e)
        self._items = self._items[-self.max_in_memory:]

    def _add(self, v: FreezeViolation) -> FreezeViolation:
        self._items.append(v)
        del self._items[:-self.max_in_memory]
        if self.path:
            self._append(self.path, json.dumps(v.to_dict(), sort_keys=True) + "\n")
        if v.type == "suspend":
            log.info("freeze: %s %s", v.app, v.what)
            return v
        FREEZE_VIOLATIONS_TOTAL.labels(app=v.app, type=v.type).inc()
        log.warning("freeze violation: %s %s %s", v.app, v.type, v.what)
        return v

    def record_suspension(self, app: str, what: str, suspended: bool) -> FreezeViolation | None:
        """The app's deployer (``what``) was suspended or resumed; None when the log already says
        so (an agent restarting while a Kustomization stays suspended adds nothing)."""
        change = "suspended" if suspended else "resumed"
        last = next((v for v in reversed(self._items) if v.app == app and v.type == "suspend"), None)
        if (last.change if last is not None else "resumed") == change:
            return None
        text = f"{what} suspended: Git is not applied until it is resumed" if suspended else f"{what} resumed"
        return self._add(FreezeViolation(app=app, type="suspend", at=self.clock.now(), change=change, what=text))

    def _append(self, path: str, line: str) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            _append_line(path, line)
            return
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="freeze-log")
        self._written = self._writer.submit(_append_line, path, line)

    async def flush(self) -> None:
        """Wait until every violation recorded so far is in the file."""
        if self._written is not None:
            await asyncio.wrap_future(self._written)

    async def close(self) -> None:
        await self.flush()
        if self._writer is not None:
            self._writer.shutdown(wait=False)
            self._writer = None

    def record_git(self, app: str, old_sha: str, new_sha: str) -> FreezeViolation:
        """A new commit on the app's revision while it was frozen (a merge during the freeze)."""
        return self._add(FreezeViolation(
            app=app, type="git", at=self.clock.now(), change="merge",
            what=f"revision {old_sha[:12]} -> {new_sha[:12]}", revision_from=old_sha, revision_to=new_sha))

    def record_live(self, app: str, key: ObjectKey, change: str, before: dict[str, Any] | None,
                    after: dict[str, Any] | None) -> FreezeViolation | None:
        """An object of the app changed in the cluster while frozen; None if it was no real change."""
        found = classify_live_change(change, before, after)
        if found is None:
            return None
        kind, what = found
        return self._add(FreezeViolation(
            app=app, type="live", at=self.clock.now(), change=kind, what=f"{key}: {what}",
            manager=field_manager(after) if after else None, object=key))

    def since(self, ts: float) -> list[FreezeViolation]:
        return [v for v in self._items if v.at >= ts]

    def to_json(self, since: float | None = None) -> list[dict[str, Any]]:
        """The violations for ``/api/v1/freezes`` as JSON-ready dicts, oldest first."""
        items = self._items if since is None else self.since(since)
        return [v.to_dict() for v in items]

    def report(self, since: float, output: str = "table") -> str:
        """The ``report freeze`` output: ``table`` (terminal), ``json`` or ``markdown``."""
        items = self.since(since)
        if output == "json":
            return json.dumps({"since": _iso(since), "violations": [v.to_dict() for v in items]},
                              indent=2, sort_keys=True)
        header = ["TIME", "APP", "TYPE", "CHANGE", "MANAGER", "WHAT"]
        rows = [[_iso(v.at), v.app, v.type, v.change, v.manager or "-", v.what] for v in items]
        if output == "markdown":
            def cell(s: str) -> str:
                return s.replace("|", "\\|").replace("\n", " ")
            lines = [f"## Freeze violations since {_iso(since)}", ""]
            if not rows:
                return "\n".join([*lines, "No changes during freezes."]) + "\n"
            lines.append("| " + " | ".join(h.capitalize() for h in header) + " |")
            lines.append("|" + "---|" * len(header))
            lines.extend("| " + " | ".join(cell(c) for c in r) + " |" for r in rows)
            return "\n".join(lines) + "\n"
        if output != "table":
            raise ValueError(f"unknown output {output!r}: expected table, json or markdown")
        if not rows:
            return f"No changes during freezes since {_iso(since)}.\n"
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
        return "".join("  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1] + "\n"
                       for r in [header, *rows])


def _append_line(path: str, line: str) -> None:
    """One violation appended to the freeze log (in the writer thread when the agent runs)."""
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line)
    except OSError as exc:
        log.error("cannot append to the freeze log %s: %s", path, exc.strerror or exc)
