"""The garbage collector around a cold start.

A cold start builds a quarter of a million cached objects and the status of thousands of apps,
all long-lived and free of reference cycles. Python's collector does a full pass over every
container object each time the long-lived ones have grown by a quarter, so while they are being
built it walks the growing heap again and again: at 10,000 apps that is seconds of the event
loop's core, during which nothing feeds the worker processes. So the start pauses automatic
collection, collects once at the end, and then moves what survived out of the collector's sight
(``gc.freeze``): later passes walk only what changed since. Frozen objects are still freed when
their last reference goes; only a cycle among them would be kept, and the hot paths make none
(``tests/e2e/test_cold_start.py`` checks that a cold start leaves next to no cyclic garbage).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def building_long_lived() -> Iterator[None]:
    """Pause automatic collection for the block; then collect once and freeze what survived."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.freeze()
        if enabled:
            gc.enable()
