"""Status badges for READMEs and wikis, in the flat shields.io look people already read at a glance.

The badge is drawn here rather than fetched from a badge service: the agent never makes outbound
calls for display, and app names may be private.
"""

from __future__ import annotations

from html import escape

#: Background per combined state; the same hues as the status page chips.
STATE_COLOURS: dict[str, str] = {
    "Healthy": "#2e7d32",
    "Progressing": "#1565c0",
    "Suspended": "#6a5acd",
    "OutOfSync": "#b26a00",
    "Missing": "#c75000",
    "Degraded": "#c62828",
    "Unknown": "#616161",
}
LABEL_COLOUR = "#555"
NOT_FOUND_COLOUR = "#9e9e9e"

# Approximate advance widths of Verdana 11px, the shields font, in tenths of a pixel. Exact text
# metrics would need a font file; these keep the text inside its box for Latin names.
_NARROW = set("fijlrt.,:;!'|()[] ")
_WIDE = set("mwMW@%")
_UPPER = set("ABCDEFGHIJKLNOPQRSTUVXYZ")


def _text_width(text: str) -> int:
    width = 0
    for ch in text:
        if ch in _NARROW:
            width += 40
        elif ch in _WIDE:
            width += 100
        elif ch in _UPPER or ch.isdigit():
            width += 75
        else:
            width += 65
    return (width + 9) // 10


def render_badge(label: str, message: str, colour: str) -> str:
    """A two-part SVG badge: grey ``label`` on the left, ``message`` on ``colour`` on the right."""
    left = _text_width(label) + 10
    right = _text_width(message) + 10
    total = left + right
    lab, msg = escape(label), escape(message)
    title = escape(f"{label}: {message}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{title}"><title>{title}</title>'
        f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        f'<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="{LABEL_COLOUR}"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        f'font-size="11">'
        f'<text x="{left / 2:g}" y="15" fill="#010101" fill-opacity=".3">{lab}</text>'
        f'<text x="{left / 2:g}" y="14">{lab}</text>'
        f'<text x="{left + right / 2:g}" y="15" fill="#010101" fill-opacity=".3">{msg}</text>'
        f'<text x="{left + right / 2:g}" y="14">{msg}</text></g></svg>'
    )


def state_badge(app: str, state: str) -> str:
    return render_badge(app, state, STATE_COLOURS.get(state, STATE_COLOURS["Unknown"]))


def missing_app_badge(app: str) -> str:
    return render_badge(app, "not found", NOT_FOUND_COLOUR)


def state_icon(state: str) -> str:
    """A favicon: a disc in the colour of the fleet's worst state, so a background tab tells."""
    colour = STATE_COLOURS.get(state, STATE_COLOURS["Unknown"])
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><title>{escape(state)}</title>'
            f'<circle cx="8" cy="8" r="7" fill="{colour}"/></svg>')


def unreachable_badge(app: str) -> str:
    """The app exists on another shard, which did not answer: its state is not known here."""
    return render_badge(app, "unknown", STATE_COLOURS["Unknown"])
