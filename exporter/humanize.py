"""Durations for people: the same words on the status page and in alerts."""

from __future__ import annotations


def human_duration(seconds: float) -> str:
    """``45s``, ``12m``, ``1h 5m``, ``2d 3h``: precise enough to act on, short enough for a title."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h}h {m}m" if m else f"{h}h"
    d, h = divmod(s // 3600, 24)
    return f"{d}d {h}h" if h else f"{d}d"
