"""Running a renderer binary (kustomize, kubectl, helm) without blocking the event loop."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from exporter.process import run
from exporter.render.manifests import RenderError
from exporter.render.pool import in_thread


def summarize(stderr: str, limit: int = 400) -> str:
    """The part of a tool's error output worth a one-line message."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    text = "; ".join(line.removeprefix("Error: ").removeprefix("error: ") for line in lines) or "no error output"
    return text if len(text) <= limit else text[: limit - 3] + "..."


async def run_tool(argv: Sequence[str], *, cwd: Path, time_limit: float, what: str,
                   env: dict[str, str] | None = None,
                   explain: Callable[[str], RenderError] | None = None) -> str:
    """stdout of ``argv``; ``RenderError("<what> failed: ...")`` on failure or timeout, saying
    what ``explain`` makes of the tool's error output (else its first lines); ``explain`` may read
    the files the output names, so it runs on the render threads."""
    try:
        code, out, err = await run(argv, time_limit=time_limit, cwd=cwd, env={**os.environ, **(env or {})})
    except TimeoutError:  # before OSError, of which it is a subclass
        raise RenderError(f"{what} timed out after {time_limit:g}s") from None
    except OSError as exc:
        raise RenderError(f"{what} failed: cannot run {argv[0]}: {exc.strerror}") from None
    if code != 0:
        reason = await in_thread(explain, err) if explain is not None else summarize(err)
        raise RenderError(f"{what} failed: {reason}")
    return out
