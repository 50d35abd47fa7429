"""A sharded agent answers for the whole fleet: every shard's API and page show every shard's apps.

Three real servers on 127.0.0.1, each holding one shard's apps (``shards`` fixture), ask each other
over HTTP exactly as pods ask their siblings through the headless Service.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from server_fleet import Served, Shards, app_config, app_status, fleet, shard_sources, start_shards

from exporter.model import AppState
from exporter.server import serve
from exporter.server.fleet import Fleet, PeerTemplateError, check_peer_template
from exporter.sharding import shard_of

ALL_APPS = sorted(fleet())
#: Where the test fleet's apps live with three shards (``shard_of``): 0 and 1 hold one app each.
OWNERS = {name: shard_of(name, 3) for name in ALL_APPS}


def test_the_test_fleet_spreads_over_all_three_shards() -> None:
    assert OWNERS["payments-api"] == 0
    assert OWNERS["nightly-batch"] == 1
    assert sorted(set(OWNERS.values())) == [0, 1, 2]


async def get(shards: Shards, index: int, path: str) -> tuple[aiohttp.ClientResponse, bytes]:
    async with shards.session.get(shards.urls[index] + path) as resp:
        return resp, await resp.read()


async def names(shards: Shards, index: int, query: str = "") -> list[str]:
    async with shards.session.get(f"{shards.urls[index]}/api/v1/apps{query}") as resp:
        assert resp.status == 200
        return [app["name"] for app in await resp.json()]


# --- the app list -------------------------------------------------------------------------------


async def test_every_shard_lists_every_app_of_the_fleet_exactly_once(shards: Shards) -> None:
    for index in range(3):
        assert await names(shards, index) == ALL_APPS, f"shard {index}"


async def test_a_fleet_list_has_no_unreachable_header_when_every_shard_answers(shards: Shards) -> None:
    resp, _ = await get(shards, 1, "/api/v1/apps")
    assert "X-Unreachable-Shards" not in resp.headers


async def test_remote_apps_carry_the_same_fields_as_their_owners_list(shards: Shards) -> None:
    async with shards.session.get(shards.urls[0] + "/api/v1/apps?scope=local") as resp:
        owned = await resp.json()
    async with shards.session.get(shards.urls[2] + "/api/v1/apps") as resp:
        seen = {app["name"]: app for app in await resp.json()}
    assert [a["name"] for a in owned] == ["payments-api"]
    assert seen["payments-api"] == owned[0]


async def test_label_filter_applies_on_every_shard(shards: Shards) -> None:
    # Shard 1 holds none of these apps: they come from shards 0 and 2.
    assert await names(shards, 1, "?label=team=payments") == ["billing-worker", "checkout", "payments-api"]


async def test_state_filter_applies_on_every_shard(shards: Shards) -> None:
    assert await names(shards, 2, "?status=Degraded&status=suspended") == ["nightly-batch", "payments-api"]


async def test_an_app_two_shards_both_report_is_listed_once_with_the_askers_copy(shards: Shards) -> None:
    # While the shard count changes, an app can briefly live on a pod that no longer owns it.
    shards.sources[1].apps["payments-api"] = (app_config("payments-api"),
                                              app_status("payments-api", AppState.HEALTHY))
    for index, state in ((1, "Healthy"), (0, "Degraded")):
        async with shards.session.get(shards.urls[index] + "/api/v1/apps") as resp:
            apps = await resp.json()
        assert [a["name"] for a in apps] == ALL_APPS
        assert next(a["status"] for a in apps if a["name"] == "payments-api") == state


async def test_a_bad_filter_is_refused_as_on_a_single_agent(shards: Shards) -> None:
    resp, body = await get(shards, 0, "/api/v1/apps?status=Broken")
    assert resp.status == 400
    assert b"'Broken' is not one of" in body


async def test_local_scope_lists_only_the_shards_own_apps(shards: Shards) -> None:
    for index in range(3):
        local = await names(shards, index, "?scope=local")
        assert local == [name for name in ALL_APPS if OWNERS[name] == index]


async def test_local_scope_does_not_ask_the_siblings(shards: Shards) -> None:
    await shards.stop(0)
    resp, body = await get(shards, 1, "/api/v1/apps?scope=local")
    assert resp.status == 200
    assert "X-Unreachable-Shards" not in resp.headers
    assert b"nightly-batch" in body


# --- one app --------------------------------------------------------------------------------------


async def test_detail_of_a_remote_app_comes_from_its_owner(shards: Shards) -> None:
    owner_resp, owner_body = await get(shards, 0, "/api/v1/apps/payments-api")
    resp, body = await get(shards, 2, "/api/v1/apps/payments-api")
    assert resp.status == owner_resp.status == 200
    assert resp.content_type == "application/json"
    assert body == owner_body
    detail = await resp.json()
    assert detail["status"] == "Degraded"
    assert [o["kind"] for o in detail["objects"]] == ["Deployment", "Service"]


async def test_diff_of_a_remote_app_comes_from_its_owner(shards: Shards) -> None:
    _, owner_body = await get(shards, 2, "/api/v1/apps/search/diff")
    resp, body = await get(shards, 0, "/api/v1/apps/search/diff")
    assert resp.status == 200
    assert resp.content_type == "text/plain"
    assert body == owner_body
    assert b"+      - image: search:1.4.0" in body


async def test_badge_of_a_remote_app_comes_from_its_owner(shards: Shards) -> None:
    resp, body = await get(shards, 1, "/api/v1/apps/payments-api/badge.svg")
    assert resp.status == 200
    assert resp.content_type == "image/svg+xml"
    assert b"payments-api: Degraded" in body


async def test_an_app_no_shard_holds_is_not_found_by_its_would_be_owner(shards: Shards) -> None:
    name = next(f"no-such-app-{i}" for i in range(100) if shard_of(f"no-such-app-{i}", 3) == 0)
    resp, body = await get(shards, 2, f"/api/v1/apps/{name}")
    assert resp.status == 404
    assert f"no app named '{name}'".encode() in body
    resp, _ = await get(shards, 2, f"/api/v1/apps/{name}/badge.svg")
    assert resp.status == 404


async def test_names_that_need_escaping_reach_their_owner(shards: Shards) -> None:
    name = next(f"team a/app {i}?" for i in range(100) if shard_of(f"team a/app {i}?", 3) == 1)
    shards.sources[1].apps[name] = (app_config(name), app_status(name, AppState.HEALTHY))
    async with shards.session.get(shards.urls[0] + "/api/v1/apps/" + quote(name, safe="")) as resp:
        assert resp.status == 200
        assert (await resp.json())["name"] == name


# --- a shard that does not answer -----------------------------------------------------------------


async def test_a_stopped_shard_costs_its_apps_and_is_named_in_a_header(shards: Shards) -> None:
    await shards.stop(0)
    start = time.monotonic()
    resp, _ = await get(shards, 1, "/api/v1/apps")
    assert time.monotonic() - start < 3.0
    assert resp.status == 200
    assert resp.headers["X-Unreachable-Shards"] == "0"
    assert await names(shards, 1) == [name for name in ALL_APPS if name != "payments-api"]


async def test_two_stopped_shards_are_listed_comma_separated(shards: Shards) -> None:
    await shards.stop(0)
    await shards.stop(2)
    resp, body = await get(shards, 1, "/api/v1/apps")
    assert resp.headers["X-Unreachable-Shards"] == "0,2"
    assert [a["name"] for a in json.loads(body)] == ["nightly-batch"]


async def test_detail_of_an_app_on_a_stopped_shard_is_a_502_naming_the_shard(shards: Shards) -> None:
    await shards.stop(0)
    for path in ("/api/v1/apps/payments-api", "/api/v1/apps/payments-api/diff"):
        async with shards.session.get(shards.urls[2] + path) as resp:
            assert resp.status == 502, path
            assert resp.content_type == "application/json"
            assert (await resp.json())["error"] == "shard 0 of 3, which evaluates app 'payments-api', did not answer"


async def test_badge_of_an_app_on_a_stopped_shard_says_unknown(shards: Shards) -> None:
    await shards.stop(0)
    resp, body = await get(shards, 2, "/api/v1/apps/payments-api/badge.svg")
    assert resp.status == 502
    assert resp.content_type == "image/svg+xml"
    assert b"payments-api: unknown" in body


async def test_a_stopped_shard_is_logged_once_without_flooding(shards: Shards, caplog: pytest.LogCaptureFixture) -> None:
    await shards.stop(0)
    with caplog.at_level(logging.INFO, logger="exporter.server.fleet"):
        for _ in range(3):
            await get(shards, 1, "/api/v1/apps")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].getMessage().startswith(f"shard 0 of 3 at {shards.urls[0].removeprefix('http://')} did not answer")


@pytest.fixture
async def silent_peer() -> AsyncIterator[str]:
    """A peer that accepts connections and never answers: a hung pod, not a dead one."""
    writers: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_hung_shard_costs_at_most_the_peer_timeout(silent_peer: str) -> None:
    urls, runners = await start_shards(shard_sources(2), timeout=0.5, peer_urls={1: silent_peer})
    try:
        async with aiohttp.ClientSession() as session:
            start = time.monotonic()
            async with session.get(urls[0] + "/api/v1/apps") as resp:
                apps = [a["name"] for a in await resp.json()]
            elapsed = time.monotonic() - start
    finally:
        for runner in runners:
            await runner.cleanup()
    assert 0.4 < elapsed < 5.0  # the 0.5 s timeout cut it short; a silent peer never answers at all
    assert resp.headers["X-Unreachable-Shards"] == "1"
    assert apps == sorted(n for n in ALL_APPS if shard_of(n, 2) == 0)


@pytest.fixture
async def wrong_peer() -> AsyncIterator[str]:
    """Something that answers HTTP at a peer's address but is not the agent: a proxy's error page."""
    async def error_page(_request: web.Request) -> web.Response:
        return web.Response(text="<h1>502 Bad Gateway</h1>", status=502, content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", error_page)
    runner = await serve(app, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_a_peer_that_is_not_the_agent_counts_as_not_answering(wrong_peer: str) -> None:
    urls, runners = await start_shards(shard_sources(2), peer_urls={1: wrong_peer})
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(urls[0] + "/api/v1/apps") as resp:
                assert resp.status == 200
                assert resp.headers["X-Unreachable-Shards"] == "1"
                assert [a["name"] for a in await resp.json()] == sorted(n for n in ALL_APPS if shard_of(n, 2) == 0)
            async with session.get(urls[0] + "/") as resp:
                assert resp.status == 200
                assert "shard 1 of 2 did not answer; its apps are not shown." in await resp.text()
    finally:
        for runner in runners:
            await runner.cleanup()


# --- the status page ------------------------------------------------------------------------------

ROW = re.compile(r'<tr data-app="([^"]+)"')


async def page(shards: Shards, index: int, query: str = "") -> str:
    async with shards.session.get(f"{shards.urls[index]}/{query}") as resp:
        assert resp.status == 200
        return await resp.text()


def detail_section(html: str) -> str:
    return html[html.index('<section class="detail"'):html.index("</section>")]


async def test_status_page_has_a_row_for_every_app_of_the_fleet(shards: Shards) -> None:
    html = await page(shards, 1)
    assert sorted(ROW.findall(html)) == ALL_APPS
    assert "Showing 7 of 7 apps" in html
    assert '<p class="banner" id="shards" role="status" data-shard-count="3" hidden></p>' in html


async def test_an_unsharded_page_has_no_shard_banner(served: Served) -> None:
    async with served.session.get(served.url + "/") as resp:
        html = await resp.text()
    assert 'id="shards"' not in html
    assert sorted(ROW.findall(html)) == ALL_APPS


async def test_status_page_shows_a_remote_app_exactly_as_its_owner_does(shards: Shards) -> None:
    remote = await page(shards, 2, "?app=payments-api")
    owner = await page(shards, 0, "?app=payments-api")
    assert detail_section(remote) == detail_section(owner)
    assert '<h2 id="detail-title">payments-api</h2>' in remote
    assert "ReplicaSet has timed out progressing." in remote
    assert "+      - image: payments-api:1.4.0" in remote


async def test_status_page_filters_hide_remote_rows_too(shards: Shards) -> None:
    html = await page(shards, 1, "?label=team=payments")
    visible = re.findall(r'<tr data-app="([^"]+)"[^>]*data-labels="[^"]*">', html)
    assert sorted(visible) == ["billing-worker", "checkout", "payments-api"]


async def test_status_page_names_a_stopped_shard_and_keeps_the_other_apps(shards: Shards) -> None:
    await shards.stop(0)
    html = await page(shards, 1)
    assert "shard 0 of 3 did not answer; its apps are not shown." in html
    assert '<p class="banner" id="shards" role="status" data-shard-count="3">' in html
    assert sorted(ROW.findall(html)) == [name for name in ALL_APPS if name != "payments-api"]


async def test_status_page_of_an_app_on_a_stopped_shard_shows_no_detail(shards: Shards) -> None:
    await shards.stop(0)
    html = await page(shards, 2, "?app=payments-api")
    assert 'aria-labelledby="detail-title" tabindex="-1" hidden>' in html


# --- the peer addresses ---------------------------------------------------------------------------


def test_peers_are_every_other_shard_formatted_from_the_template() -> None:
    fleet = Fleet.from_template("http://gde-{shard}.gde-shards.monitoring.svc:8080/", 1, 3)
    assert fleet.peers == {0: "http://gde-0.gde-shards.monitoring.svc:8080",
                           2: "http://gde-2.gde-shards.monitoring.svc:8080"}


@pytest.mark.parametrize(("template", "message"), [
    ("http://gde.gde-shards:8080", "must contain {shard}"),
    ("ftp://gde-{shard}.gde-shards", "http:// or https://"),
    ("gde-{shard}.gde-shards:8080", "http:// or https://"),
    ("http://gde-{shard}.{namespace}.svc:8080", "other than {shard}: {namespace}"),
    ("http://gde-{shard.svc:8080", "not a valid template"),
    ("http://gde-{shard:q}:8080", "not a valid template"),
    ("http://user:pw@gde-{shard}:8080", "must not carry credentials"),
    ("http://gde-{shard}:8080/?x=1", "without a query"),
])
def test_a_template_that_cannot_address_the_shards_is_refused(template: str, message: str) -> None:
    with pytest.raises(PeerTemplateError, match=re.escape(message)):
        check_peer_template(template)
