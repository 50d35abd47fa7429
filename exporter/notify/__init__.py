"""Alerts to Slack and Teams when an app stays bad for longer than its owners tolerate.

The agent calls :meth:`Notifier.observe` after each evaluation of an app and :meth:`Notifier.tick`
periodically, so that thresholds and repeats pass even when nothing changes. Decisions come from
the pure state machine in :mod:`exporter.notify.policy`; messages are built once
(:mod:`exporter.notify.message`), put in a persistent outbox (:mod:`exporter.notify.state`) and
delivered in the background with retries (:mod:`exporter.notify.channels`), so a slow or broken
chat service never holds up evaluation.

Bad-since is tracked here from the states the notifier observes and its clock, not taken from
``AppStatus.bad_since`` alone: the notifier must be right about *its* incidents (what fired, what
needs a resolved) even if the agent's history restarts. The agent's value is used only when it is
earlier than the notifier's own first bad observation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from exporter.clock import Clock, SystemClock
from exporter.config_types import AppConfig, NotificationsConfig
from exporter.instruments import NOTIFICATIONS_TOTAL
from exporter.model import AppStatus
from exporter.notify.channels import Channel, DeliveryError, NotifyError, ThreadRef, open_channel
from exporter.notify.message import (
    LinkTemplateError,
    Message,
    build_alert,
    check_link_templates,
    human_time,
    link_values,
    render_links,
)
from exporter.notify.policy import AlertState, Event, next_due, step
from exporter.notify.routing import channels_for, unknown_channels
from exporter.notify.state import NotifyState, Pending, incident_id, load, save
from exporter.windows import FreezeViolation, WindowSchedule

__all__ = ["Notifier", "NotifyError"]

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[Any]]


def _check(config: NotificationsConfig) -> None:
    """Raise :class:`NotifyError` for routes to undefined channels and link templates that cannot be filled."""
    problems = unknown_channels(config)
    try:
        check_link_templates(config.links)
    except LinkTemplateError as e:
        problems.append(str(e))
    if problems:
        raise NotifyError("; ".join(problems))


class Notifier:
    """Decides, words and delivers notifications; keeps what it promised across restarts.

    ``sleep`` is what waits between retries and for rate limits (tests pass one that advances a
    :class:`~exporter.clock.FakeClock`). ``windows`` lets the notifier mute alerts during
    maintenance windows when ``config.mute_in_maintenance`` is set; the agent may instead pass
    ``muted=`` to :meth:`observe`.
    """

    #: Attempts per delivery round before the message waits for the next round.
    max_attempts = 5
    #: First retry delay; doubles per attempt up to ``max_backoff`` (unless the service says otherwise).
    backoff = 1.0
    max_backoff = 60.0
    #: A channel whose round failed is not tried again for this long.
    retry_interval = 60.0
    #: After a send whose outcome is unknown (sent, no answer), the one more try waits this long.
    unknown_retry_delay = 300.0

    def __init__(self, config: NotificationsConfig, clock: Clock | None = None, *,
                 sleep: Sleep | None = None, windows: WindowSchedule | None = None) -> None:
        _check(config)
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.windows = windows
        #: Waits for rate limits and retries: the clock's own unless told (the firing timer always
        #: waits on the clock).
        self._sleep: Sleep = sleep or self.clock.sleep
        self._state = NotifyState()
        self._channels: dict[str, Channel] = {}
        self._apps: dict[str, tuple[AppConfig, AppStatus]] = {}
        self._last_sent: dict[str, float] = {}
        self._retry_at: dict[str, float] = {}
        self._warned: set[tuple[str, str]] = set()
        self._lock = asyncio.Lock()
        self._save_lock = asyncio.Lock()
        self._saver: asyncio.Task[None] | None = None
        self._dirty = False
        self._task: asyncio.Task[None] | None = None
        self._rerun = False
        self._started = False
        self._timer: asyncio.Task[None] | None = None
        self._timer_due: float | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open channels (reading their secrets) and load the state file. Raises :class:`NotifyError`."""
        if self._started:
            return
        self._channels = await self.open_channels(self.config)
        if self.config.state_path:
            self._state = await load(self.config.state_path)
        self._started = True
        if self._state.outbox:
            log.info("%d notification(s) from before the restart are waiting for delivery",
                     len(self._state.outbox))
            self._kick()

    async def open_channels(self, config: NotificationsConfig) -> dict[str, Channel]:
        """Check a new notifications config and open its channels, without using them yet: the
        first half of a reload, which must fail (raising :class:`NotifyError`) before anything
        of the running config is changed."""
        _check(config)
        channels: dict[str, Channel] = {}
        for cfg in config.channels:
            if cfg.name in channels:
                raise NotifyError(f"notifications.channels: channel {cfg.name!r} is defined twice")
            channels[cfg.name] = await open_channel(cfg)
        return channels

    async def use(self, config: NotificationsConfig, channels: dict[str, Channel]) -> None:
        """The second half of a reload: switch to ``config`` and its opened ``channels``, keeping
        every running incident, thread and undelivered message."""
        if config.state_path != self.config.state_path:
            log.warning("notifications.statePath changes take effect after a restart; keeping %s",
                        self.config.state_path)
            config = replace(config, state_path=self.config.state_path)
        async with self._lock:
            old, self._channels = self._channels, channels
            self.config = config
            self._warned.clear()
            self._retry_at.clear()
        for ch in old.values():
            await ch.close()
        self._arm()
        self._kick()

    async def close(self) -> None:
        """Give the delivery round in progress a moment, then stop; undelivered messages stay saved."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._task and not self._task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 10)
            except TimeoutError:
                self._task.cancel()
                try:
                    await self._task
                except asyncio.CancelledError:
                    pass
        self._dirty = True
        await self._persist()
        if self._saver is not None:
            await self._saver
        for ch in self._channels.values():
            await ch.close()

    # --- decisions ------------------------------------------------------------------------------

    async def observe(self, app: AppConfig, status: AppStatus, *, muted: bool | None = None) -> None:
        """Feed one evaluation result; may queue firing or resolved for delivery."""
        if not self._started:
            await self.start()
        now = self.clock.now()
        self._apps[app.name] = (app, status)
        prev = self._state.alerts.get(app.name, AlertState())
        new, event = step(prev, app.notifications, now, state=status.state.value,
                          reported_bad_since=status.bad_since, muted=self._muted(app, now, muted))
        await self._apply(app, status, prev, new, event, now)
        self._arm()

    async def tick(self) -> None:
        """Re-check every app against the clock (thresholds, repeats) and retry waiting deliveries."""
        now = self.clock.now()
        for name, prev in list(self._state.alerts.items()):
            known = self._apps.get(name)
            if known is None:  # after a restart, until the agent reports the app again
                continue
            app, status = known
            new, event = step(prev, app.notifications, now, muted=self._muted(app, now, None))
            await self._apply(app, status, prev, new, event, now)
        if self._state.outbox:
            self._kick()
        self._arm()

    def _arm(self) -> None:
        """Wake up exactly when the next firing or repeat is due, not at the next periodic tick:
        an incident that lasts longer than its threshold, however briefly, must be reported."""
        now = self.clock.now()
        due = min((d for name, alert in self._state.alerts.items() if name in self._apps
                   if (d := next_due(alert, self._apps[name][0].notifications)) is not None and d > now),
                  default=None)
        if due == self._timer_due and self._timer is not None and not self._timer.done():
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_due = None, due
        if due is not None:
            self._timer = asyncio.create_task(self._tick_at(due), name="notify-timer")

    async def _tick_at(self, due: float) -> None:
        # The clock is read again at least every minute (a suspended VM, a clock step).
        while (wait := due - self.clock.now()) > 0:  # noqa: ASYNC110 - waiting on time, not on an event
            await self.clock.sleep(min(wait, 60.0))
        self._timer, self._timer_due = None, None  # the tick arms the next one
        try:
            await self.tick()
        except Exception:
            log.exception("notification timer failed")

    def _muted(self, app: AppConfig, now: float, muted: bool | None) -> bool:
        if muted is not None:
            return muted
        return bool(self.config.mute_in_maintenance and self.windows and self.windows.in_maintenance(app, now))

    async def _apply(self, app: AppConfig, status: AppStatus, prev: AlertState, new: AlertState,
                     event: Event | None, now: float) -> None:
        changed = new != prev
        if new.bad_since is None and not new.firing:
            changed = self._state.alerts.pop(app.name, None) is not None
        else:
            self._state.alerts[app.name] = new
        if event is not None:
            started = prev.bad_since if event == "resolved" else new.bad_since
            assert started is not None
            msg = build_alert(event, app, app.name, status, new.state, started, now, self.config.links)
            self._enqueue(self._route(app), event, app.name, msg, incident_id(app.name, started))
            log.info("%s: %s (bad since %s)", app.name, event, human_time(started))
        if changed or event is not None:
            self._changed()
        if event is not None:
            self._kick()

    def _route(self, app: AppConfig) -> list[str]:
        names = []
        for name in channels_for(self.config, app):
            if name in self._channels:
                names.append(name)
            elif (app.name, name) not in self._warned:
                self._warned.add((app.name, name))
                log.warning("%s: notifications.channels names unknown channel %r; skipped", app.origin or app.name,
                            name)
        return names

    def _enqueue(self, channels: list[str], event: str, app: str, msg: Message, incident: str | None) -> None:
        now = self.clock.now()
        for name in channels:
            self._state.outbox.append(Pending(id=self._state.next_id, channel=name, event=event, app=app,
                                              message=msg.to_dict(), created=now, incident=incident))
            self._state.next_id += 1
            ch = self._channels.get(name)
            if event == "resolved" and ch is not None and ch.threads:
                self._state.outbox.append(Pending(id=self._state.next_id, channel=name, event=event, app=app,
                                                  message=msg.to_dict(), created=now, incident=incident,
                                                  action="update"))
                self._state.next_id += 1

    async def notify_freeze(self, violation: FreezeViolation) -> None:
        """Tell the freeze channel (else the app's routed channels) about a change during a freeze."""
        known = self._apps.get(violation.app)
        if self.config.freeze_channel:
            channels = [self.config.freeze_channel]
        elif known:
            channels = self._route(known[0])
        else:
            log.warning("%s: freeze violation not sent: no freezeChannel and the app is not known yet",
                        violation.app)
            return
        app_cfg = known[0] if known else None
        facts = [("Type", violation.type), ("Change", violation.change), ("At", human_time(violation.at))]
        if violation.manager:
            facts.append(("Changed by", violation.manager))
        if violation.revision_to:
            facts.append(("Revision", f"{(violation.revision_from or '')[:12]} -> {violation.revision_to[:12]}"))
        msg = Message(event="freeze", app=violation.app, title=f"Change during a freeze: {violation.app}",
                      reason=violation.what, facts=facts,
                      links=render_links(self.config.links,
                                         link_values(app_cfg, violation.app, violation.revision_to)))
        self._enqueue(channels, "freeze", violation.app, msg, None)
        self._changed()
        self._kick()

    async def send_test(self, channel: str) -> None:
        """Send a test message to ``channel`` now, with retries; raise :class:`NotifyError` if it fails."""
        if not self._started:
            await self.start()
        ch = self._channels.get(channel)
        if ch is None:
            known = ", ".join(sorted(self._channels)) or "none"
            raise NotifyError(f"unknown channel {channel!r} (configured: {known})")
        msg = Message(event="test", app="", title="Test notification from gitops-drift-exporter",
                      reason=f"Channel {channel} is configured correctly.",
                      facts=[("Channel", channel), ("Sent", human_time(self.clock.now()))])
        outcome, _, error = await self._attempt(ch, "test", lambda: ch.send(msg, None))
        if outcome != "success":
            raise NotifyError(f"test message to {channel} failed: {error}")

    # --- delivery -------------------------------------------------------------------------------

    def _kick(self) -> None:
        """Start a delivery round in the background (or ask the running one to go again)."""
        self._rerun = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._rounds(), name="notify-delivery")

    async def _rounds(self) -> None:
        while self._rerun:
            self._rerun = False
            try:
                await self._deliver_all()
            except Exception:
                log.exception("notification delivery round failed")

    async def flush(self) -> None:
        """Run a delivery round now and wait until it and any round in progress are done."""
        self._retry_at.clear()
        self._kick()
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _deliver_all(self) -> None:
        async with self._lock:
            blocked: set[str] = set()
            for item in list(self._state.outbox):
                if item.channel in blocked or self._retry_at.get(item.channel, 0) > self.clock.now() \
                        or item.not_before > self.clock.now():
                    continue
                ch = self._channels.get(item.channel)
                if ch is None:
                    log.warning("dropping a %s notification for %s: channel %r is no longer configured",
                                item.event, item.app, item.channel)
                    self._state.outbox.remove(item)
                    self._changed()
                    continue
                await self._persist()  # a message is on disk before it is sent ...
                outcome = await self._deliver(ch, item)
                if outcome == "unknown":
                    self._changed()
                    continue
                if outcome == "retry_later":
                    blocked.add(item.channel)
                    self._retry_at[item.channel] = self.clock.now() + self.retry_interval
                    self._changed()
                    continue
                self._retry_at.pop(item.channel, None)
                self._state.outbox.remove(item)
                self._changed()
                await self._persist()  # ... and off it as soon as it was accepted

    async def _deliver(self, ch: Channel, item: Pending) -> str:
        msg = Message.from_dict(item.message)
        thread = self._state.threads.get(item.incident, {}).get(item.channel) if item.incident else None
        op: Callable[[], Awaitable[ThreadRef | None]]
        if item.action == "update":
            if thread is None:  # the firing message was never posted with a thread; nothing to edit
                return "done"
            firing_thread = thread

            async def op() -> ThreadRef | None:
                await ch.update_resolved(firing_thread, msg)
                return None
            event = "update"
        else:
            reply_to = thread if item.event in ("repeat", "resolved") else None

            def op() -> Awaitable[ThreadRef | None]:
                return ch.send(msg, reply_to)
            event = item.event
        outcome, ref, error = await self._attempt(ch, event, op, idempotent=item.action == "update")
        item.attempts += 1
        if outcome == "unknown":
            item.unknown += 1
            if item.unknown >= 2:
                log.error("dropping a %s notification for %s: %s (twice; not sent again to avoid duplicates)",
                          item.event, item.app, error)
                return "done"
            item.not_before = self.clock.now() + self.unknown_retry_delay
            log.warning("%s; trying once more in %.0fs", error, self.unknown_retry_delay)
            return "unknown"
        if outcome == "success":
            if item.event == "firing" and item.action == "post" and ref and item.incident:
                self._state.threads.setdefault(item.incident, {})[item.channel] = ref
            return "done"
        if outcome == "rejected":
            log.error("dropping a %s notification for %s: %s", item.event, item.app, error)
            return "done"
        return "retry_later"

    async def _attempt(self, ch: Channel, event: str, op: Callable[[], Awaitable[ThreadRef | None]], *,
                       idempotent: bool = False) -> tuple[str, ThreadRef | None, str]:
        """Up to ``max_attempts`` tries with backoff and Retry-After; every outcome is counted.

        Returns ``(outcome, thread, error)`` with outcome ``success``, ``rejected`` (the service
        refused the message; trying again cannot help), ``unavailable``, or ``unknown``: the request
        went out and no answer came back, so the message may have arrived. That is not retried
        here (a retry could post it twice), unless ``op`` is ``idempotent`` (an edit of a message
        through its stored ``ts``, which can safely be sent again).
        """
        error = ""
        for attempt in range(1, self.max_attempts + 1):
            wait = self._last_sent.get(ch.name, float("-inf")) + ch.min_interval - self.clock.now()
            if wait > 0:
                await self._sleep(wait)
            self._last_sent[ch.name] = self.clock.now()
            try:
                ref = await op()
            except DeliveryError as e:
                error = str(e)
                if e.unknown and not idempotent:
                    NOTIFICATIONS_TOTAL.labels(channel=ch.name, event=event, result="unknown").inc()
                    return "unknown", None, error
                if not e.transient:
                    NOTIFICATIONS_TOTAL.labels(channel=ch.name, event=event, result="failure").inc()
                    return "rejected", None, error
                if attempt == self.max_attempts:
                    NOTIFICATIONS_TOTAL.labels(channel=ch.name, event=event, result="failure").inc()
                    log.warning("%s (gave up after %d attempts; will try again later)", error, attempt)
                    return "unavailable", None, error
                NOTIFICATIONS_TOTAL.labels(channel=ch.name, event=event, result="retry").inc()
                delay = e.retry_after if e.retry_after is not None else \
                    min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                log.info("%s; retrying in %.0fs", error, delay)
                await self._sleep(delay)
                continue
            NOTIFICATIONS_TOTAL.labels(channel=ch.name, event=event, result="success").inc()
            return "success", ref, ""
        return "unavailable", None, error

    def _changed(self) -> None:
        """Note a state change and have it written soon, in the background.

        Writes are coalesced: when a thousand apps turn bad in one outage, the file is written a
        few times, not a thousand, and evaluation never waits for the disk. Deliveries call
        :meth:`_persist` themselves, so a message is always on disk before it is sent.
        """
        self._dirty = True
        if self.config.state_path and (self._saver is None or self._saver.done()):
            self._saver = asyncio.create_task(self._persist(), name="notify-state")

    async def _persist(self) -> None:
        """Write the state file if it changed; one write at a time, each of the latest state."""
        if not self.config.state_path:
            self._dirty = False
            return
        async with self._save_lock:
            while self._dirty:
                self._dirty = False
                self._state.prune_threads()
                await save(self.config.state_path, self._state)

    # --- introspection --------------------------------------------------------------------------

    def pending(self) -> int:
        """Messages decided but not yet delivered (for health checks and tests)."""
        return len(self._state.outbox)

    def firing(self) -> list[str]:
        """Apps whose incident has fired and not yet resolved."""
        return sorted(name for name, a in self._state.alerts.items() if a.firing)
