"""Rendered objects are kept packed between evaluations: each read is a fresh, equal copy, and a
directory source arrives packed from the worker that parsed it."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import yaml
from treeutil import app, names, write_tree

from exporter.render import RenderError, render, render_packed
from exporter.render.packing import pack, unpack

FLEET_APP = Path(__file__).resolve().parents[2] / "bench" / "fleet_app" / "manifests.yaml"


def fleet_app() -> list[dict]:
    return list(yaml.safe_load_all(FLEET_APP.read_text(encoding="utf-8")))


def test_unpacking_gives_equal_objects_and_a_fresh_copy_each_time() -> None:
    objects = fleet_app()
    packed = pack(objects)
    first, second = unpack(packed), unpack(packed)
    assert first == objects == second
    first[0]["metadata"]["name"] = "changed"
    assert unpack(packed)[0]["metadata"]["name"] == objects[0]["metadata"]["name"]


def test_a_realistic_app_packs_to_under_a_third_of_its_pickle() -> None:
    objects = fleet_app()
    assert len(pack(objects)) * 3 < len(pickle.dumps(objects, protocol=pickle.HIGHEST_PROTOCOL))


async def test_a_directory_source_arrives_packed_as_render_reads_it(tmp_path: Path) -> None:
    write_tree(tmp_path, {"apps/web/all.yaml": FLEET_APP.read_text(encoding="utf-8")})
    packed = await render_packed(app("apps/web"), tmp_path)
    assert unpack(packed) == await render(app("apps/web"), tmp_path) == fleet_app()
    assert names(unpack(packed))[:2] == ["Deployment/web", "Deployment/worker"]


async def test_a_broken_directory_source_still_names_the_file_and_line(tmp_path: Path) -> None:
    write_tree(tmp_path, {"apps/web/bad.yaml": "kind: ConfigMap\nmetadata: [unclosed\n"})
    with pytest.raises(RenderError) as info:
        await render_packed(app("apps/web"), tmp_path)
    assert str(info.value).startswith("apps/web/bad.yaml:3: ")
