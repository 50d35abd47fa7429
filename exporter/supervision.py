"""Long-lived tasks under one supervisor: a failure is logged with its traceback, counted, shown
on ``/readyz`` while the task is down, and the task restarted with backoff.

Without it, a background loop (the evaluation worker, the config-file watch, the reload loop)
that raises anything unforeseen ends silently, and the agent goes on answering ``/healthz`` while
it no longer evaluates or reloads anything. Every task of the agent can be restarted from
scratch (the state lives outside the tasks), so restarting is always the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from exporter.backoff import exponential
from exporter.clock import Clock, SystemClock
from exporter.instruments import TASK_FAILURES_TOTAL

log = logging.getLogger("exporter.supervision")

Job = Callable[[], Awaitable[None]]


class Supervisor:
    """Starts, watches and restarts the agent's long-lived tasks."""

    def __init__(self, *, backoff_base: float = 1.0, backoff_cap: float = 60.0, clock: Clock | None = None) -> None:
        #: The restart backoff waits on this clock.
        self.clock: Clock = clock or SystemClock()
        self._base = backoff_base
        self._cap = backoff_cap
        self._loops: dict[str, asyncio.Task[None]] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        #: Why each task that is not running now is down.
        self._down: dict[str, str] = {}
        self._closing = False

    def start(self, name: str, job: Job) -> None:
        """Run ``job()`` as the task ``name`` until the supervisor closes."""
        if name in self._loops:
            raise ValueError(f"a task named {name!r} is already supervised")
        self._loops[name] = asyncio.create_task(self._supervise(name, job), name=f"supervise {name}")

    async def stop(self, name: str) -> None:
        """End the task ``name`` for good (its reason to run is gone: a cluster removed by a reload)."""
        loop = self._loops.pop(name, None)
        if loop is None:
            return
        loop.cancel()
        running = self._running.pop(name, None)
        if running is not None:
            running.cancel()
        for task in (loop, running):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._down.pop(name, None)

    def task(self, name: str) -> asyncio.Task[None] | None:
        """The running task ``name`` (None while it waits to be restarted)."""
        return self._running.get(name)

    def down(self) -> dict[str, str]:
        """The supervised tasks not running now (or whose last run failed), with why."""
        return dict(self._down)

    def run_failed(self, name: str, exc: BaseException) -> None:
        """A periodic task's run failed; the task goes on, and runs again on its schedule."""
        log.error("task %s failed", name, exc_info=exc)
        TASK_FAILURES_TOTAL.labels(name).inc()
        self._down[name] = f"task {name} failed at its last run: {type(exc).__name__}: {exc}"

    def run_succeeded(self, name: str) -> None:
        self._down.pop(name, None)

    async def _supervise(self, name: str, job: Job) -> None:
        failures = 0
        while not self._closing:
            inner = asyncio.create_task(_call(job), name=name)
            self._running[name] = inner
            try:
                await asyncio.shield(inner)
                why = "ended"
                log.error("task %s ended on its own; it should run until the agent stops", name)
            except asyncio.CancelledError:
                current = asyncio.current_task()
                # The supervisor itself being cancelled (closing, or the loop shutting down) ends it;
                # only the task cancelled alone, from outside, is restarted.
                if self._closing or not inner.cancelled() or (current is not None and current.cancelling()):
                    inner.cancel()
                    raise
                why = "was cancelled"
                log.error("task %s was cancelled from outside the supervisor", name)
            except Exception as exc:
                why = f"failed: {type(exc).__name__}: {exc}"
                log.error("task %s failed", name, exc_info=exc)
            finally:
                self._running.pop(name, None)
            TASK_FAILURES_TOTAL.labels(name).inc()
            failures += 1
            delay = exponential(failures, self._base, self._cap)
            self._down[name] = f"task {name} {why} ({failures} times); restarting in {delay:.1f}s"
            log.warning("%s", self._down[name])
            await self.clock.sleep(delay)
            self._down.pop(name, None)

    async def close(self) -> None:
        self._closing = True
        tasks = list(self._running.values()) + list(self._loops.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._loops.clear()


async def _call(job: Job) -> None:
    await job()


__all__ = ["Supervisor"]
