"""Plain manifest directories: what is read, in what order, and what users are told when it is wrong."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from treeutil import app, names, write_tree

from exporter.config_types import DirectoryOptions
from exporter.metrics import REGISTRY
from exporter.render import RenderError, render

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
"""


async def test_multi_document_files_yield_every_object_and_skip_empty_documents(tmp_path: Path) -> None:
    write_tree(tmp_path, {"apps/web/all.yaml": DEPLOYMENT + (
        "---\n"
        "# only a comment\n"
        "---\n"
        "apiVersion: v1\n"
        "kind: Service\n"
        "metadata: {name: web, namespace: shop}\n"
        "---\n")})
    objects = await render(app("apps/web"), tmp_path)
    assert names(objects) == ["Deployment/web", "Service/web"]
    assert objects[0]["spec"]["replicas"] == 2
    assert objects[1]["metadata"]["namespace"] == "shop"
    assert "namespace" not in objects[0]["metadata"]  # the caller applies the default namespace


async def test_kind_list_is_expanded_into_its_items(tmp_path: Path) -> None:
    write_tree(tmp_path, {"m/list.yaml": """\
        apiVersion: v1
        kind: List
        items:
          - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
          - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}
        """, "m/cms.yaml": """\
        apiVersion: v1
        kind: ConfigMapList
        metadata: {}
        items:
          - {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
        """})
    assert names(await render(app("m"), tmp_path)) == ["ConfigMap/c", "ConfigMap/a", "ConfigMap/b"]


async def test_json_files_are_read(tmp_path: Path) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-json"}, "data": {"k": "v"}}
    write_tree(tmp_path, {"m/cm.json": json.dumps(cm), "m/README.md": "not a manifest"})
    assert await render(app("m"), tmp_path) == [cm]


async def test_subdirectories_are_read_only_with_recurse(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "m/top.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: top}\n",
        "m/sub/deeper/inner.yml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: inner}\n",
    })
    assert names(await render(app("m"), tmp_path)) == ["ConfigMap/top"]
    recursive = app("m", directory=DirectoryOptions(recurse=True))
    assert names(await render(recursive, tmp_path)) == ["ConfigMap/inner", "ConfigMap/top"]


async def test_include_and_exclude_globs_select_files(tmp_path: Path) -> None:
    files = {f"m/{n}": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {n.replace('/', '-').split('.')[0]}}}\n"
             for n in ("a.yaml", "b.yaml", "c.json", "dev/d.yaml", "prod/e.yaml")}
    write_tree(tmp_path, files)

    include = app("m", directory=DirectoryOptions(recurse=True, include="{a.yaml,prod/*}"))
    assert names(await render(include, tmp_path)) == ["ConfigMap/a", "ConfigMap/prod-e"]

    exclude = app("m", directory=DirectoryOptions(recurse=True, exclude="{dev/*,*.json}"))
    assert names(await render(exclude, tmp_path)) == ["ConfigMap/a", "ConfigMap/b", "ConfigMap/prod-e"]


async def test_object_without_kind_names_file_and_document(tmp_path: Path) -> None:
    write_tree(tmp_path, {"apps/web/x.yaml": DEPLOYMENT + "---\napiVersion: v1\nmetadata: {name: nameless}\n"})
    with pytest.raises(RenderError) as info:
        await render(app("apps/web"), tmp_path)
    assert str(info.value) == "apps/web/x.yaml: document 2 has no 'kind'"
    assert info.value.file == "apps/web/x.yaml"


async def test_object_without_name_is_an_error(tmp_path: Path) -> None:
    write_tree(tmp_path, {"m/job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: run-}\n"})
    with pytest.raises(RenderError, match=r"^m/job\.yaml: document 1 \(Job\) has no 'metadata.name'$"):
        await render(app("m"), tmp_path)


async def test_yaml_that_does_not_parse_names_file_and_line(tmp_path: Path) -> None:
    write_tree(tmp_path, {"apps/web/deploy.yaml": DEPLOYMENT + "  template: x: y\n"})
    with pytest.raises(RenderError) as info:
        await render(app("apps/web"), tmp_path)
    assert str(info.value) == "apps/web/deploy.yaml:7: mapping values are not allowed in this context"
    assert (info.value.file, info.value.line) == ("apps/web/deploy.yaml", 7)


async def test_json_that_does_not_parse_names_file_and_line(tmp_path: Path) -> None:
    write_tree(tmp_path, {"m/x.json": '{\n  "kind": "ConfigMap",\n  oops\n}\n'})
    with pytest.raises(RenderError, match=r"^m/x\.json:3: "):
        await render(app("m"), tmp_path)


async def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="^path 'apps/nope' not found in the repository$"):
        await render(app("apps/nope"), tmp_path)


async def test_symlink_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    outside = write_tree(tmp_path / "outside", {"secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"})
    tree = write_tree(tmp_path / "tree", {"m/ok.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n"})
    os.symlink(outside / "secret.yaml", tree / "m/link.yaml")
    with pytest.raises(RenderError, match="^m/link.yaml: is a symbolic link that points outside"):
        await render(app("m"), tree)


async def test_render_time_is_counted_by_type_and_result(tmp_path: Path) -> None:
    def count(result: str) -> float:
        return REGISTRY.get_sample_value("gitops_render_duration_seconds_count",
                                         {"type": "directory", "result": result}) or 0.0

    ok, failed = count("success"), count("error")
    write_tree(tmp_path, {"m/a.yaml": DEPLOYMENT})
    await render(app("m"), tmp_path)
    with pytest.raises(RenderError):
        await render(app("missing"), tmp_path)
    assert (count("success") - ok, count("error") - failed) == (1, 1)
