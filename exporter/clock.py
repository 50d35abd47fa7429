"""Time as a dependency.

Thresholds, repeats and sync windows are all questions about "now". Passing a clock in, instead of
calling :func:`time.time` inside the logic, lets tests walk through hours of alerting and a
daylight-saving change in milliseconds, and keeps the decision code pure.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


def monotonic() -> float:
    """Seconds on a clock that never jumps: for how long work took (metrics, deadlines of a
    running call, least-recently-used order), never for a decision about the apps."""
    return time.monotonic()


class Clock(Protocol):
    """Anything that tells the current time as unix seconds, and waits on that time."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None:
        """Return once ``seconds`` have passed on this clock: every timer of a decision (backoff,
        the staleness bound, a periodic job, a notification due) waits here."""
        ...


class SystemClock:
    """Wall-clock time. Unix seconds are what users see in messages and metrics, so not monotonic."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = float(start)
        #: Sleepers by when they are due (ties in the order they began to sleep).
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Wait until :meth:`advance` has moved the clock ``seconds`` on (a zero wait yields once)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), woken))
        await woken

    async def skip(self, seconds: float) -> None:
        """A sleep that moves the clock itself: for a part whose waits the test does not pace
        (a rate limit between two messages), so it goes on at once with the time passed."""
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)

    @property
    def sleeping(self) -> int:
        """How many tasks wait on this clock now."""
        return sum(1 for _, _, f in self._sleepers if not f.done())

    def advance(self, seconds: float) -> None:
        """Move the clock on; every sleeper now due wakes (at the loop's next turn)."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go back in time (advance by {seconds})")
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, woken = heapq.heappop(self._sleepers)
            if not woken.done():
                woken.set_result(None)
