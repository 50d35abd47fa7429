"""The status page, rendered on the server so it reads without JavaScript.

Every row is in the HTML with its filter attributes; rows the query string filters out carry
``hidden``, which browsers honour without scripts, so a shared link shows the same view with or
without JS. ``static/status.js`` then takes over: it filters in place, opens the detail panel and
refreshes from ``/api/v1/apps``. Every value from the cluster or Git passes through
:func:`html.escape`: app names, reasons and diffs are data, never markup.

Rows and the detail panel are drawn from the API's own shapes (``app_summary``, ``app_detail``),
so the page shows exactly what the API says, and an app a sibling shard sent over HTTP renders
through the same code as a local one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from exporter import __version__
from exporter.clock import SystemClock
from exporter.config_types import AppConfig
from exporter.history import spans
from exporter.humanize import human_duration
from exporter.model import STATE_PRECEDENCE, AppStatus
from exporter.server.api import (
    AppFilter,
    app_detail,
    app_summary,
    count_states,
    rfc3339,
    state_rank,
)
from exporter.server.fleet import unreachable_text

_HEX_SHA = re.compile(r"^[0-9a-f]{12,64}$")
STATES = [s.value for s in STATE_PRECEDENCE]
#: Appended to asset URLs so browsers fetch the new script and styles after an upgrade.
ASSET_VERSION = escape(__version__, quote=True)


def short_revision(revision: str | None) -> str:
    """Seven characters of a commit SHA, as ``git log --oneline`` shows it; other revisions as is."""
    if not revision:
        return ""
    return revision[:7] if _HEX_SHA.match(revision) else revision


def relative_time(ts: float | None, now: float) -> str:
    """``"3m ago"``: how long an app has been in its state matters more than the clock time."""
    if not ts:
        return ""
    delta = max(0, int(now - ts))
    return "just now" if delta < 10 else f"{human_duration(delta)} ago"


def _attr(value: Any) -> str:
    return escape(str(value), quote=True)


def _time(ts: float | None, now: float) -> str:
    stamp = rfc3339(ts)
    if stamp is None:
        return ""
    return (f'<time datetime="{stamp}" data-ts="{ts}" title="{stamp}">'
            f'{escape(relative_time(ts, now))}</time>')


def _chip(state: str) -> str:
    return f'<span class="chip s-{_attr(state)}">{escape(state)}</span>'


def _row(app: dict[str, Any], app_filter: AppFilter, now: float, link_query: str) -> str:
    name = app["name"]
    state = app["status"]
    hidden = "" if app_filter.matches_summary(app) else " hidden"
    frozen = ('<span class="frozen" title="A deny window is active: changes are freeze violations">'
              "frozen</span>" if app["frozen"] else "")
    return (
        f'<tr data-app="{_attr(name)}" data-status="{_attr(state)}" data-project="{_attr(app["project"])}" '
        f'data-cluster="{_attr(app["cluster"])}" '
        f'data-labels="{_attr(json.dumps(app["labels"], sort_keys=True))}"{hidden}>'
        f'<th scope="row" data-label="App"><a class="app-link" href="?{link_query}app={_attr(_quote(name))}#detail">'
        f"{escape(name)}</a>{frozen}</th>"
        f'<td data-label="State">{_chip(state)}</td>'
        f'<td data-label="Since">{_time(app["sinceTimestamp"], now)}</td>'
        f'<td data-label="Revision">{revision_html(app)}</td>'
        f'<td data-label="Reason" class="reason">{escape(app["reason"])}</td>'
        f'<td data-label="Project">{escape(app["project"])}</td>'
        f'<td data-label="Cluster">{escape(app["cluster"])}</td></tr>'
    )


def revision_html(app: dict[str, Any], full: bool = False) -> str:
    """The revision as a link to its commit page where the hosting service is known, titled with
    the commit's subject and author; ``full`` shows the whole SHA (the detail panel)."""
    revision = app["revision"] or ""
    commit = app.get("commit")
    title = revision + (f"\n{commit['subject']}\n{commit['author']}" if commit else "")
    code = f'<code title="{_attr(title)}">{escape(revision if full else short_revision(revision))}</code>'
    url = app.get("revisionUrl")
    link = f'<a class="rev" href="{_attr(url)}" rel="noopener noreferrer">{code}</a>' if url else code
    subject = f' <span class="subject">{escape(commit["subject"])}</span>' if commit and not full else ""
    return link + subject


