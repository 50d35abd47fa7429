"""A bug inside the comparison is visible: logged once per object with its traceback, counted,
and shown on the object as an internal error, while the comparison of other objects goes on."""

from __future__ import annotations

import logging

import pytest

from exporter.config_types import CompareOptions
from exporter.diff import compare
from exporter.instruments import REGISTRY


def configmap(name: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "shop"},
            "data": {"k": "v"}}


def errors_counted() -> float:
    return REGISTRY.get_sample_value("gitops_internal_errors_total", {"stage": "compare"}) or 0.0


class NotASchema:
    """What a caller with a bug might hand over as a schema."""


def test_an_exception_inside_the_comparison_is_logged_once_with_its_traceback_and_counted(
        caplog: pytest.LogCaptureFixture) -> None:
    before = errors_counted()
    with caplog.at_level(logging.ERROR, logger="exporter.compare"):
        for _ in range(3):
            result = compare(configmap("broken"), configmap("broken"), CompareOptions(), schema=NotASchema())
    assert [f.reason for f in result.differences] == ["could not compare (internal error)"]
    logged = [r for r in caplog.records if "ConfigMap shop/broken" in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert errors_counted() - before == 3


def test_the_next_object_is_still_compared_after_one_failed() -> None:
    compare(configmap("broken-first"), configmap("broken-first"), CompareOptions(), schema=NotASchema())
    assert compare(configmap("fine"), configmap("fine"), CompareOptions()).differences == []
