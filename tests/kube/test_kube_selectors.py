"""Selectors are parsed as the API server parses them, and bad ones are named in the error."""

from __future__ import annotations

import pytest

from exporter.kube.selectors import (
    SelectorError,
    fields_match,
    labels_match,
    parse_field_selector,
    parse_label_selector,
)


def labelled(**labels: str) -> dict[str, object]:
    return {"metadata": {"name": "x", "namespace": "ns", "labels": labels}}


@pytest.mark.parametrize(("selector", "labels", "matches"), [
    ("", {}, True),
    ("a=1", {"a": "1"}, True),
    ("a==1", {"a": "2"}, False),
    ("a!=1", {}, True),
    ("a in (1, 2)", {"a": "2"}, True),
    ("a notin (1,2)", {"a": "3"}, True),
    ("a notin (1,2)", {}, True),
    ("example.com/team", {"example.com/team": "x"}, True),
    ("!example.com/team", {"example.com/team": "x"}, False),
    ("a in (1,2),b", {"a": "1"}, False),
])
def test_label_selectors_match_like_the_api_server(selector: str, labels: dict[str, str], matches: bool) -> None:
    assert labels_match(parse_label_selector(selector), labelled(**labels)) is matches


@pytest.mark.parametrize(("selector", "complaint"), [
    ("a in ()", "needs at least one value"),
    ("!a in (x)", "'!' cannot precede"),
    ("a=1,,b", "empty requirement"),
    ("a ~ b", "cannot parse 'a ~ b'"),
])
def test_malformed_label_selectors_are_named_in_the_error(selector: str, complaint: str) -> None:
    with pytest.raises(SelectorError, match=complaint) as err:
        parse_label_selector(selector)
    assert repr(selector) in str(err.value)


def test_field_selectors_cover_name_and_namespace_only() -> None:
    reqs = parse_field_selector("metadata.name=x,metadata.namespace!=other")
    assert fields_match(reqs, labelled()) is True
    with pytest.raises(SelectorError, match='field label not supported: "status.phase"'):
        parse_field_selector("status.phase=Running")
