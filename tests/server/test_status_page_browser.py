"""The status page in headless Chromium: what people see and click.

Uses the system Chromium (Debian's ``chromium`` package), never a downloaded browser. Skipped with
a message when it is absent, except under CI where a missing browser is a failure.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from server_fleet import FleetSource, Served, Shards, app_config, app_status

from exporter.history import Transition
from exporter.metrics import REGISTRY
from exporter.model import AppState
from exporter.server import build_app, serve

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: The chip colours of status.css, as Chromium computes them.
CHIP_RGB = {
    "Healthy": "rgb(46, 125, 50)",
    "Degraded": "rgb(198, 40, 40)",
    "OutOfSync": "rgb(154, 103, 0)",
    "Missing": "rgb(188, 76, 0)",
    "Progressing": "rgb(21, 101, 192)",
    "Suspended": "rgb(106, 90, 205)",
    "Unknown": "rgb(97, 97, 97)",
}


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        message = f"{CHROMIUM} is not installed (Debian package: chromium)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must run the browser tests")
        pytest.skip(message)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def live(source: FleetSource) -> AsyncIterator[Served]:
    """The server with a one-second page refresh, so self-updates show within a test's patience."""
    app = build_app(source, metrics_registry=REGISTRY, page_refresh_seconds=1)
    runner = await serve(app, "127.0.0.1", 0)
    host, port = runner.addresses[0][:2]
    try:
        async with aiohttp.ClientSession() as session:
            yield Served(f"http://{host}:{port}", source, session)
    finally:
        await runner.cleanup()


async def open_page(browser: Browser, live: Served, query: str = "", **context: object) -> Page:
    ctx = await browser.new_context(**context)  # type: ignore[arg-type]
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Console errors include Content-Security-Policy violations and failed fetches.
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    await page.goto(live.url + "/" + query)
    await page.wait_for_load_state("networkidle")
    assert errors == []
    return page


async def visible_apps(page: Page) -> list[str]:
    return await page.eval_on_selector_all(
        "#apps tbody tr[data-app]:not([hidden])", "rows => rows.map(r => r.dataset.app)")


def row(page: Page, app: str):
    return page.locator(f'#apps tbody tr[data-app="{app}"]')


async def test_table_shows_every_app_with_its_state(browser: Browser, live: Served) -> None:
    page = await open_page(browser, live)
    assert await visible_apps(page) == ["legacy", "payments-api", "billing-worker", "search", "ingest",
                                        "nightly-batch", "checkout"]
    await expect(row(page, "payments-api").locator(".chip")).to_have_text("Degraded")
    await expect(row(page, "checkout").locator(".chip")).to_have_text("Healthy")
    await expect(row(page, "search").locator(".frozen")).to_be_visible()
    await expect(page.locator("#counts a[data-state=Degraded] .n")).to_have_text("1")


async def test_state_chips_are_coloured_per_state(browser: Browser, live: Served) -> None:
    page = await open_page(browser, live)
    colours = await page.eval_on_selector_all(
        "#apps tbody .chip", "chips => chips.map(c => [c.textContent, getComputedStyle(c).backgroundColor])")
    assert dict(colours) == CHIP_RGB
    text_colour = await page.eval_on_selector("#apps tbody .chip", "c => getComputedStyle(c).color")
    assert text_colour == "rgb(255, 255, 255)"


async def test_filtering_by_state_hides_the_other_apps(browser: Browser, live: Served) -> None:
    page = await open_page(browser, live)
    await page.get_by_label("State", exact=True).select_option("Degraded")
    assert await visible_apps(page) == ["payments-api"]
    assert "status=Degraded" in page.url
    await expect(page.locator("#shown")).to_have_text("Showing 1 of 7 apps")


async def test_filtering_by_label_and_project_combines(browser: Browser, live: Served) -> None:
    page = await open_page(browser, live)
    await page.get_by_label("Project", exact=True).select_option("platform")
    await page.get_by_label("Label", exact=True).fill("team=data")
    assert await visible_apps(page) == ["ingest", "nightly-batch"]


async def test_clicking_a_row_opens_its_objects_and_diff(browser: Browser, live: Served) -> None:
    page = await open_page(browser, live)
    await row(page, "payments-api").locator("td.reason").click()
    detail = page.locator("#detail")
    await expect(detail).to_be_visible()
    await expect(detail.locator("h2")).to_have_text("payments-api")
    objects = detail.locator("table.objects tbody tr")
    await expect(objects).to_have_count(2)
    await expect(objects.nth(0)).to_contain_text("apps/Deployment payments-api/payments-api")
    await expect(objects.nth(0)).to_contain_text("/spec/template/spec/containers/0/image")
    await expect(objects.nth(0).locator(".chip").first).to_have_text("Degraded")
    await expect(detail.locator("#detail-diff")).to_contain_text("+      - image: payments-api:1.4.0")
    added = detail.locator("#detail-diff .d-add")
    await expect(added).to_have_text("+      - image: payments-api:1.4.0\n")
    assert await added.evaluate("e => getComputedStyle(e).color") == "rgb(26, 127, 55)"
    assert "app=payments-api" in page.url