def commit_html(app: dict[str, Any], now: float) -> str:
    """The commit's subject, author and age, for the detail panel."""
    commit = app.get("commit")
    if not commit:
        return ""
    stamp = commit.get("committedAt")
    when = f" · {_time(_timestamp(stamp), now)}" if stamp else ""
    return f'{escape(commit["subject"])}<div class="note">{escape(commit["author"])}{when}</div>'


def _timestamp(stamp: str) -> float | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _quote(name: str) -> str:
    return quote(name, safe="")


def _options(name: str, label: str, values: list[str], selected: str, all_label: str) -> str:
    opts = [f'<option value="">{escape(all_label)}</option>']
    for value in values:
        sel = " selected" if value == selected else ""
        opts.append(f'<option value="{_attr(value)}"{sel}>{escape(value)}</option>')
    return (f'<div class="field"><label for="f-{name}">{escape(label)}</label>'
            f'<select id="f-{name}" name="{name}">{"".join(opts)}</select></div>')


def _differences(obj: dict[str, Any]) -> str:
    items = []
    for diff in obj["differences"]:
        reason = f' <span class="why">({escape(diff["reason"])})</span>' if diff["reason"] else ""
        items.append(f'<li><code>{escape(diff["path"])}</code>: git <code>{escape(_short_json(diff["desired"]))}'
                     f'</code>, live <code>{escape(_short_json(diff["live"]))}</code>{reason}</li>')
    if obj["ignored"]:
        rules = ", ".join(sorted({str(d["ignoredBy"]) for d in obj["ignored"]}))
        items.append(f'<li class="ignored" title="{_attr(rules)}">{len(obj["ignored"])} ignored by rules</li>')
    return f'<ul class="diffs">{"".join(items)}</ul>' if items else ""


