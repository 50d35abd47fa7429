"""One colour per app state, shared by the status page (``static/status.css``) and the Grafana
dashboards, so Degraded is the same red and Progressing the same blue wherever people look.
Tests hold the page's stylesheet and every dashboard to this table."""

from __future__ import annotations

STATE_COLOURS: dict[str, str] = {
    "Healthy": "#2e7d32",
    "Progressing": "#1565c0",
    "Suspended": "#6a5acd",
    "OutOfSync": "#9a6700",
    "Missing": "#bc4c00",
    "Degraded": "#c62828",
    "Unknown": "#616161",
    # Argo CD's sync value for "as Git says" takes the healthy colour.
    "Synced": "#2e7d32",
}
