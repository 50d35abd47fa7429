"""Where rendering runs: a bounded pool of its own, never the event loop's default executor.

Rendering is the one stage whose cost a commit controls. Reading and parsing manifests is bounded
(see :mod:`exporter.render.manifests`) and runs in the worker processes (:mod:`exporter.workers`):
parsing YAML holds the interpreter lock for milliseconds per app, a third of a cold start of
thousands of apps on the event loop's core, while unpickling the parsed objects costs a tenth.
Renderers that run code from the repository (Helm templates, kustomize) run as child processes
that a timeout kills, at most ``MAX_PROCESSES`` at a time. So a template that never ends costs one
slot until its time limit, and neither the HTTP server nor the rest of the agent ever waits
behind it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from exporter.workers import in_worker

__all__ = ["in_thread", "in_worker", "process_slot"]

T = TypeVar("T")

#: Renderer processes that may run at once (per event loop).
MAX_PROCESSES = 2
#: Threads for blocking work that is not worth a process hop.
THREADS = 2

_executor = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="render")
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


async def in_thread(fn: Callable[..., T], *args: object) -> T:
    """Run bounded, blocking work (file reading, YAML parsing) on the render threads."""
    return await asyncio.get_running_loop().run_in_executor(_executor, fn, *args)


def process_slot() -> asyncio.Semaphore:
    """The semaphore every renderer subprocess holds while it runs."""
    loop = asyncio.get_running_loop()
    slot = _slots.get(loop)
    if slot is None:
        slot = _slots[loop] = asyncio.Semaphore(MAX_PROCESSES)
    return slot
