"""Which shard owns an app: the same answer on every replica and across restarts.

Used by the agent (to evaluate only its own apps) and by the HTTP server (to ask the sibling that
owns an app), so it lives below both.
"""

from __future__ import annotations

import hashlib


def shard_of(app_name: str, shards: int) -> int:
    """Stable shard of an app: the first eight bytes of its name's SHA-256, modulo ``shards``."""
    digest = hashlib.sha256(app_name.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards
