"""``notifications``: channels, routes, links and the state file."""

from __future__ import annotations

import yaml

from exporter.config.reader import (
    CHANNEL_TYPES,
    Context,
    read_bool,
    read_choice,
    read_duration,
    read_mapping,
    read_sequence,
    read_str,
    read_str_list,
    read_str_map,
    unknown_name,
)
from exporter.config_types import (
    ChannelConfig,
    NotificationsConfig,
    RouteConfig,
)

_CHANNEL_SECRETS = {"webhookUrl": "webhookUrlFile or webhookUrlEnv", "token": "tokenFile or tokenEnv",
                    "url": "urlFile or urlEnv"}

def read_notifications(ctx: Context, node: yaml.Node) -> NotificationsConfig:
    result = NotificationsConfig()
    f = read_mapping(ctx, node, "notifications", ("channels", "routes", "freezeChannel", "statePath", "links",
                                              "muteInMaintenance"))
    if f is None:
        return result
    names: set[str] = set()
    for i, item in enumerate(read_sequence(ctx, f["channels"], "notifications.channels") if "channels" in f else []):
        channel = _channel(ctx, item, f"notifications.channels[{i}]", names)
        if channel is not None:
            names.add(channel.name)
            result.channels.append(channel)
    for i, item in enumerate(read_sequence(ctx, f["routes"], "notifications.routes") if "routes" in f else []):
        route = _route(ctx, item, f"notifications.routes[{i}]", names)
        if route is not None:
            result.routes.append(route)
    if "freezeChannel" in f and (v := read_str(ctx, f["freezeChannel"], "notifications.freezeChannel")) is not None:
        if v not in names:
            ctx.error(f["freezeChannel"], "notifications.freezeChannel", unknown_name("channel", v, names))
        result.freeze_channel = v
    if "statePath" in f and (v := read_str(ctx, f["statePath"], "notifications.statePath")) is not None:
        result.state_path = ctx.path(v)
    if "links" in f:
        result.links = read_str_map(ctx, f["links"], "notifications.links")
    if "muteInMaintenance" in f and (b := read_bool(ctx, f["muteInMaintenance"],
                                                "notifications.muteInMaintenance")) is not None:
        result.mute_in_maintenance = b
    return result


def _channel(ctx: Context, item: yaml.Node, path: str, taken: set[str]) -> ChannelConfig | None:
    """One ``notifications.channels[]`` entry; None when it cannot be used (the errors are kept)."""
    c = read_mapping(ctx, item, path, ("name", "type", "channel", "webhookUrlFile", "webhookUrlEnv", "tokenFile",
                                   "tokenEnv", "urlFile", "urlEnv", "baseUrl", "timeout"),
                 secrets=_CHANNEL_SECRETS, required=("name", "type"))
    if c is None or "name" not in c or "type" not in c:
        return None
    name = read_str(ctx, c["name"], f"{path}.name")
    ctype = read_choice(ctx, c["type"], f"{path}.type", CHANNEL_TYPES)
    if name is None or ctype is None:
        return None
    if name in taken:
        ctx.error(c["name"], f"{path}.name", f"duplicate channel name '{name}'")
        return None
    channel = ChannelConfig(name=name, type=ctype)
    for key, attr in (("channel", "channel"), ("webhookUrlEnv", "webhook_url_env"), ("tokenEnv", "token_env"),
                      ("urlEnv", "url_env"), ("baseUrl", "base_url")):
        if key in c:
            setattr(channel, attr, read_str(ctx, c[key], f"{path}.{key}"))
    for key, attr in (("webhookUrlFile", "webhook_url_file"), ("tokenFile", "token_file"),
                      ("urlFile", "url_file")):
        if key in c and (v := read_str(ctx, c[key], f"{path}.{key}")) is not None:
            setattr(channel, attr, ctx.path(v))
    if "timeout" in c and (d := read_duration(ctx, c["timeout"], f"{path}.timeout", positive=True)) is not None:
        channel.timeout = d
    if ctype == "slack":
        webhook = channel.webhook_url_file or channel.webhook_url_env
        token = channel.token_file or channel.token_env
        if bool(webhook) == bool(token):
            ctx.error(item, path, "a slack channel needs either webhookUrlFile/webhookUrlEnv "
                                  "or tokenFile/tokenEnv with channel")
        elif token and not channel.channel:
            ctx.error(item, f"{path}.channel", "is required with tokenFile/tokenEnv")
    elif not (channel.url_file or channel.url_env):
        ctx.error(item, path, "an apprise channel needs urlFile or urlEnv")
    return channel


def _route(ctx: Context, item: yaml.Node, path: str, channels: set[str]) -> RouteConfig | None:
    """One ``notifications.routes[]`` entry, its channels checked against those defined."""
    r = read_mapping(ctx, item, path, ("channels", "apps", "projects", "labels"), required=("channels",))
    if r is None or "channels" not in r:
        return None
    route = RouteConfig(channels=read_str_list(ctx, r["channels"], f"{path}.channels"))
    for j, name in enumerate(route.channels):
        if name not in channels:
            ctx.error(r["channels"], f"{path}.channels[{j}]", unknown_name("channel", name, channels))
    for key in ("apps", "projects"):
        if key in r:
            setattr(route, key, read_str_list(ctx, r[key], f"{path}.{key}"))
    if "labels" in r:
        route.labels = read_str_map(ctx, r["labels"], f"{path}.labels")
    return route
