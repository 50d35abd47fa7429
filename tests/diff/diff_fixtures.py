"""Test data shared by the comparison tests: captures from a real Kubernetes 1.24 API server,
and small builders for objects written inline."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.model import KubeObject, ObjectKey

DATA = Path(__file__).resolve().parent / "data"


def fixtures_dir() -> Path | None:
    """``GITOPS_FIXTURES_DIR`` or ``../shared/fixtures/real-apiserver-1.24`` beside the repository."""
    override = os.environ.get("GITOPS_FIXTURES_DIR")
    path = Path(override) if override else (
        Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real-apiserver-1.24")
    return path if path.is_dir() else None


def require_fixtures() -> Path:
    path = fixtures_dir()
    if path is None:
        message = ("real-apiserver-1.24 captures not found: set GITOPS_FIXTURES_DIR or place them at "
                   "../shared/fixtures/real-apiserver-1.24 beside the repository")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


def captured_cases() -> list[tuple[str, str]]:
    """``(case, file)`` for every captured live object; empty when the captures are absent."""
    root = fixtures_dir()
    if root is None:
        return []
    return [(case.name, live.name) for case in sorted((root / "objects").iterdir()) if case.is_dir()
            for live in sorted(case.glob("*-apply.json"))]


def git_object_for(case_dir: Path, live: KubeObject) -> KubeObject:
    for obj in load_json(case_dir / "git.json"):
        if obj["kind"] == live["kind"] and obj["metadata"]["name"] == live["metadata"]["name"]:
            return obj
    raise AssertionError(f"{case_dir.name}: no Git object for {live['kind']} {live['metadata']['name']}")


def docs(text: str) -> list[KubeObject]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def one(text: str) -> KubeObject:
    (only,) = docs(text)
    return only


def key_of(obj: KubeObject) -> ObjectKey:
    return ObjectKey.of(obj)
