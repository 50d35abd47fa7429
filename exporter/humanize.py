"""Durations for people, read and written: what they type in configs and on the command line
(``90s``, ``1h30m``, ``7d``), and the same words on the status page and in alerts."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(text: str) -> float:
    """Seconds from ``90s``, ``10m``, ``4h``, ``1d``, ``1w``, ``1h30m`` or a plain number of
    seconds. Raises ``ValueError`` with a message fit to show a user."""
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        pos, seconds = 0, 0.0
        for match in _PART.finditer(text):
            if match.start() != pos:
                break
            seconds += float(match.group(1)) * _UNITS[match.group(2)]
            pos = match.end()
        if pos != len(text) or not text:
            raise ValueError(f"must be a duration like 90s, 10m, 4h, 1d or 1h30m, not {text!r}") from None
    if seconds < 0:
        raise ValueError(f"must not be negative, got {text!r}")
    return seconds


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
