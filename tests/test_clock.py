"""The fake clock's timers: a task sleeping on it wakes when the clock is moved past its due time,
and not before, so tests of backoff, staleness and alerting move time instead of waiting for it."""

from __future__ import annotations

import asyncio

import pytest

from exporter.clock import FakeClock


async def test_a_sleeper_wakes_only_once_the_clock_passes_its_due_time() -> None:
    clock = FakeClock()
    sleeper = asyncio.create_task(clock.sleep(30))
    await asyncio.sleep(0)
    clock.advance(29)
    await asyncio.sleep(0)
    assert not sleeper.done()
    clock.advance(1)
    await asyncio.wait_for(sleeper, 1)


async def test_sleepers_wake_in_the_order_they_are_due() -> None:
    clock = FakeClock()
    woke: list[int] = []

    async def nap(seconds: int) -> None:
        await clock.sleep(seconds)
        woke.append(seconds)

    tasks = [asyncio.create_task(nap(s)) for s in (20, 5, 10)]
    await asyncio.sleep(0)
    assert clock.sleeping == 3
    clock.advance(60)
    await asyncio.wait_for(asyncio.gather(*tasks), 1)
    assert woke == [5, 10, 20]


async def test_a_cancelled_sleeper_is_not_woken_and_not_counted() -> None:
    clock = FakeClock()
    sleeper = asyncio.create_task(clock.sleep(10))
    await asyncio.sleep(0)
    sleeper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sleeper
    assert clock.sleeping == 0
    clock.advance(10)  # must not try to wake the cancelled one


def test_the_clock_never_goes_back() -> None:
    with pytest.raises(ValueError, match="cannot go back"):
        FakeClock().advance(-1)
