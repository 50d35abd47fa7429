"""What to say: one channel-neutral message, rendered as Slack Block Kit or as Markdown (apprise).

A message is built once per event and kept as plain data, so a delivery that waits in the outbox
across a restart says exactly what it would have said at the time. It carries the app, its state,
since when and for how long, the reason, the worst objects (at most five) and links. Objects are
described by their health message or by the *paths* of drifted fields; field values never appear,
not even for fields that are not secret, so a Secret can never leak through an alert.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from exporter.config_types import AppConfig
from exporter.humanize import human_duration
from exporter.model import HEALTH_ORDER, AppStatus, Health, ObjectStatus, Sync
from exporter.urls import safe_url

MAX_OBJECTS = 5
MAX_PATHS = 5

#: Placeholders a link template may use.
LINK_PLACEHOLDERS = frozenset({"app", "project", "cluster", "namespace", "revision", "repo"})
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

_ICONS = {"firing": ":red_circle:", "repeat": ":large_orange_circle:", "resolved": ":large_green_circle:",
          "freeze": ":snowflake:", "test": ":wave:"}


class LinkTemplateError(ValueError):
    """A link template uses a placeholder that does not exist."""


def human_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def check_link_templates(links: dict[str, str]) -> None:
    """Raise :class:`LinkTemplateError` naming the link and placeholder that cannot be filled."""
    for name, template in links.items():
        for ph in _PLACEHOLDER.findall(template):
            if ph not in LINK_PLACEHOLDERS:
                raise LinkTemplateError(
                    f"notifications.links.{name}: unknown placeholder {{{ph}}}; "
                    f"use {', '.join('{' + p + '}' for p in sorted(LINK_PLACEHOLDERS))}")


def render_links(links: dict[str, str], values: dict[str, str]) -> list[tuple[str, str]]:
    """Fill link templates. A link whose placeholder has no value (no revision yet) is left out."""
    out: list[tuple[str, str]] = []
    for name, template in links.items():
        needed = _PLACEHOLDER.findall(template)
        if any(not values.get(ph) for ph in needed):
            continue
        out.append((name, _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)))
    return out


def link_values(app: AppConfig | None, app_name: str, revision: str | None) -> dict[str, str]:
    repo = safe_url(app.source.repo_url) if app else ""
    # Commit links are written as "{repo}/commit/{revision}": a clone URL's ".git" would break them.
    repo = repo[:-4] if repo.endswith(".git") else repo
    return {"app": app_name, "project": app.project if app else "", "repo": repo,
            "cluster": app.destination.cluster if app else "",
            "namespace": app.destination.namespace if app else "", "revision": revision or ""}


@dataclass
class Message:
    """A notification, independent of where it goes. Plain data: it is persisted in the outbox."""

    event: str
    app: str
    title: str
    state: str = ""
    reason: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Message:
        return cls(event=d["event"], app=d["app"], title=d["title"], state=d.get("state", ""),
                   reason=d.get("reason", ""), facts=[(str(a), str(b)) for a, b in d.get("facts", [])],
                   objects=list(d.get("objects", [])), links=[(str(a), str(b)) for a, b in d.get("links", [])])


def _badness(o: ObjectStatus) -> tuple[int, int]:
    """Sort key, worst first: health in Argo CD's order, then missing before drifted."""
    health = Health(o.health.status) if o.health else (Health.MISSING if not o.exists else Health.HEALTHY)
    drift = 2 if not o.exists else 1 if (o.sync is Sync.OUT_OF_SYNC or o.requires_pruning) else 0
    return (HEALTH_ORDER[health] if not o.health_excluded else 0, drift)


def describe_object(o: ObjectStatus) -> str | None:
    """One line about an object that is not fine, or None if it is fine. Never a field value."""
    parts: list[str] = []
    if not o.exists:
        parts.append("Missing from the cluster")
    elif o.requires_pruning:
        parts.append("Requires pruning (in the cluster, not in Git)")
    if o.exists and o.health and o.health.status not in (Health.HEALTHY,) and not o.health_excluded:
        parts.append(str(o.health.status) + (f": {o.health.message}" if o.health.message else ""))
    if o.exists and o.sync is Sync.OUT_OF_SYNC and o.diff is not None:
        paths = [d.path for d in o.diff.differences if d.ignored_by is None]
        if paths:
            more = f" (+{len(paths) - MAX_PATHS} more)" if len(paths) > MAX_PATHS else ""
            parts.append("OutOfSync: " + ", ".join(paths[:MAX_PATHS]) + more)
        else:
            parts.append("OutOfSync")
    elif o.exists and o.sync is Sync.OUT_OF_SYNC:
        parts.append("OutOfSync")
    if not parts:
        return None
    return f"{o.key}: " + "; ".join(parts)


