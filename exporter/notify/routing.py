"""Which channels hear about an app: the app's own list, else every route that matches it.

A route matches when each of its selectors matches (globs on the app name and project, and on the
value of each named label); an empty selector matches everything. Channels are deduplicated and
keep the order in which routes name them.
"""

from __future__ import annotations

import fnmatch

from exporter.config_types import AppConfig, NotificationsConfig, RouteConfig


def route_matches(route: RouteConfig, app: AppConfig) -> bool:
    if route.apps and not any(fnmatch.fnmatchcase(app.name, p) for p in route.apps):
        return False
    if route.projects and not any(fnmatch.fnmatchcase(app.project, p) for p in route.projects):
        return False
    return all(k in app.labels and fnmatch.fnmatchcase(app.labels[k], v) for k, v in route.labels.items())


def channels_for(config: NotificationsConfig, app: AppConfig) -> list[str]:
    """Channel names for ``app``: ``app.notifications.channels`` when set, else the matching routes'."""
    if app.notifications.channels:
        return list(dict.fromkeys(app.notifications.channels))
    names: list[str] = []
    for route in config.routes:
        if route_matches(route, app):
            names.extend(route.channels)
    return list(dict.fromkeys(names))


def unknown_channels(config: NotificationsConfig) -> list[str]:
    """Config errors: routes or the freeze channel naming channels that are not defined."""
    known = {c.name for c in config.channels}
    errors = [f"notifications.routes[{i}].channels: unknown channel {name!r}"
              for i, r in enumerate(config.routes) for name in r.channels if name not in known]
    if config.freeze_channel and config.freeze_channel not in known:
        errors.append(f"notifications.freezeChannel: unknown channel {config.freeze_channel!r}")
    return errors
