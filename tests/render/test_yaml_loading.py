"""Manifests are read in one plain pass where they are plain data, with PyYAML's exact results:
the same values and types, the same sharing of aliased values, and PyYAML's own loading (and its
error messages) for everything else."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.render.manifests import MAX_DEPTH, MAX_DOCUMENTS, MAX_NODES, RenderError, load_yaml_documents
from exporter.render.yaml_loading import load_plain

DATA = Path(__file__).parent / "data"
REAL_CHARTS = Path(__file__).resolve().parents[3] / "shared" / "real-charts"


def plain(text: str, **bounds: int) -> list[Any] | None:
    limits = {"max_documents": MAX_DOCUMENTS, "max_depth": MAX_DEPTH, "max_nodes": MAX_NODES, **bounds}
    return load_plain(text, **limits)


def pyyaml(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=yaml.CSafeLoader))


def same(a: Any, b: Any) -> bool:
    """Equal with the same types all the way down (``1 == True`` and ``nan != nan`` aside)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def test_every_yaml_1_1_scalar_shape_reads_as_pyyaml_reads_it() -> None:
    text = (DATA / "yaml-shapes.yaml").read_text(encoding="utf-8")
    docs = plain(text)
    assert docs is not None, "plain data must not need the general loader"
    assert same(docs, pyyaml(text))
    first = docs[0]
    assert first["plain"][5:10] == [0o755, 31, 5, 1000, 90]
    assert first["bools"] == [True, False, True, False, True, False, "y", "n", "true"]
    assert first["explicit"] == ["123", 42, 3.0, True, None]
    assert first["duplicate"] == "second"


def test_an_aliased_value_is_shared_as_pyyaml_shares_it() -> None:
    docs = plain((DATA / "yaml-shapes.yaml").read_text(encoding="utf-8"))
    assert docs is not None
    assert docs[0]["selector"]["matchLabels"] is docs[0]["metadata"]["labels"]


def test_many_documents_each_read_as_their_own() -> None:
    # Node identities are reused once a document's nodes are freed; a value from an earlier
    # document must never stand in for a later one.
    text = "".join(f"---\nkind: ConfigMap\nmetadata: {{name: cm-{i}, labels: {{n: '{i}'}}}}\n"
                   f"data: {{a: '{i}', b: [x, {{y: '{i}'}}]}}\n" for i in range(300))
    docs = plain(text)
    assert docs is not None and len(docs) == 300
    assert same(docs, pyyaml(text))
    assert docs[299]["data"]["b"][1] == {"y": "299"}


@pytest.mark.parametrize("text", [
    pytest.param("base: &b {a: 1}\nmerged:\n  <<: *b\n  c: 2\n", id="merge key"),
    pytest.param("a: !!binary aGVsbG8=\n", id="binary"),
    pytest.param("a: !!set {x, y}\n", id="set"),
    pytest.param("a: !!omap [x: 1]\n", id="ordered map"),
    pytest.param("a: !Custom 1\n", id="unknown tag"),
    pytest.param("? [a, b]\n: complex key\n", id="complex key"),
    pytest.param("= : value key\n", id="value key"),
    pytest.param("a: &x [*x]\n", id="value that contains itself"),
    pytest.param("a: [unclosed\n", id="invalid YAML"),
])
def test_what_is_not_plain_data_is_left_to_pyyaml(text: str) -> None:
    assert plain(text) is None


def test_a_text_past_a_bound_is_left_to_the_general_check() -> None:
    assert plain("a: [[[[x]]]]\n", max_depth=4) is None
    assert plain("a: [[[x]]]\n", max_depth=4) is not None
    assert plain("a: &x [1, 2, 3]\nb: [*x, *x, *x]\n", max_nodes=12) is None
    assert plain("---\na: 1\n---\nb: 2\n", max_documents=1) is None


def test_what_pyyaml_reads_beyond_plain_data_still_reads_the_same() -> None:
    text = "base: &b {a: 1}\nmerged:\n  <<: *b\n  c: 2\nbin: !!binary aGVsbG8=\n"
    assert load_yaml_documents(text, "m/x.yaml") == pyyaml(text)


def test_errors_still_name_file_and_line() -> None:
    with pytest.raises(RenderError) as info:
        load_yaml_documents("a: 1\nb: [unclosed\n", "m/x.yaml")
    assert str(info.value).startswith("m/x.yaml:3: ")


@pytest.mark.parametrize(("text", "message"), [
    ("a: 1\nb: !!int nope\n", "m/x.yaml:2: 'nope' is not a valid int"),
    ("a: !!bool maybe\n", "m/x.yaml:1: 'maybe' is not a valid bool"),
    ("a: !!timestamp 2020-13-45\n", "m/x.yaml:1: '2020-13-45' is not a valid timestamp"),
])
def test_a_value_its_explicit_tag_does_not_fit_is_an_error_naming_its_line(text: str, message: str) -> None:
    with pytest.raises(RenderError) as info:
        load_yaml_documents(text, "m/x.yaml")
    assert str(info.value) == message


def test_a_value_its_tag_does_not_fit_beside_a_merge_key_is_an_error_naming_the_file() -> None:
    with pytest.raises(RenderError) as info:
        load_yaml_documents("b: &b {a: 1}\nc: {<<: *b}\nd: !!float x\n", "m/x.yaml")
    assert str(info.value).startswith("m/x.yaml: invalid YAML: a value does not fit its tag")


@pytest.mark.skipif(not REAL_CHARTS.is_dir(), reason="the real charts are in ../shared/real-charts beside the clone")
def test_real_charts_rendered_output_reads_as_pyyaml_reads_it() -> None:
    rendered = sorted(REAL_CHARTS.glob("*/rendered.yaml"))
    assert len(rendered) >= 5
    for path in rendered:
        text = path.read_text(encoding="utf-8")
        docs = plain(text)
        assert docs is not None, path
        assert same(docs, pyyaml(text)), path