async def test_keyboard_opens_and_escape_closes_the_detail(browser: Browser, live: Served) -> None:
    page = await open_page(browser, live)
    link = row(page, "checkout").get_by_role("link", name="checkout")
    await link.focus()
    outline = await link.evaluate("a => getComputedStyle(a).outlineStyle")
    assert outline == "solid"  # the focus ring is visible
    await page.keyboard.press("Enter")
    await expect(page.locator("#detail h2")).to_have_text("checkout")
    await page.keyboard.press("Escape")
    await expect(page.locator("#detail")).to_be_hidden()


async def test_page_updates_itself_and_keeps_filters_and_the_open_panel(browser: Browser, live: Served) -> None:
    page = await open_page(browser, live, "?label=team=payments&app=checkout")
    await page.evaluate("window.notReloaded = true")
    await expect(page.locator("#detail h2")).to_have_text("checkout")
    assert await visible_apps(page) == ["payments-api", "billing-worker", "checkout"]

    live.source.set_state("checkout", AppState.DEGRADED, "Deployment checkout: CrashLoopBackOff")

    await expect(row(page, "checkout").locator(".chip")).to_have_text("Degraded", timeout=10_000)
    await expect(row(page, "checkout").locator(".reason")).to_have_text("Deployment checkout: CrashLoopBackOff")
    await expect(page.locator("#detail .facts .chip")).to_have_text("Degraded", timeout=10_000)
    await expect(page.locator("#counts a[data-state=Degraded] .n")).to_have_text("2")
    assert await page.evaluate("window.notReloaded") is True
    assert await visible_apps(page) == ["checkout", "payments-api", "billing-worker"]


async def test_new_and_removed_apps_appear_and_disappear(browser: Browser, live: Served) -> None:
    page = await open_page(browser, live)
    del live.source.apps["legacy"]
    await expect(row(page, "legacy")).to_have_count(0, timeout=10_000)
    assert "legacy" not in await visible_apps(page)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


async def test_phone_shows_apps_as_cards_without_horizontal_scrolling(
        browser: Browser, live: Served, tmp_path: Path) -> None:
    page = await open_page(browser, live, viewport={"width": 390, "height": 844}, device_scale_factor=2,
                           is_mobile=True, has_touch=True)
    display = await row(page, "payments-api").evaluate("tr => getComputedStyle(tr).display")
    assert display == "flex"
    header_height = await page.locator("#apps thead").evaluate("t => t.getBoundingClientRect().height")
    assert header_height <= 1
    widths = await page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"page scrolls sideways: {widths}"
    card = await row(page, "payments-api").bounding_box()
    assert card is not None and card["x"] >= 0 and card["x"] + card["width"] <= 390

    shot = tmp_path / "status-page-phone.png"
    await page.screenshot(path=str(shot), full_page=False)
    data = shot.read_bytes()
    assert png_size(data) == (780, 1688)
    assert len(data) > 20_000, "screenshot looks blank"


async def test_desktop_screenshot_with_detail_open(browser: Browser, live: Served, tmp_path: Path) -> None:
    page = await open_page(browser, live, "?app=payments-api", viewport={"width": 1440, "height": 900})
    await expect(page.locator("#detail")).to_be_visible()
    detail_box = await page.locator("#detail").bounding_box()
    table_box = await page.locator("#apps").bounding_box()
    assert detail_box is not None and table_box is not None
    assert detail_box["x"] > table_box["x"] + table_box["width"] - 1, "detail panel sits beside the table"
    assert detail_box["x"] + detail_box["width"] <= 1440, "detail panel fits in the window"
    widths = await page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"page scrolls sideways: {widths}"
    shot = tmp_path / "status-page-desktop.png"
    await page.screenshot(path=str(shot))
    data = shot.read_bytes()
    assert png_size(data) == (1440, 900)
    assert len(data) > 30_000, "screenshot looks blank"


