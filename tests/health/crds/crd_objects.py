"""Custom resources cut down to the fields the health rules read, written by the tests."""

from __future__ import annotations

from typing import Any


def obj(api_version: str, kind: str, status: Any = None, spec: Any = None, generation: int | None = None) -> dict:
    metadata: dict[str, Any] = {"name": "x", "namespace": "ns"}
    if generation is not None:
        metadata["generation"] = generation
    out: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec or {}}
    if status is not None:
        out["status"] = status
    return out


def c(type_: str, status: str, **extra: Any) -> dict:
    return {"type": type_, "status": status, **extra}