def _short_json(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: How the detail panel names where a health verdict came from; a specific check says nothing.
HEALTH_SOURCES = {"family": "judged by its operator family's rule",
                  "fallback": "judged from its conditions only (no check for this kind)",
                  "user": "judged by your health check"}


def _object_row(data: dict[str, Any]) -> str:
    group_kind = f'{data["group"]}/{data["kind"]}' if data["group"] else data["kind"]
    where = f'{data["namespace"]}/{data["name"]}' if data["namespace"] else data["name"]
    health = data["health"] or ""
    notes = []
    if not data["exists"]:
        notes.append("missing from the cluster")
    if data["requiresPruning"]:
        notes.append("requires pruning")
    if data["healthExcluded"]:
        notes.append("not counted for health")
    note = f'<div class="note">{escape("; ".join(notes))}</div>' if notes else ""
    message = f'<div class="note">{escape(data["healthMessage"])}</div>' if data["healthMessage"] else ""
    source = HEALTH_SOURCES.get(data.get("healthSource") or "")
    if source:
        message += f'<div class="note source">{escape(source)}</div>'
    return (
        f'<tr><th scope="row" data-label="Object"><span class="kind">{escape(group_kind)}</span> '
        f"{escape(where)}{note}{_differences(data)}</th>"
        f'<td data-label="Health">{_chip(health) if health else ""}{message}</td>'
        f'<td data-label="Sync">{_chip(data["sync"])}</td></tr>'
    )


def diff_html(text: str | None) -> str:
    """A unified diff with its added, removed and hunk lines marked for colour."""
    if not text:
        return "No differences."
    out = []
    for line in text.splitlines(keepends=True):
        cls = ("d-file" if line.startswith(("+++", "---")) else "d-add" if line.startswith("+")
               else "d-del" if line.startswith("-") else "d-hunk" if line.startswith("@@") else "")
        out.append(f'<span class="{cls}">{escape(line)}</span>' if cls else escape(line))
    return "".join(out)


def filter_query(app_filter: AppFilter) -> str:
    """The query string that reproduces ``app_filter``, for links that must keep the view."""
    return urlencode({k: v for k, v in app_filter.query_values().items() if v})


def render_detail(config: AppConfig, status: AppStatus, diff_text: str | None, now: float,
                  app_filter: AppFilter | None = None) -> str:
    """The detail panel's content for one app: facts, objects and diff."""
    return render_app_detail(app_detail(config, status), diff_text, now, app_filter)


#: Changes listed under the timeline, newest first.
HISTORY_ROWS = 20


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%" if share >= 0.01 or share == 0 else "<1%"


def render_history(history: dict[str, Any], now: float) -> str:
    """The detail panel's History: a bar of the states over the window, time in each state, and
    the latest changes. Built from the history API's shape (``history_json``); ``status.js``
    draws the same markup. An SVG, so no inline style is needed under the page's CSP."""
    start = float(history["window"]["sinceTimestamp"])
    span = max(now - start, 1.0)
    entries = history["entries"]
    rects = []
    for index, begin, end in spans([float(e["atTimestamp"]) for e in entries], start, now):
        entry = entries[index]
        x, width = (begin - start) / span * 1000, (end - begin) / span * 1000
        rects.append(f'<rect class="s-{_attr(entry["to"])}" x="{x:.2f}" y="0" width="{width:.2f}" height="20">'
                     f'<title>{escape(entry["to"])} from {escape(entry["at"] or "")}</title></rect>')
    days = history["window"]["seconds"] / 86400
    window = f"{days:g} days" if days >= 1 else human_duration(history["window"]["seconds"])
    shares = sorted(history["timeInStateShare"].items(), key=lambda kv: -kv[1])
    summary = " · ".join(f"{_chip(state)} {escape(_percent(share))}" for state, share in shares) or "no changes recorded"
    label = "; ".join(f"{state} {_percent(share)}" for state, share in shares) or "no data"
    items = "".join(
        f'<li>{_time(e["atTimestamp"], now)} {_chip(e["from"]) + " → " if e["from"] else ""}{_chip(e["to"])}'
        f'{" <code>" + escape(short_revision(e["revision"])) + "</code>" if e["revision"] else ""}'
        f'{" <span class=reason>" + escape(e["reason"]) + "</span>" if e["reason"] else ""}</li>'
        for e in reversed(entries[-HISTORY_ROWS:]))
    return (f'<h3>History</h3><p class="tis">Last {escape(window)}: {summary}</p>'
            f'<svg class="timeline" id="detail-timeline" viewBox="0 0 1000 20" preserveAspectRatio="none" role="img" '
            f'aria-label="States over the last {_attr(window)}: {_attr(label)}">{"".join(rects)}</svg>'
            f'<ol class="changes">{items or "<li>No changes recorded yet.</li>"}</ol>')


def render_app_detail(app: dict[str, Any], diff_text: str | None, now: float,
                      app_filter: AppFilter | None = None, history: dict[str, Any] | None = None) -> str:
    """The detail panel from the API's ``app_detail`` shape, so a sibling shard's app shows the same."""
    facts = [
        ("State", _chip(app["status"])),
        ("Sync", escape(app["sync"])),
        ("Health", escape(app["health"])),
        ("Reason", escape(app["reason"])),
        ("Repository", escape(app["repo"])),
        ("Path", escape(app["path"])),
        ("Target revision", escape(app["targetRevision"] or "")),
        ("Revision", revision_html(app, full=True)),
        *([("Commit", commit_html(app, now))] if app.get("commit") else []),
        ("Evaluated", _time(app["evaluatedAtTimestamp"], now)),
    ]
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    objects = "".join(_object_row(o) for o in app["objects"])
    return (
        f'<div class="detail-head"><h2 id="detail-title">{escape(app["name"])}</h2>'
        f'<a class="close" id="detail-close" href="?{_attr(filter_query(app_filter or AppFilter()))}">Close</a></div>'
        f'<dl class="facts">{dl}</dl>'
        f'{render_history(history, now) if history is not None else ""}'
        f'<h3>Objects</h3><table class="objects"><thead><tr><th scope="col">Object and differences</th>'
        f'<th scope="col">Health</th><th scope="col">Sync</th></tr></thead>'
        f'<tbody>{objects or "<tr><td colspan=3>No objects</td></tr>"}</tbody></table>'
        f'<h3>Diff</h3><pre class="diff" id="detail-diff">{diff_html(diff_text)}</pre>'
    )


def render_page(apps: list[tuple[AppConfig, AppStatus]], app_filter: AppFilter, *,
                detail: str | None = None, ready: bool = True, now: float | None = None,
                refresh_seconds: float = 5.0) -> str:
    """The whole status page. ``apps`` is every app; the filter only hides rows."""
    return render_fleet_page([app_summary(c, s) for c, s in apps], app_filter, detail=detail, ready=ready,
                             now=now, refresh_seconds=refresh_seconds)


def _count_items(counts: dict[str, int]) -> str:
    return "".join(
        f'<li><a class="count s-{_attr(state)}" href="?status={_attr(quote(state))}" data-state="{_attr(state)}">'
        f'<span class="n">{n}</span> {escape(state)}</a></li>' for state, n in counts.items())


def _banners(ready: bool, shard_count: int | None, unreachable: Sequence[int]) -> str:
    """The banners above the list: first evaluation not finished, sibling shards not answering."""
    text = ('<p class="banner" role="status">The agent has not finished its first evaluation; '
            "states may be incomplete.</p>" if not ready else "")
    if shard_count is not None:
        missing = unreachable_text(unreachable, shard_count)
        text += (f'\n<p class="banner" id="shards" role="status" data-shard-count="{shard_count}"'
                 f'{"" if missing else " hidden"}>{escape(missing)}</p>')
    return text


def _filters(selected: dict[str, Any], projects: list[str], clusters: list[str]) -> str:
    """The filter form; the page's script applies it without a reload, and it works without one."""
    active = sum(1 for key in ("status", "project", "cluster", "label", "q") if selected[key])
    return f"""<details class="filter-box" id="filter-box" open>
<summary>Search and filters <span class="active" id="filter-active">{f"({active} active)" if active else ""}</span></summary>
<form class="filters" id="filters" method="get" action="">
<div class="field search"><label for="f-q">Search</label>
<input id="f-q" name="q" type="search" value="{_attr(selected["q"])}" placeholder="app name" autocomplete="off"></div>
{_options("status", "State", STATES, selected["status"], "All states")}
{_options("project", "Project", projects, selected["project"], "All projects")}
{_options("cluster", "Cluster", clusters, selected["cluster"], "All clusters")}
<div class="field"><label for="f-label">Label</label>
<input id="f-label" name="label" value="{_attr(selected["label"])}" placeholder="team=payments" autocomplete="off"></div>
<div class="actions"><button type="submit">Apply</button> <a href="?">Clear</a></div>
</form>
</details>"""


def render_fleet_page(apps: list[dict[str, Any]], app_filter: AppFilter, *,
                      detail: str | None = None, ready: bool = True, now: float | None = None,
                      refresh_seconds: float = 5.0, shard_count: int | None = None,
                      unreachable: Sequence[int] = ()) -> str:
    """The whole status page from the API's ``app_summary`` shapes, this shard's and its siblings'.

    ``shard_count`` set (a sharded agent) adds the banner that names shards that did not answer;
    the page's script keeps it current from the ``X-Unreachable-Shards`` header.
    """
    now = SystemClock().now() if now is None else now
    apps = sorted(apps, key=lambda a: (state_rank(a["status"]), a["name"]))
    counts = count_states(a["status"] for a in apps)
    selected = app_filter.query_values()
    shown = sum(1 for app in apps if app_filter.matches_summary(app))
    bad = sum(n for state, n in counts.items() if state not in ("Healthy", "Suspended"))
    count_items = _count_items(counts)
    projects = sorted({a["project"] for a in apps})
    clusters = sorted({a["cluster"] for a in apps})
    # Links keep the filters, so opening an app without JavaScript does not reset the view.
    link_query = _attr(filter_query(app_filter) + "&") if filter_query(app_filter) else ""
    rows = "".join(_row(app, app_filter, now, link_query) for app in apps)
    not_ready = _banners(ready, shard_count, unreachable)
    worst = next((state for state, n in counts.items() if n), "Healthy")
    title = f"{bad} of {len(apps)} apps need attention" if bad else f"No app needs attention ({len(apps)} apps)"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GitOps drift: {escape(title)}</title>
<link rel="icon" href="favicon.svg?state={_attr(quote(worst))}" type="image/svg+xml">
<link rel="stylesheet" href="static/status.css?v={ASSET_VERSION}">
<script src="static/status.js?v={ASSET_VERSION}" defer></script>
</head>
<body data-refresh="{refresh_seconds:g}">
<header class="top">
<h1>GitOps drift</h1>
<p class="summary" id="summary">{escape(title)}</p>
<nav aria-label="Apps per state"><ul class="counts" id="counts">{count_items}</ul></nav>
</header>
<main>
{not_ready}
{_filters(selected, projects, clusters)}
<p class="shown" id="shown" aria-live="polite">Showing {shown} of {len(apps)} apps</p>
<div class="layout">
<table class="apps" id="apps">
<caption class="visually-hidden">Applications and their state</caption>
<thead><tr><th scope="col">App</th><th scope="col">State</th><th scope="col">Since</th>
<th scope="col">Revision</th><th scope="col">Reason</th><th scope="col">Project</th>
<th scope="col">Cluster</th></tr></thead>
<tbody>{rows}</tbody>
</table>
<section class="detail" id="detail" aria-labelledby="detail-title" tabindex="-1"{"" if detail else " hidden"}>{detail or ""}</section>
</div>
</main>
</body>
</html>
"""
