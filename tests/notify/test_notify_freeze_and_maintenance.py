"""Freeze violations go out at once; maintenance windows mute alerts; message wording details."""

from __future__ import annotations

from pathlib import Path

import pytest
from notify_fakes import Recorder, app, slack_hook, status

from exporter.clock import FakeClock
from exporter.config_types import NotificationsConfig, RouteConfig, SyncWindowConfig
from exporter.model import AppState, ObjectKey
from exporter.notify import Notifier, NotifyError
from exporter.notify.message import human_duration
from exporter.windows import FreezeLog, WindowSchedule

MIN = 60.0


@pytest.fixture
def hooks(tmp_path: Path, server: Recorder) -> dict[str, Path]:
    files = {}
    for name in ("alerts", "freezes"):
        files[name] = tmp_path / name
        files[name].write_text(server.webhook(name))
    return files


async def test_a_freeze_violation_goes_to_the_freeze_channel_at_once(make_notifier, server: Recorder,
                                                                     hooks: dict[str, Path], clock: FakeClock) -> None:
    n = await make_notifier([slack_hook(name, f) for name, f in hooks.items()], freeze_channel="freezes",
                            links={"Commit": "{repo}/commit/{revision}"})
    await n.observe(app(), status("shop", AppState.HEALTHY))
    log = FreezeLog(None, clock)
    await n.notify_freeze(log.record_git("shop", "4f2a9c1e7b3d5a6f", "9e8d7c6b5a4f3e2d"))
    await n.notify_freeze(log.record_live("shop", ObjectKey("apps", "Deployment", "shop", "web"), "DELETED",
                                          {"kind": "Deployment"}, None))  # type: ignore[arg-type]
    await n.flush()
    assert server.to("/services/T0000/Balerts/") == []
    merge, delete = (r.json for r in server.to("/services/T0000/Bfreezes/"))
    assert merge["blocks"][0]["text"]["text"] == ":snowflake: Change during a freeze: shop"
    assert "revision 4f2a9c1e7b3d -> 9e8d7c6b5a4f" in str(merge)
    assert "https://git.example.com/team/shop/commit/9e8d7c6b5a4f3e2d" in str(merge)
    assert "apps/Deployment shop/web: deleted from the cluster" in str(delete)


async def test_alerts_are_muted_in_a_maintenance_window_and_fire_after_it(
        server: Recorder, hooks: dict[str, Path], clock: FakeClock, sleeper) -> None:
    start = clock.now()  # 2026-01-01 00:00 UTC, a Thursday
    windows = WindowSchedule([SyncWindowConfig(kind="allow", schedule="0 0 * * 4", duration=30 * MIN,
                                               applications=["shop"], maintenance=True)], clock)
    n = Notifier(NotificationsConfig(channels=[slack_hook("alerts", hooks["alerts"])], mute_in_maintenance=True,
                                     routes=[RouteConfig(channels=["alerts"])]), clock, sleep=sleeper,
                 windows=windows)
    await n.start()
    try:
        await n.observe(app(), status("shop", AppState.DEGRADED))
        clock.advance(20 * MIN)
        await n.tick()
        await n.flush()
        assert server.to("/services/") == []  # bad for 20m, but inside maintenance
        clock.advance(10 * MIN)
        await n.tick()
        await n.flush()
        [firing] = server.to("/services/")
        assert firing.json["blocks"][0]["text"]["text"].endswith("shop is Degraded for 30m")
        assert clock.now() - start == 30 * MIN
    finally:
        await n.close()


def test_an_unknown_link_placeholder_is_a_clear_error() -> None:
    with pytest.raises(NotifyError, match=r"notifications.links.Grafana: unknown placeholder \{dashboard\}"):
        Notifier(NotificationsConfig(links={"Grafana": "https://grafana/d/{dashboard}?var-app={app}"}))


@pytest.mark.parametrize(("seconds", "text"), [
    (42, "42s"), (60, "1m"), (12 * 60 + 59, "12m"), (3600, "1h"), (3900, "1h 5m"), (86400, "1d"),
    (2 * 86400 + 3 * 3600 + 59, "2d 3h")])
def test_durations_read_like_a_human_wrote_them(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text
