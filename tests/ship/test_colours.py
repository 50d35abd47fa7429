"""One colour per state: the status page and every Grafana dashboard take theirs from one table."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from exporter.colours import STATE_COLOURS

from .conftest import REPO

CSS = (REPO / "exporter" / "server" / "static" / "status.css").read_text()
DASHBOARDS = sorted((REPO / "grafana").glob("*.json"))


def state_colours_in(node: Any, found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(state, colour) of every series override and value mapping that names a state."""
    if isinstance(node, dict):
        matcher = node.get("matcher")
        if isinstance(matcher, dict) and matcher.get("options") in STATE_COLOURS:
            found += [(matcher["options"], p["value"]["fixedColor"]) for p in node.get("properties", [])
                      if p.get("id") == "color"]
        if node.get("type") == "value" and isinstance(node.get("options"), dict):
            for key, option in node["options"].items():
                state = option.get("text") if option.get("text") in STATE_COLOURS else key
                if state in STATE_COLOURS and "color" in option:
                    found.append((state, option["color"]))
        for value in node.values():
            state_colours_in(value, found)
    elif isinstance(node, list):
        for value in node:
            state_colours_in(value, found)
    return found


def test_the_status_page_uses_the_table():
    page = dict(re.findall(r"--(\w+): (#[0-9a-f]{6})", CSS.split("@media")[0]))
    assert {state: page[state] for state in STATE_COLOURS} == STATE_COLOURS


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_dashboard_colours_states_from_the_table(path):
    found = state_colours_in(json.loads(path.read_text()), [])
    wrong = [(state, colour) for state, colour in found if colour != STATE_COLOURS[state]]
    assert not wrong, f"{path.name}: {wrong}"


def test_the_dashboards_colour_every_state_they_show():
    shown = {state for path in DASHBOARDS for state, _ in state_colours_in(json.loads(path.read_text()), [])}
    assert {"Healthy", "Progressing", "Suspended", "OutOfSync", "Missing", "Degraded", "Unknown"} <= shown


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_counter_panels_say_per_interval_not_short(path):
    for panel in json.loads(path.read_text())["panels"]:
        if any("increase(" in t.get("expr", "") and "$__range" not in t.get("expr", "") for t in panel.get("targets", [])):
            assert panel["fieldConfig"]["defaults"].get("unit") == "suffix: per interval", panel["title"]