def worst_objects(status: AppStatus) -> list[str]:
    ranked = sorted(status.objects, key=_badness, reverse=True)
    lines = [line for o in ranked if (line := describe_object(o))]
    if len(lines) > MAX_OBJECTS:
        return [*lines[:MAX_OBJECTS], f"... and {len(lines) - MAX_OBJECTS} more"]
    return lines


def build_alert(event: str, app: AppConfig, app_name: str, status: AppStatus | None, state: str,
                bad_since: float, now: float, links: dict[str, str]) -> Message:
    """The firing, repeat or resolved message for an app's incident."""
    revision = status.revision if status else None
    lasted = human_duration(now - bad_since)
    if event == "resolved":
        title = f"{app_name} recovered: {state} after {lasted}"
        facts = [("State", state), ("Was bad since", human_time(bad_since)), ("Lasted", lasted)]
    else:
        title = f"{app_name} is {state} for {lasted}"
        if event == "repeat":
            title = f"Still bad: {title}"
        facts = [("State", state), ("Since", human_time(bad_since)), ("For", lasted)]
    facts += [("Project", app.project), ("Cluster", app.destination.cluster)]
    if revision:
        facts.append(("Revision", revision[:12]))
    reason = "" if status is None or event == "resolved" else (status.error or status.reason or "")
    objects = [] if status is None or event == "resolved" else worst_objects(status)
    return Message(event=event, app=app_name, title=title, state=state, reason=reason, facts=facts,
                   objects=objects, links=render_links(links, link_values(app, app_name, revision)))


# --- rendering ---------------------------------------------------------------------------------

def _mrkdwn_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(msg: Message) -> str:
    """The plain fallback Slack shows in notifications and screen readers."""
    return f"{msg.title}" + (f": {msg.reason}" if msg.reason else "")


def slack_blocks(msg: Message) -> list[dict[str, Any]]:
    """Block Kit: header, facts, reason, worst objects, links."""
    icon = _ICONS.get(msg.event, "")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{icon} {msg.title}"[:150], "emoji": True}},
    ]
    if msg.facts:
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{_mrkdwn_escape(k)}*\n{_mrkdwn_escape(v)}"} for k, v in msg.facts[:10]]})
    if msg.reason:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": f"*Reason*\n{_mrkdwn_escape(msg.reason)}"[:3000]}})
    if msg.objects:
        lines = "\n".join(f"• {_mrkdwn_escape(line)}" for line in msg.objects)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Objects*\n{lines}"[:3000]}})
    if msg.links:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": name[:75]}, "url": url[:3000]}
            for name, url in msg.links[:5]]})
    return blocks


def slack_resolved_update(firing: Message | None, resolved: Message) -> list[dict[str, Any]]:
    """What the original firing message turns into once resolved: struck through, pointing at the end."""
    title = firing.title if firing else resolved.app
    return [
        {"type": "header", "text": {"type": "plain_text",
                                    "text": f"{_ICONS['resolved']} Resolved: {title}"[:150], "emoji": True}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _mrkdwn_escape(resolved.title)}]},
    ]


def markdown(msg: Message) -> tuple[str, str]:
    """``(title, body)`` in Markdown for apprise (Teams Workflows renders it in an Adaptive Card)."""
    lines = [f"**{k}:** {v}" for k, v in msg.facts]
    if msg.reason:
        lines += ["", f"**Reason:** {msg.reason}"]
    if msg.objects:
        lines += ["", "**Objects:**", *[f"- {o}" for o in msg.objects]]
    if msg.links:
        lines += ["", " | ".join(f"[{name}]({url})" for name, url in msg.links)]
    return msg.title, "\n".join(lines)
