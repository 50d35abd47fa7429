"""Worker processes for CPU-heavy pure functions: the cores the event loop leaves free.

The agent runs on one event loop, so one core does its comparisons; parsing (YAML manifests, large
JSON list answers) would hold the interpreter lock on that same core for a third of a cold start
of thousands of apps. ``in_worker`` runs such work in a small process pool instead: arguments and
results are pickled, which costs a fraction of the parsing it saves the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

#: Worker processes: every core but the event loop's, at least one, at most four.
WORKERS = max(1, min(4, (os.cpu_count() or 2) - 1))

_pool: Executor | None = None


def _workers() -> Executor:
    global _pool
    if _pool is None:
        try:
            # "spawn": a fork of a process with threads and an event loop is not safe to run Python in.
            _pool = ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn"))
        except (OSError, NotImplementedError) as exc:
            # No POSIX semaphores (a sandbox without /dev/shm): the same work, on threads.
            log.warning("no worker processes (%s); parsing on threads instead", exc)
            _pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="worker")
    return _pool


async def in_worker(fn: Callable[..., T], *args: object) -> T:
    """Run ``fn`` (a module-level function) in a worker process; its exceptions are raised here.

    A pool whose worker died (killed, out of memory) is replaced and the call made once more."""
    global _pool
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_workers(), fn, *args)
    except BrokenProcessPool:
        _pool = None
        return await loop.run_in_executor(_workers(), fn, *args)
