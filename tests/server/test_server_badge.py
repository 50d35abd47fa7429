"""Status badges: valid SVG that says the app's state in the state's colour."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from server_fleet import Served

from exporter.model import AppState
from exporter.server.badge import STATE_COLOURS, state_badge

SVG = "{http://www.w3.org/2000/svg}"


async def fetch_badge(served: Served, name: str, status: int = 200) -> ET.Element:
    async with served.session.get(f"{served.url}/api/v1/apps/{name}/badge.svg") as resp:
        assert resp.status == status
        assert resp.content_type == "image/svg+xml"
        assert resp.headers["Cache-Control"] == "no-cache"
        return ET.fromstring(await resp.text())


def texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter(SVG + "text")]


def fills(svg: ET.Element) -> list[str]:
    return [r.get("fill", "") for r in svg.iter(SVG + "rect")]


async def test_badge_names_the_app_and_its_state(served: Served) -> None:
    svg = await fetch_badge(served, "payments-api")
    assert svg.tag == SVG + "svg"
    assert "payments-api" in texts(svg)
    assert "Degraded" in texts(svg)
    assert svg.get("aria-label") == "payments-api: Degraded"


async def test_badge_is_coloured_by_state(served: Served) -> None:
    healthy = await fetch_badge(served, "checkout")
    degraded = await fetch_badge(served, "payments-api")
    assert STATE_COLOURS["Healthy"] in fills(healthy)
    assert STATE_COLOURS["Degraded"] in fills(degraded)
    assert STATE_COLOURS["Degraded"] not in fills(healthy)


async def test_badge_follows_the_latest_snapshot(served: Served) -> None:
    served.source.set_state("checkout", AppState.OUT_OF_SYNC, "Deployment checkout: 1 field differs")
    assert "OutOfSync" in texts(await fetch_badge(served, "checkout"))


async def test_badge_for_an_unknown_app_is_a_404_that_still_renders(served: Served) -> None:
    svg = await fetch_badge(served, "nope", status=404)
    assert texts(svg)[-1] == "not found"


def test_every_state_has_a_distinct_colour() -> None:
    assert set(STATE_COLOURS) == {s.value for s in AppState}
    assert len(set(STATE_COLOURS.values())) == len(STATE_COLOURS)


def test_markup_in_an_app_name_is_escaped() -> None:
    svg = ET.fromstring(state_badge('<script>"x"&', "Healthy"))
    assert '<script>"x"&' in texts(svg)


def test_longer_text_makes_a_wider_badge() -> None:
    short = ET.fromstring(state_badge("a", "Healthy"))
    long = ET.fromstring(state_badge("a-much-longer-application-name", "Healthy"))
    assert int(long.get("width", "0")) > int(short.get("width", "0")) + 100


async def test_favicon_takes_the_colour_of_the_worst_state(served: Served) -> None:
    async with served.session.get(served.url + "/favicon.svg") as resp:
        assert resp.content_type == "image/svg+xml"
        icon = ET.fromstring(await resp.text())
    assert next(icon.iter(SVG + "circle")).get("fill") == STATE_COLOURS["Unknown"]
    for name in list(served.source.apps):
        served.source.set_state(name, AppState.HEALTHY, "all objects Healthy")
    async with served.session.get(served.url + "/favicon.svg") as resp:
        icon = ET.fromstring(await resp.text())
    assert next(icon.iter(SVG + "circle")).get("fill") == STATE_COLOURS["Healthy"]