async def test_phone_detail_fits_the_screen(browser: Browser, live: Served, tmp_path: Path) -> None:
    page = await open_page(browser, live, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    await row(page, "payments-api").locator(".chip").tap()
    detail = page.locator("#detail")
    await expect(detail.locator("#detail-diff")).to_contain_text("payments-api:1.4.0")
    box = await detail.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    overflow = await detail.evaluate("d => d.scrollWidth - d.clientWidth")
    assert overflow <= 0, "objects are cut off at the right edge"
    card = await detail.locator("table.objects tbody tr").first.bounding_box()
    assert card is not None and card["height"] < 400, "an object card is stretched"
    widths = await page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"page scrolls sideways: {widths}"
    await detail.screenshot(path=str(tmp_path / "status-page-phone-detail.png"))
    assert png_size((tmp_path / "status-page-phone-detail.png").read_bytes())[0] <= 390


# --- a sharded agent: every shard's page shows the whole fleet ------------------------------------


async def test_sharded_page_shows_rows_from_every_shard_and_opens_a_remote_app(
        browser: Browser, shards: Shards) -> None:
    # Shard 1 evaluates only nightly-batch; payments-api lives on shard 0, checkout on shard 2.
    page = await open_page(browser, shards.served(1))
    assert await visible_apps(page) == ["legacy", "payments-api", "billing-worker", "search", "ingest",
                                        "nightly-batch", "checkout"]
    await expect(page.locator("#shards")).to_be_hidden()
    await row(page, "payments-api").locator("td.reason").click()
    detail = page.locator("#detail")
    await expect(detail.locator("h2")).to_have_text("payments-api")
    await expect(detail.locator("table.objects tbody tr")).to_have_count(2)
    await expect(detail.locator("#detail-diff .d-add")).to_have_text("+      - image: payments-api:1.4.0\n")


async def test_sharded_page_names_a_shard_that_stops_answering(browser: Browser, shards: Shards) -> None:
    page = await open_page(browser, shards.served(1))
    await page.evaluate("window.notReloaded = true")
    await shards.stop(0)
    banner = page.locator("#shards")
    await expect(banner).to_be_visible(timeout=10_000)
    await expect(banner).to_have_text("shard 0 of 3 did not answer; its apps are not shown.")
    await expect(row(page, "payments-api")).to_have_count(0)
    assert "nightly-batch" in await visible_apps(page)
    assert await page.evaluate("window.notReloaded") is True


# --- history: the timeline in the detail panel ----------------------------------------------------

def flapping_history(now: float) -> list[Transition]:
    """Healthy for five days, Degraded for a day, Progressing an hour, Degraded, Healthy again."""
    day, hour = 86400.0, 3600.0
    return [Transition(now - 6 * day, None, "Healthy", "a1b2c3d4e5f6a7b8", ""),
            Transition(now - day - 2 * hour, "Healthy", "Degraded", "b2c3d4e5f6a7b8c9",
                       "Deployment payments-api: 0 of 3 replicas available"),
            Transition(now - 5 * hour, "Degraded", "Progressing", "c3d4e5f6a7b8c9d0", "rollout in progress"),
            Transition(now - 4 * hour, "Progressing", "Degraded", "c3d4e5f6a7b8c9d0", "CrashLoopBackOff"),
            Transition(now - hour, "Degraded", "Healthy", "d4e5f6a7b8c9d0e1", "")]


@pytest.mark.parametrize("how", ["link", "click"])
async def test_the_detail_panel_shows_the_app_s_history_as_a_timeline(
        browser: Browser, live: Served, tmp_path: Path, how: str) -> None:
    live.source.histories["payments-api"] = flapping_history(time.time())
    query = "?app=payments-api" if how == "link" else ""
    page = await open_page(browser, live, query, viewport={"width": 1440, "height": 900})
    if how == "click":
        await row(page, "payments-api").locator("a.app-link").click()
    detail = page.locator("#detail")
    timeline = detail.locator("#detail-timeline")
    await expect(timeline).to_be_visible()
    states = await timeline.locator("rect").evaluate_all("rs => rs.map(r => r.getAttribute('class'))")
    assert states == ["s-Healthy", "s-Degraded", "s-Progressing", "s-Degraded", "s-Healthy"]
    fills = await timeline.locator("rect").evaluate_all("rs => rs.map(r => getComputedStyle(r).fill)")
    assert fills[1] == CHIP_RGB["Degraded"] and fills[0] == CHIP_RGB["Healthy"]
    widths = await timeline.locator("rect").evaluate_all("rs => rs.map(r => r.getBoundingClientRect().width)")
    assert widths[0] > widths[1] > widths[2] > 0, "the bar's segments follow the time spent"
    await expect(detail.locator(".tis")).to_contain_text("Last 7 days:")
    await expect(detail.locator(".tis .chip").first).to_have_text("Healthy")
    changes = detail.locator("ol.changes li")
    await expect(changes).to_have_count(5)
    await expect(changes.first).to_contain_text("Degraded → Healthy")
    await expect(changes.nth(3)).to_contain_text("0 of 3 replicas available")
    await expect(changes.nth(3).locator("code")).to_have_text("b2c3d4e")
    shot = tmp_path / "status-page-history.png"
    await detail.screenshot(path=str(shot))
    assert len(shot.read_bytes()) > 20_000, "screenshot looks blank"
    if how == "link" and os.environ.get("GITOPS_SCREENSHOTS"):  # refresh docs/images on request
        await detail.screenshot(path=os.path.join(os.environ["GITOPS_SCREENSHOTS"], "status-page-history.png"))


async def test_an_app_without_history_says_so(browser: Browser, live: Served) -> None:
    page = await open_page(browser, live, "?app=checkout")
    await expect(page.locator("#detail ol.changes li")).to_have_text("No changes recorded yet.")


# --- the first hour: deep links, phones, commits, search ------------------------------------------

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


async def test_a_deep_link_on_a_phone_opens_scrolled_to_the_app_s_panel(browser: Browser, live: Served) -> None:
    page = await open_page(browser, live, "?app=payments-api", **PHONE)
    detail = page.locator("#detail")
    await expect(detail.locator("h2")).to_have_text("payments-api")
    box = await detail.bounding_box()
    assert box is not None and -1 <= box["y"] < 844 / 2, f"the panel is not in view: {box}"
    assert await page.evaluate("window.scrollY") > 0


async def test_a_phone_shows_at_least_four_apps_on_the_first_screen_with_the_filters_folded(
        browser: Browser, live: Served) -> None:
    page = await open_page(browser, live, **PHONE)
    assert await page.locator("#filter-box").evaluate("d => d.open") is False
    bottoms = await page.eval_on_selector_all(
        "#apps tbody tr[data-app]:not([hidden])", "rows => rows.map(r => r.getBoundingClientRect().bottom)")
    assert sum(1 for bottom in bottoms if bottom <= 844) >= 4, bottoms
    await page.locator("#filter-box > summary").tap()
    await expect(page.get_by_label("State", exact=True)).to_be_visible()


async def test_a_phone_keeps_the_filters_open_when_the_link_sets_one(browser: Browser, live: Served) -> None:
    page = await open_page(browser, live, "?status=Degraded", **PHONE)
    assert await page.locator("#filter-box").evaluate("d => d.open") is True
    await expect(page.locator("#filter-active")).to_have_text("(1 active)")


async def test_a_revision_links_to_its_commit_with_subject_and_author(browser: Browser, live: Served) -> None:
    page = await open_page(browser, live, viewport={"width": 1440, "height": 900})
    link = row(page, "checkout").locator("a.rev")
    await expect(link).to_have_attribute(
        "href", "https://github.com/acme/deploy/commit/3f5e2a9c1b7d4e6f8a0b2c4d6e8f0a1b3c5d7e9f")
    await expect(link).to_have_text("3f5e2a9")
    await expect(row(page, "checkout").locator(".subject")).to_have_text("Raise the payments timeout to 90s")
    # a click on the commit link leaves the row's panel closed: the link is the commit's
    await link.click(modifiers=["Control"])
    await expect(page.locator("#detail")).to_be_hidden()
    await row(page, "ingest").locator("a.app-link").click()
    await expect(page.locator("#detail .facts")).to_contain_text("Ingest: three replicas for the backfill")
    await expect(page.locator("#detail .facts")).to_contain_text("Lee Okafor")


async def test_an_app_on_a_host_without_a_known_commit_page_shows_the_revision_without_a_link(
        browser: Browser, live: Served) -> None:
    live.source.apps["mirror"] = (app_config("mirror", repo="https://git.internal.example/ops/deploy.git"),
                                  app_status("mirror", AppState.HEALTHY))
    page = await open_page(browser, live)
    await expect(row(page, "mirror").locator("code")).to_have_text("3f5e2a9")
    await expect(row(page, "mirror").locator("a.rev")).to_have_count(0)


async def test_the_search_box_filters_by_name_and_is_part_of_the_link(browser: Browser, live: Served) -> None:
    page = await open_page(browser, live)
    await page.get_by_label("Search", exact=True).fill("PAY")
    assert await visible_apps(page) == ["payments-api"]
    assert "q=PAY" in page.url
    shared = await open_page(browser, live, "?q=in")
    assert await visible_apps(shared) == ["billing-worker", "ingest"]
