"""``healthChecks[]`` and ``windows[]``: user health checks and sync windows (their code and
schedules are judged by the stages that run them, through the wiring's content checks)."""

from __future__ import annotations

import zoneinfo
from typing import Any

import yaml

from exporter.config.reader import (
    WINDOW_KINDS,
    Context,
    node_kind,
    read_bool,
    read_choice,
    read_data,
    read_duration,
    read_mapping,
    read_sequence,
    read_str,
    read_str_list,
    read_str_map,
)
from exporter.config_types import (
    HealthCheckConfig,
    SyncWindowConfig,
)


def read_health_checks(ctx: Context, node: yaml.Node) -> list[HealthCheckConfig]:
    out: list[HealthCheckConfig] = []
    for i, item in enumerate(read_sequence(ctx, node, "healthChecks")):
        path = f"healthChecks[{i}]"
        f = read_mapping(ctx, item, path, ("group", "kind", "lua", "cel", "rules"), required=("kind",))
        if f is None or "kind" not in f:
            continue
        kind = read_str(ctx, f["kind"], f"{path}.kind")
        group = read_str(ctx, f["group"], f"{path}.group") if "group" in f else ""
        check = HealthCheckConfig(group=group or "", kind=kind or "", origin=ctx.loc(item))
        given = [key for key in ("lua", "cel", "rules") if key in f]
        if len(given) != 1:
            ctx.error(item, path, "needs exactly one of lua, cel, rules" +
                      (f", not {' and '.join(given)}" if given else ""))
        if "lua" in f:
            check.lua = read_str(ctx, f["lua"], f"{path}.lua")
        if "cel" in f:
            cel: list[dict[str, Any]] = []
            for j, rule in enumerate(read_sequence(ctx, f["cel"], f"{path}.cel")):
                r = read_mapping(ctx, rule, f"{path}.cel[{j}]", ("when", "status", "message"),
                             required=("when", "status"))
                if r is not None and "when" in r and "status" in r:
                    entry = {"when": read_str(ctx, r["when"], f"{path}.cel[{j}].when"),
                             "status": read_str(ctx, r["status"], f"{path}.cel[{j}].status",
                                            ("Healthy", "Progressing", "Degraded", "Suspended", "Missing",
                                             "Unknown"))}
                    if "message" in r:
                        entry["message"] = read_str(ctx, r["message"], f"{path}.cel[{j}].message")
                    cel.append(entry)
            check.cel = cel
        if "rules" in f:
            rules = read_data(ctx, f["rules"], f"{path}.rules")
            if not isinstance(rules, dict):
                ctx.error(f["rules"], f"{path}.rules", f"must be a mapping, not a {node_kind(f['rules'])}")
            else:
                check.rules = rules
        if kind is not None:
            out.append(check)
    return out

def read_windows(ctx: Context, node: yaml.Node) -> list[SyncWindowConfig]:
    from croniter import croniter

    out: list[SyncWindowConfig] = []
    for i, item in enumerate(read_sequence(ctx, node, "windows")):
        path = f"windows[{i}]"
        f = read_mapping(ctx, item, path, ("name", "kind", "schedule", "duration", "timeZone", "applications",
                                       "namespaces", "clusters", "labels", "maintenance", "manualSync", "projects"),
                     required=("kind", "schedule", "duration"))
        if f is None:
            continue
        kind = read_choice(ctx, f["kind"], f"{path}.kind", WINDOW_KINDS) if "kind" in f else None
        schedule = read_str(ctx, f["schedule"], f"{path}.schedule") if "schedule" in f else None
        if schedule is not None and (len(schedule.split()) != 5 or not croniter.is_valid(schedule)):
            ctx.error(f["schedule"], f"{path}.schedule", f"must be a cron schedule of five fields, not '{schedule}'")
            schedule = None
        duration = read_duration(ctx, f["duration"], f"{path}.duration", positive=True) if "duration" in f else None
        if kind is None or schedule is None or duration is None:
            continue
        window = SyncWindowConfig(kind=kind, schedule=schedule, duration=duration)
        if "name" in f and (v := read_str(ctx, f["name"], f"{path}.name")) is not None:
            window.name = v
        if "timeZone" in f and (tz := read_str(ctx, f["timeZone"], f"{path}.timeZone")) is not None:
            try:
                zoneinfo.ZoneInfo(tz)
                window.time_zone = tz
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                ctx.error(f["timeZone"], f"{path}.timeZone", f"unknown time zone '{tz}'")
        for key in ("applications", "namespaces", "clusters", "projects"):
            if key in f:
                setattr(window, key, read_str_list(ctx, f[key], f"{path}.{key}"))
        if "labels" in f:
            window.labels = read_str_map(ctx, f["labels"], f"{path}.labels")
        if "maintenance" in f and (b := read_bool(ctx, f["maintenance"], f"{path}.maintenance")) is not None:
            window.maintenance = b
        if "manualSync" in f:
            read_bool(ctx, f["manualSync"], f"{path}.manualSync")  # accepted for Argo CD paste-in; no effect
        out.append(window)
    return out
