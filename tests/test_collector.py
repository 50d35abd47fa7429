"""Around a cold start the collector is paused, collects once at the end, and then leaves what
was built out of its later passes."""

from __future__ import annotations

import gc
import weakref

import pytest

from exporter.collector import building_long_lived


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_automatic_collection_is_paused_inside_and_resumes_after() -> None:
    assert gc.isenabled()
    with building_long_lived():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collection_resumes_when_the_block_fails() -> None:
    with pytest.raises(RuntimeError), building_long_lived():
        raise RuntimeError("cold start failed")
    assert gc.isenabled()


def test_cycles_dropped_inside_are_collected_at_the_end() -> None:
    with building_long_lived():
        a, b = Node(), Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
        assert gone() is not None  # nothing collects while paused
    assert gone() is None


def test_what_was_built_is_left_out_of_later_passes() -> None:
    with building_long_lived():
        built = {"spec": {"containers": [{"name": "web"}]}}
    assert gc.is_tracked(built)
    assert not any(obj is built for obj in gc.get_objects())
    gc.unfreeze()
    assert any(obj is built for obj in gc.get_objects())
