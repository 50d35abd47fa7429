"""Every object a real API server stored after ``kubectl apply`` is in sync with its manifest.

The captures hold the server's defaults, canonical quantities, allocated addresses and ports,
managedFields and the last-applied annotation: nothing of that is drift.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from diff_fixtures import captured_cases, git_object_for, load_json, require_fixtures

from exporter.config_types import CompareOptions
from exporter.diff import SchemaHints, compare
from exporter.diff.schema import NO_DEFAULT, SchemaNode, builtin_schema, with_defaults
from exporter.model import ObjectKey, Sync

CASES = captured_cases()


def _hints(captures: Path) -> dict[tuple[str, str], SchemaHints]:
    (crd,) = load_json(captures / "objects" / "a-crd" / "git.json")
    return SchemaHints.from_crd(crd)


def test_the_captures_are_present() -> None:
    root = require_fixtures()
    assert (root / "objects").is_dir() and (root / "edits").is_dir()


@pytest.mark.parametrize(("case", "file"), CASES, ids=[f"{c}/{f}" for c, f in CASES])
def test_captured_live_object_is_synced_with_its_git_manifest(captures: Path, case: str, file: str) -> None:
    live = load_json(captures / "objects" / case / file)
    desired = git_object_for(captures / "objects" / case, live)
    key = ObjectKey.of(live)

    result = compare(desired, live, CompareOptions(), schema=_hints(captures).get((key.group, key.kind)))

    assert result.sync is Sync.SYNCED, result.differences
    assert result.differences == []


def _defaults_found(node: SchemaNode, live: Any, git: Any, path: str):  # type: ignore[no-untyped-def]
    """(path, table default, live value) wherever the live object has a defaulted field Git omits."""
    if isinstance(live, dict):
        for name, child in node.fields.items():
            if name not in live:
                continue
            git_value = git.get(name) if isinstance(git, dict) else None
            if child.default is not NO_DEFAULT and git_value is None:
                default = child.default(live) if callable(child.default) else child.default
                yield f"{path}/{name}", default, live[name]
            yield from _defaults_found(child, live[name], git_value, f"{path}/{name}")
    elif isinstance(live, list) and node.items is not None:
        for index, item in enumerate(live):
            git_item = git[index] if isinstance(git, list) and index < len(git) else None
            yield from _defaults_found(node.items, item, git_item, f"{path}/{index}")


def test_every_default_in_the_table_is_what_the_server_filled_in(captures: Path) -> None:
    confirmed: set[str] = set()
    wrong: list[str] = []
    for case, file in CASES:
        live = load_json(captures / "objects" / case / file)
        git = git_object_for(captures / "objects" / case, live)
        tree = builtin_schema(live["kind"])
        if tree is None:
            continue
        for path, default, value in _defaults_found(tree, live, git, ""):
            if default != value:
                wrong.append(f"{case}/{file} {path}: table says {default!r}, server wrote {value!r}")
            confirmed.add(f"{live['kind']}{path}")

    assert wrong == []
    assert {"Deployment/spec/progressDeadlineSeconds", "Service/spec/sessionAffinity",
            "StatefulSet/spec/podManagementPolicy", "Job/spec/completions",
            "PersistentVolumeClaim/spec/volumeMode", "CronJob/spec/concurrencyPolicy"} <= confirmed
    assert any(p.endswith("/terminationMessagePath") for p in confirmed)


@pytest.mark.parametrize(("case", "file"), CASES, ids=[f"{c}/{f}" for c, f in CASES])
def test_git_spelling_out_server_defaults_is_synced(captures: Path, case: str, file: str) -> None:
    live = load_json(captures / "objects" / case / file)
    desired = with_defaults(git_object_for(captures / "objects" / case, live))

    assert compare(desired, live, CompareOptions()).sync is Sync.SYNCED


def test_git_spelling_out_defaults_is_synced_with_a_live_object_that_omits_them(captures: Path) -> None:
    # An emulated API server, or an older one, may store the manifest as sent.
    git = load_json(captures / "objects" / "deployment" / "git.json")[0]
    spelled_out = with_defaults(git)
    assert spelled_out["spec"]["template"]["spec"]["containers"][0]["terminationMessagePolicy"] == "File"

    result = compare(spelled_out, git, CompareOptions())

    assert result.sync is Sync.SYNCED, result.differences
