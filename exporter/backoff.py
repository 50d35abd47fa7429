"""How long to wait before trying again after the n-th failure in a row: one rule for the
watches, the supervised tasks and failed renders.

Doubling from ``base`` up to ``cap`` makes a lasting failure cheap, and a fresh one retried soon.
Where many callers fail together (every informer of a cluster whose API server restarted),
jitter spreads their retries so they do not all arrive at the same moment.
"""

from __future__ import annotations

import random


def exponential(failures: int, base: float, cap: float) -> float:
    """``base`` after the first failure, doubling after each further one, never above ``cap``."""
    return min(cap, base * 2 ** max(0, failures - 1))


def jittered(failures: int, base: float, cap: float) -> float:
    """:func:`exponential` with "equal jitter": half of it fixed, half random."""
    ceiling = exponential(failures, base, cap)
    return ceiling / 2 + random.uniform(0, ceiling / 2)
