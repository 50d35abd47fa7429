"""Long-lived tasks are supervised: a failure is logged with its traceback, shown while the task is
down, and the task restarted; a task killed from outside is restarted too."""

from __future__ import annotations

import asyncio
import functools
import logging

import pytest

from exporter.clock import FakeClock
from exporter.pipeline.scheduling import Scheduler
from exporter.supervision import Supervisor


async def until(condition, what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.002)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_task_that_fails_is_logged_with_its_traceback_and_restarted(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("reload loop broke")
        await asyncio.Event().wait()

    supervisor = Supervisor(backoff_base=0.01)
    with caplog.at_level(logging.ERROR, logger="exporter.supervision"):
        supervisor.start("config-reload", flaky)
        await until(lambda: len(runs) == 2, "the restart")
    failed = [r for r in caplog.records if r.getMessage() == "task config-reload failed"]
    assert len(failed) == 1 and failed[0].exc_info is not None and "reload loop broke" in str(failed[0].exc_info[1])
    assert supervisor.down() == {}
    await supervisor.close()


async def test_a_task_killed_from_outside_is_logged_and_restarted(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    async def helper() -> None:
        runs.append(1)
        await asyncio.Event().wait()

    supervisor = Supervisor(backoff_base=0.01)
    supervisor.start("config-file-watch", helper)
    await until(lambda: supervisor.task("config-file-watch") is not None and runs, "the first run")
    task = supervisor.task("config-file-watch")
    assert task is not None
    with caplog.at_level(logging.ERROR, logger="exporter.supervision"):
        task.cancel()
        await until(lambda: len(runs) == 2, "the restart")
    assert any("cancelled from outside" in r.getMessage() for r in caplog.records)
    await supervisor.close()


async def test_while_a_task_waits_to_be_restarted_it_is_reported_down() -> None:
    async def broken() -> None:
        raise KeyError("settings")

    supervisor = Supervisor(backoff_base=30.0)
    supervisor.start("evaluate", broken)
    await until(lambda: supervisor.down(), "the failure")
    assert "task evaluate failed: KeyError" in supervisor.down()["evaluate"]
    assert "restarting in 30.0s" in supervisor.down()["evaluate"]
    await supervisor.close()


async def test_a_task_that_returns_is_a_failure_too() -> None:
    async def quits() -> None:
        return None

    supervisor = Supervisor(backoff_base=30.0)
    supervisor.start("git-poll", quits)
    await until(lambda: supervisor.down(), "the report")
    assert "task git-poll ended" in supervisor.down()["git-poll"]
    await supervisor.close()


async def test_closing_stops_every_task_without_restarting_it() -> None:
    stopped: list[str] = []

    async def runs_forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.append("x")

    supervisor = Supervisor(backoff_base=0.01)
    supervisor.start("tick", runs_forever)
    await until(lambda: supervisor.task("tick") is not None, "the start")
    await asyncio.sleep(0)
    await supervisor.close()
    assert stopped == ["x"] and supervisor.task("tick") is None and supervisor.down() == {}


async def test_a_task_stopped_by_name_ends_for_good_and_the_others_run_on() -> None:
    stopped: list[str] = []

    async def runs_forever(name: str) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.append(name)

    supervisor = Supervisor(backoff_base=0.01)
    supervisor.start("probe a", functools.partial(runs_forever, "a"))
    supervisor.start("probe b", functools.partial(runs_forever, "b"))
    await until(lambda: supervisor.task("probe a") is not None and supervisor.task("probe b") is not None, "the start")
    await supervisor.stop("probe a")
    await asyncio.sleep(0.05)
    assert stopped == ["a"] and supervisor.task("probe a") is None and supervisor.down() == {}
    assert supervisor.task("probe b") is not None
    supervisor.start("probe a", functools.partial(runs_forever, "a"))  # the name may be used again
    await until(lambda: supervisor.task("probe a") is not None, "the second start")
    await asyncio.sleep(0)
    await supervisor.close()
    assert sorted(stopped) == ["a", "a", "b"]


async def test_the_restart_backoff_waits_on_the_injected_clock() -> None:
    clock = FakeClock()
    runs: list[int] = []

    async def fails() -> None:
        runs.append(1)
        raise RuntimeError("broken")

    supervisor = Supervisor(backoff_base=30.0, clock=clock)
    supervisor.start("git-poll", fails)
    try:
        await until(lambda: clock.sleeping == 1, "the first failure's backoff")
        clock.advance(29.0)
        await asyncio.sleep(0.01)
        assert len(runs) == 1  # thirty seconds on the agent's clock, not now
        clock.advance(1.0)
        await until(lambda: len(runs) == 2 and clock.sleeping == 1, "the restart")
        assert "restarting in 60.0s" in supervisor.down()["git-poll"]  # and the next wait doubles
    finally:
        await supervisor.close()


async def test_a_periodic_job_that_keeps_failing_is_reported_down_until_a_run_succeeds() -> None:
    clock = FakeClock()
    supervisor = Supervisor(clock=clock)
    scheduler = Scheduler(supervisor=supervisor)
    broken = [True]

    async def full_pass() -> None:
        if broken[0]:
            raise KeyError("settings")

    scheduler.start([("full-pass", 60.0, full_pass)])
    try:
        await until(lambda: clock.sleeping == 1, "the job to wait for its first run")
        clock.advance(60.0)
        await until(lambda: "full-pass" in supervisor.down(), "the failed run to be reported")
        assert "task full-pass failed at its last run: KeyError" in supervisor.down()["full-pass"]
        assert supervisor.task("full-pass") is not None  # the job goes on: its next run is the retry
        broken[0] = False
        await until(lambda: clock.sleeping == 1, "the job to wait for its next run")
        clock.advance(60.0)
        await until(lambda: "full-pass" not in supervisor.down(), "the next run to clear it")
    finally:
        await scheduler.close()


async def test_cancelling_the_supervisor_with_its_task_ends_both_instead_of_restarting() -> None:
    clock = FakeClock()
    supervisor = Supervisor(clock=clock)
    supervisor.start("tick", asyncio.Event().wait)
    await until(lambda: supervisor.task("tick") is not None, "the start")
    loops = [t for t in asyncio.all_tasks() if t.get_name() == "supervise tick"]
    inner = supervisor.task("tick")
    assert inner is not None and len(loops) == 1
    inner.cancel()  # what a loop shutting down does: every task cancelled at once
    loops[0].cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(loops[0], 1)
    assert supervisor.task("tick") is None
