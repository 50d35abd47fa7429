"""Shared by the Kubernetes tests: captured answers, sample objects, waiting for a condition."""

from __future__ import annotations

import asyncio
import json
import pathlib
from collections.abc import Callable
from typing import Any

CAPTURED = pathlib.Path(__file__).parent / "data" / "real-apiserver-1.24"


def captured(name: str) -> Any:
    """A captured answer of the real 1.24 API server (JSON, or a list of JSON lines)."""
    text = (CAPTURED / name).read_text()
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


def configmap(name: str, namespace: str = "default", labels: dict[str, str] | None = None,
              **data: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {"a": "1"}}


async def eventually(check: Callable[[], bool], within: float = 5.0, what: str = "condition") -> None:
    """Wait until ``check()`` holds; fail the test with ``what`` if it does not in time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)
