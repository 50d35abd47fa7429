"""When apps are evaluated: a dirty set drained by one worker, with bounded concurrency.

Watch events and new commits mark apps dirty; a short pause lets a burst of events for one app
coalesce into one evaluation; an app already being evaluated is evaluated once more afterwards
rather than twice at once. Periodic jobs (the full pass, Git polling, the clock tick) and
fire-and-forget tasks (freeze notices) run here too, so closing the scheduler stops everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from exporter.supervision import Supervisor

Evaluate = Callable[[str], Awaitable[None]]


async def _no_evaluation(name: str) -> None:
    raise RuntimeError(f"the scheduler was asked to evaluate {name!r} before it was given its job")


class Scheduler:
    """The worker and the periodic jobs run as tasks of ``supervisor``: one that fails is logged
    and restarted, and ``/readyz`` says so meanwhile; a periodic job whose last run failed is
    reported down until a run succeeds.

    ``evaluate`` is the job the worker runs for each app; the agent that owns the apps sets it."""

    def __init__(self, concurrency: int = 8, coalesce: float = 0.005,
                 supervisor: Supervisor | None = None) -> None:
        self.evaluate: Evaluate = _no_evaluation
        self.supervisor = supervisor or Supervisor()
        self._coalesce = coalesce
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._sem = asyncio.Semaphore(concurrency)
        self._tasks: list[asyncio.Task[None]] = []
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._closed = False

    def mark(self, name: str) -> None:
        """Evaluate ``name`` soon."""
        self._dirty.add(name)
        self._wake.set()

    async def run_now(self, name: str) -> None:
        """Evaluate ``name`` within the concurrency bound, now."""
        async with self._sem:
            await self.evaluate(name)

    def start(self, periodic: list[tuple[str, float, Callable[[], Awaitable[None]]]]) -> None:
        """Start the worker and the periodic jobs ``(name, seconds, job)``."""
        self.supervisor.start("evaluate", self._worker)
        for name, seconds, job in periodic:
            self.supervisor.start(name, functools.partial(self._every, name, seconds, job))

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` in the background until it ends or the scheduler closes."""
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.append(task)
        task.add_done_callback(self._forget_task)

    async def close(self) -> None:
        self._closed = True
        await self.supervisor.close()
        tasks = self._tasks + list(self._inflight.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _worker(self) -> None:
        while not self._closed:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self._coalesce)  # let a burst of events for one app coalesce
            batch, self._dirty = self._dirty, set()
            for name in batch:
                if name in self._inflight:
                    self._dirty.add(name)  # evaluate again once the running one is done
                    continue
                task = asyncio.create_task(self.run_now(name))
                self._inflight[name] = task
                task.add_done_callback(functools.partial(self._done, name))

    def _done(self, name: str, _task: asyncio.Task[None]) -> None:
        self._inflight.pop(name, None)
        if name in self._dirty:
            self._wake.set()

    async def _every(self, name: str, seconds: float, job: Callable[[], Awaitable[None]]) -> None:
        """Run ``job`` every ``seconds``. A failed run does not end the loop (the next run is the
        retry, on the job's own schedule), but the supervisor hears of it, so it is logged,
        counted and shown on ``/readyz`` until a run succeeds."""
        while not self._closed:
            await self.supervisor.clock.sleep(seconds)
            try:
                await job()
            except Exception as exc:
                self.supervisor.run_failed(name, exc)
            else:
                self.supervisor.run_succeeded(name)

    def _forget_task(self, task: asyncio.Task[None]) -> None:
        if task in self._tasks:
            self._tasks.remove(task)
