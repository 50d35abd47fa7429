"""Worker processes take parsing off the event loop's core; where a sandbox has none, threads do."""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest

from exporter import workers


async def test_work_runs_in_another_process() -> None:
    assert await workers.in_worker(os.getpid) != os.getpid()


async def test_a_worker_that_died_is_replaced_and_the_call_made_again() -> None:
    pid = await workers.in_worker(os.getpid)
    os.kill(pid, signal.SIGKILL)
    assert await workers.in_worker(sum, [1, 2, 3]) == 6
    assert await workers.in_worker(os.getpid) != pid


async def test_an_exception_in_a_worker_is_raised_to_the_caller() -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        await workers.in_worker(int, "seven")


async def test_without_posix_semaphores_the_work_runs_on_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_semaphores(method: str) -> None:
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(workers.multiprocessing, "get_context", no_semaphores)
    monkeypatch.setattr(workers, "_pool", None)
    assert await workers.in_worker(os.getpid) == os.getpid()
    assert isinstance(workers._pool, ThreadPoolExecutor)
