"""The status page as served, before any script runs: what a reader without JavaScript gets."""

from __future__ import annotations

from html.parser import HTMLParser

from server_fleet import Served, app_config, app_status

from exporter.model import AppState


class PageParser(HTMLParser):
    """Collects the app rows, state counts, form controls and their labels of the status page."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str | None]] = []
        self.counts: dict[str, str] = {}
        self.controls: list[str] = []
        self.labels_for: list[str] = []
        self.selected: dict[str, str] = {}
        self.meta: dict[str, str] = {}
        self.detail_hidden: bool | None = None
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.stack.append((tag, a))
        if tag == "tr" and "data-app" in a:
            self.rows.append({"app": a["data-app"], "hidden": "hidden" if "hidden" in a else None, "chip": None})
        if tag in ("select", "input"):
            self.controls.append(a.get("id") or "")
            if tag == "input":
                self.selected[a.get("name") or ""] = a.get("value") or ""
            else:
                self._select = a.get("name")
        if tag == "option" and "selected" in a and self._select:
            self.selected[self._select] = a.get("value") or ""
        if tag == "label":
            self.labels_for.append(a.get("for") or "")
        if tag == "meta" and a.get("name"):
            self.meta[a["name"] or ""] = a.get("content") or ""
        if tag == "section" and a.get("id") == "detail":
            self.detail_hidden = "hidden" in a

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        classes = [(t, (a.get("class") or "").split()) for t, a in self.stack]
        if classes and "chip" in classes[-1][1] and self.rows and self._in_app_row():
            self.rows[-1]["chip"] = data
        for tag, cls in classes:
            if tag == "a" and "count" in cls:
                state = next(c[2:] for c in cls if c.startswith("s-"))
                if "n" in classes[-1][1]:
                    self.counts[state] = data


    def _in_app_row(self) -> bool:
        return any(t == "tr" and "data-app" in a for t, a in self.stack)


async def page(served: Served, query: str = "") -> tuple[PageParser, str]:
    async with served.session.get(served.url + "/" + query) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
        html = await resp.text()
    parser = PageParser()
    parser.feed(html)
    return parser, html


async def test_every_app_has_a_row_with_its_state_worst_first(served: Served) -> None:
    parsed, _ = await page(served)
    assert [(r["app"], r["chip"]) for r in parsed.rows] == [
        ("legacy", "Unknown"), ("payments-api", "Degraded"), ("billing-worker", "Missing"),
        ("search", "OutOfSync"), ("ingest", "Progressing"), ("nightly-batch", "Suspended"),
        ("checkout", "Healthy")]
    assert not any(r["hidden"] for r in parsed.rows)


async def test_counts_per_state_are_shown_at_the_top(served: Served) -> None:
    served.source.set_state("checkout", AppState.DEGRADED, "crash loop")
    parsed, html = await page(served)
    assert parsed.counts["Degraded"] == "2"
    assert parsed.counts["Healthy"] == "0"
    assert parsed.counts["Unknown"] == "1"
    assert "<title>GitOps drift: 6 of 7 apps need attention</title>" in html


async def test_query_string_filters_hide_other_rows_and_preselect_the_controls(served: Served) -> None:
    parsed, html = await page(served, "?project=shop&label=team=payments")
    visible = [r["app"] for r in parsed.rows if not r["hidden"]]
    assert visible == ["payments-api", "billing-worker", "checkout"]
    assert parsed.selected["project"] == "shop"
    assert parsed.selected["label"] == "team=payments"
    assert "Showing 3 of 7 apps" in html


async def test_state_filter_from_the_query_string(served: Served) -> None:
    parsed, _ = await page(served, "?status=Degraded")
    assert [r["app"] for r in parsed.rows if not r["hidden"]] == ["payments-api"]
    assert parsed.selected["status"] == "Degraded"


async def test_app_in_the_query_string_opens_its_detail_with_objects_and_diff(served: Served) -> None:
    parsed, html = await page(served, "?app=payments-api")
    assert parsed.detail_hidden is False
    assert "ReplicaSet has timed out progressing." in html
    assert "/spec/template/spec/containers/0/image" in html
    assert "+      - image: payments-api:1.4.0" in html
    assert "1 ignored by rules" in html


async def test_detail_is_closed_without_an_app_in_the_query(served: Served) -> None:
    parsed, _ = await page(served)
    assert parsed.detail_hidden is True


async def test_frozen_apps_are_marked(served: Served) -> None:
    _, html = await page(served)
    row = html[html.index('data-app="search"'):]
    row = row[: row.index("</tr>")]
    assert '<span class="frozen"' in row


async def test_revision_is_a_short_sha_titled_with_the_full_one_and_the_commit(served: Served) -> None:
    _, html = await page(served)
    assert ('<code title="3f5e2a9c1b7d4e6f8a0b2c4d6e8f0a1b3c5d7e9f&#10;Raise the payments timeout to 90s&#10;'
            'Dana Ruiz">3f5e2a9</code>') in html.replace("\n", "&#10;")


async def test_the_search_box_filters_the_page_without_javascript(served: Served) -> None:
    parsed, html = await page(served, "?q=PAY")
    assert 'value="PAY"' in html
    assert [r["app"] for r in parsed.rows if not r["hidden"]] == ["payments-api"]


async def test_since_is_relative_with_the_absolute_time_as_title(served: Served) -> None:
    _, html = await page(served)
    row = html[html.index('data-app="payments-api"'):]
    assert ">7m ago</time>" in row[: row.index("</tr>")]
    assert 'title="20' in row[: row.index("</tr>")]


async def test_markup_in_names_and_reasons_is_escaped(served: Served) -> None:
    served.source.apps["<b>x</b>"] = (app_config("<b>x</b>"),
                                      app_status("<b>x</b>", AppState.DEGRADED, reason="<script>alert(1)</script>"))
    _, html = await page(served)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>x</b>" not in html


async def test_every_filter_control_has_a_label(served: Served) -> None:
    parsed, _ = await page(served)
    assert parsed.controls == ["f-q", "f-status", "f-project", "f-cluster", "f-label"]
    assert set(parsed.controls) <= set(parsed.labels_for)


async def test_page_is_sized_for_phones(served: Served) -> None:
    parsed, _ = await page(served)
    assert parsed.meta["viewport"] == "width=device-width, initial-scale=1"


async def test_page_loads_no_third_party_resources(served: Served) -> None:
    async with served.session.get(served.url + "/") as resp:
        csp = resp.headers["Content-Security-Policy"]
        html = await resp.text()
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "http://" not in html and "https://" not in html.replace("https://github.com/acme", "")


async def test_script_and_stylesheet_are_served(served: Served) -> None:
    for path, kind in (("/static/status.js", "javascript"), ("/static/status.css", "text/css")):
        async with served.session.get(served.url + path) as resp:
            assert resp.status == 200
            assert kind in resp.headers["Content-Type"]
            assert len(await resp.read()) > 1000


async def test_banner_says_when_the_agent_is_not_ready(served: Served) -> None:
    served.source.is_ready = False
    _, html = await page(served)
    assert "has not finished its first evaluation" in html


async def test_an_empty_fleet_renders_a_page_that_says_so(served: Served) -> None:
    served.source.apps.clear()
    parsed, html = await page(served)
    assert parsed.rows == []
    assert "No app needs attention (0 apps)" in html
    assert "Showing 0 of 0 apps" in html


async def test_app_links_keep_the_filters(served: Served) -> None:
    _, html = await page(served, "?status=Degraded&label=team=payments")
    assert 'href="?status=Degraded&amp;label=team%3Dpayments&amp;app=payments-api#detail"' in html


async def test_closing_the_detail_keeps_the_filters(served: Served) -> None:
    _, html = await page(served, "?project=shop&app=checkout")
    assert '<a class="close" id="detail-close" href="?project=shop">Close</a>' in html


def test_a_state_a_sibling_shard_sends_is_data_not_markup() -> None:
    from exporter.server.api import AppFilter, app_summary
    from exporter.server.page import render_fleet_page

    hostile = dict(app_summary(app_config("x"), app_status("x", AppState.HEALTHY)), status='"><script>alert(1)</script>')
    html = render_fleet_page([hostile], AppFilter(), shard_count=2)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
