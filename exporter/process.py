"""Running external tools (git, kustomize, helm) from the event loop.

One place for the rules every subprocess follows: no terminal input, a time limit, and on timeout
or cancellation the whole process group is killed, because git and helm leave helpers behind
(remote-http, ssh, plugins) that would otherwise outlive the agent's interest in them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path


async def run(argv: Sequence[str], *, time_limit: float, cwd: Path | None = None,
              env: Mapping[str, str] | None = None) -> tuple[int, str, str]:
    """``(returncode, stdout, stderr)`` of ``argv``; ``env`` replaces the environment when given.

    Raises ``OSError`` when the program cannot be started and ``TimeoutError`` after ``time_limit``
    seconds (the process group is killed first).
    """
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=dict(env) if env is not None else None, start_new_session=True)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), time_limit)
    except (TimeoutError, asyncio.CancelledError):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")
