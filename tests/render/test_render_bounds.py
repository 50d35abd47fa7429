"""Manifests are untrusted input: parsing is bounded, and an oversized file is an error naming it."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from treeutil import app, names, write_tree

from exporter.render import RenderError, render
from exporter.render import manifests as manifests_mod

DATA = Path(__file__).parent / "data"


async def test_an_alias_bomb_is_refused_naming_file_and_line_without_expanding_it(tmp_path: Path) -> None:
    write_tree(tmp_path, {"m/cm.yaml": (DATA / "alias-bomb.yaml").read_text()})
    started = time.perf_counter()
    with pytest.raises(RenderError) as info:
        await render(app("m"), tmp_path)
    assert str(info.value) == "m/cm.yaml:7: document 1: aliases expand to more than 2,000,000 values"
    assert time.perf_counter() - started < 5  # expanding it would take minutes and gigabytes


async def test_aliases_that_expand_modestly_are_read_as_usual(tmp_path: Path) -> None:
    write_tree(tmp_path, {"m/deploy.yaml": """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, labels: &labels {app: web}}
        spec:
          selector: {matchLabels: *labels}
          template:
            metadata: {labels: *labels}
        """})
    objects = await render(app("m"), tmp_path)
    assert names(objects) == ["Deployment/web"]
    assert objects[0]["spec"]["template"]["metadata"]["labels"] == {"app": "web"}


async def test_a_value_that_contains_itself_is_refused(tmp_path: Path) -> None:
    write_tree(tmp_path, {"m/cm.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: loop}
        data: &loop {self: *loop}
        """})
    with pytest.raises(RenderError, match=r"^m/cm.yaml:4: document 1: a YAML alias refers to the value"):
        await render(app("m"), tmp_path)


async def test_deeply_nested_json_is_an_error_without_a_traceback(tmp_path: Path, caplog) -> None:
    deep = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "deep"}, "data": {}}
    node = deep["data"]
    for _ in range(200):
        node["x"] = {}
        node = node["x"]
    write_tree(tmp_path, {"m/deep.json": json.dumps(deep)})
    caplog.set_level(logging.DEBUG)
    with pytest.raises(RenderError) as info:
        await render(app("m"), tmp_path)
    assert str(info.value) == "m/deep.json: document 1: nested deeper than 100 levels"
    assert not [r for r in caplog.records if r.exc_info]


async def test_json_nested_past_the_parsers_own_limit_is_an_error(tmp_path: Path) -> None:
    write_tree(tmp_path, {"m/deep.json": "[" * 5000 + "]" * 5000})
    with pytest.raises(RenderError, match=r"^m/deep.json: invalid JSON: nested deeper than 100 levels"):
        await render(app("m"), tmp_path)


async def test_yaml_nested_too_deep_is_an_error(tmp_path: Path) -> None:
    write_tree(tmp_path, {"m/deep.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata: "
                          + "[" * 300 + "]" * 300 + "\n"})
    with pytest.raises(RenderError, match="nested deeper than 100 levels"):
        await render(app("m"), tmp_path)


async def test_too_many_documents_are_refused(tmp_path: Path) -> None:
    count = manifests_mod.MAX_DOCUMENTS + 1
    (tmp_path / "m").mkdir()
    (tmp_path / "m/many.yaml").write_text("---\n".join("a: 1\n" for _ in range(count)))
    with pytest.raises(RenderError, match=r"^m/many.yaml: more than 10,000 YAML documents"):
        await render(app("m"), tmp_path)


async def test_an_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    line = "  k: " + "x" * 1000 + "\n"
    (tmp_path / "m/big.yaml").write_text("data:\n" + line * (manifests_mod.MAX_TEXT_BYTES // len(line) + 1))
    with pytest.raises(RenderError, match=r"^m/big.yaml: larger than 32 MiB"):
        await render(app("m"), tmp_path)
