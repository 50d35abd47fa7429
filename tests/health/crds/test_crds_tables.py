"""The rule tables themselves: no (group, kind) registered twice, the conventional list for lone kinds."""

from __future__ import annotations


def test_a_rule_registered_twice_raises() -> None:
    import pytest

    from exporter.health.crds import Rules
    table = Rules()
    table[("example.com", "Widget")] = []
    with pytest.raises(KeyError, match="health rule for example.com/Widget is registered twice"):
        table[("example.com", "Widget")] = []


def test_the_conventional_list_holds_only_kinds_that_use_it_alone() -> None:
    from exporter.health import core
    from exporter.health.crds import CONVENTIONAL, RULES, conventional
    for group, kinds in CONVENTIONAL.items():
        for kind in kinds:
            assert RULES[(group, kind)] == [conventional], (group, kind)
            assert (group, kind) not in core.CORE_CHECKS, (group, kind)
