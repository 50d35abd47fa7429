"""Flux's post-build substitution, case by case as fluxcd/pkg envsubst evaluates it in
kustomize-controller's default (non-strict) mode."""

from __future__ import annotations

import pytest

from exporter.render.substitution import SubstitutionError, substitute

PATH = {"path_name": "/home/bozo/ideas/thoughts.for.today"}
Z = {"stringZ": "abcABC123ABCabc"}


@pytest.mark.parametrize(("text", "variables", "result"), [
    ("plain text", {}, "plain text"),
    ("region: ${region}", {"region": "eu-central-1"}, "region: eu-central-1"),
    ("${a}-${b}", {"a": "x", "b": "y"}, "x-y"),
    ("${#var01}", {"var01": "abcdEFGH28ij"}, "12"),
    ("${var01^}", {"var01": "abcdEFGH28ij"}, "AbcdEFGH28ij"),
    ("${var01^^}", {"var01": "abcdEFGH28ij"}, "ABCDEFGH28IJ"),
    ("${var01,}", {"var01": "ABCDEFGH28IJ"}, "aBCDEFGH28IJ"),
    ("${var01,,}", {"var01": "ABCDEFGH28IJ"}, "abcdefgh28ij"),
    ("${path_name:11}", PATH, "ideas/thoughts.for.today"),
    ("${path_name:11:5}", PATH, "ideas"),
    ("${var:=xyz}", {}, "xyz"),
    ("${var:-xyz}", {"var": ""}, "xyz"),
    ("${var:=xyz}", {"var": "set"}, "set"),
    ("something ${var:=${default_var}}", {"default_var": "foo"}, "something foo"),
    ("foo: ${var:=prefix${default_var}-suffix}", {"default_var": "foo1"}, "foo: prefixfoo1-suffix"),
    ("${stringZ/%abc/XYZ}", Z, "abcABC123ABCXYZ"),
    ("${stringZ/#abc/XYZ}", Z, "XYZABC123ABCabc"),
    ("${stringZ//abc/xyz}", Z, "xyzABC123ABCxyz"),
    ("${stringZ/abc/xyz}", Z, "xyzABC123ABCabc"),
    ("${filename#*.}", {"filename": "bash.string.txt"}, "string.txt"),
    ("${filename##*.}", {"filename": "bash.string.txt"}, "txt"),
    ("${filename%.*}", {"filename": "bash.string.txt"}, "bash.string"),
    ("${filename%%.*}", {"filename": "bash.string.txt"}, "bash"),
    ("${filename##*/}", {"filename": "/path/to/file"}, "file"),
])
def test_expressions_evaluate_as_flux_evaluates_them(text: str, variables: dict[str, str], result: str) -> None:
    assert substitute(text, variables) == result


def test_an_undefined_variable_is_empty_and_a_plain_default_is_never_taken() -> None:
    # Non-strict mode: every variable counts as set, so only the ':' forms fall back.
    assert substitute("[${missing}] [${missing=xyz}] [${missing-xyz}]", {}) == "[] [] []"


def test_a_dollar_without_braces_stays_and_a_doubled_dollar_escapes() -> None:
    assert substitute("echo $HOME; keep $${var}; cost $5", {"HOME": "/root", "var": "x"}) == \
        "echo $HOME; keep ${var}; cost $5"


def test_the_names_read_are_reported() -> None:
    used: set[str] = set()
    substitute("${a} ${b:=${c}} ${#d}", {"a": "1", "b": ""}, used)
    assert used == {"a", "b", "c", "d"}


@pytest.mark.parametrize(("text", "says"), [
    ("${unclosed", "missing closing brace"),
    ("${1abc}", "unable to parse variable name"),
    ("${var:?required}", "not an expression Flux evaluates"),
    ("${stringZ/a*c/x}", "glob patterns are not supported"),
])
def test_an_expression_flux_refuses_is_named(text: str, says: str) -> None:
    with pytest.raises(SubstitutionError, match=says):
        substitute(text, {"var": "x", "stringZ": "abc"})
