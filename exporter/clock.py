"""Time as a dependency.

Thresholds, repeats and sync windows are all questions about "now". Passing a clock in, instead of
calling :func:`time.time` inside the logic, lets tests walk through hours of alerting and a
daylight-saving change in milliseconds, and keeps the decision code pure.
"""

from __future__ import annotations

import time
from typing import Protocol


def monotonic() -> float:
    """Seconds on a clock that never jumps: for how long work took (metrics, deadlines of a
    running call, least-recently-used order), never for a decision about the apps."""
    return time.monotonic()


class Clock(Protocol):
    """Anything that tells the current time as unix seconds."""

    def now(self) -> float: ...


class SystemClock:
    """Wall-clock time. Unix seconds are what users see in messages and metrics, so not monotonic."""

    def now(self) -> float:
        return time.time()


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back in time (advance by {seconds})")
        self._now += seconds
