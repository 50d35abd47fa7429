"""Running a renderer binary (kustomize, kubectl, helm) without blocking the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Sequence
from pathlib import Path

from exporter.render.manifests import RenderError


def summarize(stderr: str, limit: int = 400) -> str:
    """The part of a tool's error output worth a one-line message."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    text = "; ".join(line.removeprefix("Error: ").removeprefix("error: ") for line in lines) or "no error output"
    return text if len(text) <= limit else text[: limit - 3] + "..."


async def run_tool(argv: Sequence[str], *, cwd: Path, time_limit: float, what: str,
                   env: dict[str, str] | None = None) -> str:
    """stdout of ``argv``; ``RenderError("<what> failed: ...")`` on failure or timeout."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=cwd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env={**os.environ, **(env or {})}, start_new_session=True)
    except OSError as exc:
        raise RenderError(f"{what} failed: cannot run {argv[0]}: {exc.strerror}") from None
    try:
        out, err = await asyncio.wait_for(proc.communicate(), time_limit)
    except (TimeoutError, asyncio.CancelledError) as exc:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        if isinstance(exc, asyncio.CancelledError):
            raise
        raise RenderError(f"{what} timed out after {time_limit:g}s") from None
    if proc.returncode != 0:
        raise RenderError(f"{what} failed: {summarize(err.decode(errors='replace'))}")
    return out.decode(errors="replace")
