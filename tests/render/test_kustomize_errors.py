"""kustomize's errors, from the real ``kubectl kustomize``, reach the user as repository file, line
and what is wrong: no klog prefix, no Go quoting, no path inside the agent's cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from treeutil import app, write_tree

from exporter.render import RenderError, render
from exporter.render.kustomize_errors import explain, resource_id

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"


async def reason(tmp_path: Path, files: dict[str, str], path: str = "k") -> str:
    tree = write_tree(tmp_path / "cache" / "checkouts" / "0123abcd", files)
    with pytest.raises(RenderError) as info:
        await render(app(path, "kustomize"), tree)
    message = str(info.value)
    assert str(tmp_path) not in message and "run.go" not in message and "\\\"" not in message
    return message


async def test_a_malformed_resource_names_its_file_and_the_line_of_the_problem(tmp_path):
    files = {"k/kustomization.yaml": "resources: [cm.yaml]\n",
             "k/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: '1'\n  y: [1, 2\n  z: 3\n"}
    assert (await reason(tmp_path, files)).startswith("kustomize build failed: k/cm.yaml:8: invalid YAML: ")


async def test_a_malformed_resource_of_a_base_is_named_by_its_own_path(tmp_path):
    files = {"k/kustomization.yaml": "resources: [../base]\n", "base/kustomization.yaml": "resources: [cm.yaml]\n",
             "base/cm.yaml": CM + "\tbad: tab\n"}
    assert (await reason(tmp_path, files)).startswith("kustomize build failed: base/cm.yaml:4: invalid YAML: ")


async def test_a_patch_without_a_target_names_the_object_it_looks_for(tmp_path):
    files = {"k/kustomization.yaml": "resources: [cm.yaml]\npatches: [{path: p.yaml}]\n", "k/cm.yaml": CM,
             "k/p.yaml": CM.replace("name: a", "name: b")}
    assert await reason(tmp_path, files) == \
        "kustomize build failed: k/kustomization.yaml: a patch targets ConfigMap b, which no resource defines"


async def test_an_object_defined_twice_names_the_object_and_the_second_resource(tmp_path):
    files = {"k/kustomization.yaml": "resources: [cm.yaml, again.yaml]\n", "k/cm.yaml": CM, "k/again.yaml": CM}
    assert await reason(tmp_path, files) == \
        "kustomize build failed: k/kustomization.yaml: ConfigMap a is defined again in resources 'again.yaml'"


async def test_a_misspelt_kustomization_field_is_named(tmp_path):
    files = {"k/kustomization.yaml": "resources: [cm.yaml]\nnamePrefx: x-\n", "k/cm.yaml": CM}
    assert await reason(tmp_path, files) == "kustomize build failed: k/kustomization.yaml: unknown field 'namePrefx'"


async def test_an_object_without_a_kind_names_the_resource_file(tmp_path):
    files = {"k/kustomization.yaml": "resources: [cm.yaml]\n", "k/cm.yaml": "apiVersion: v1\nmetadata: {name: a}\n"}
    assert await reason(tmp_path, files) == \
        "kustomize build failed: k/kustomization.yaml: resources 'cm.yaml': an object has no kind"


def test_an_error_of_another_shape_keeps_kustomize_s_words_without_klog_and_cache_paths(tmp_path):
    stderr = (f'E1207 20:29:33.657648    4544 run.go:72] "command failed" err="trouble with '
              f'\\"{tmp_path}/tree/k/thing.yaml\\": something new"\n')
    error = explain(stderr, tmp_path / "tree", tmp_path / "tree" / "k")
    assert str(error) == 'trouble with "k/thing.yaml": something new'


@pytest.mark.parametrize(("text", "named"), [
    ("ConfigMap.v1.[noGrp]/a.[noNs]", "ConfigMap a"),
    ("Deployment.v1.apps/web.shop", "Deployment shop/web"),
    ("Ingress.v1.networking.k8s.io/web.v2.shop", "Ingress shop/web.v2"),
])
def test_a_kustomize_resource_id_is_named_as_kind_namespace_and_name(text, named):
    assert resource_id(text) == named
