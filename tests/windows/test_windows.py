"""Sync windows: when they are open, which apps they cover, and when an app is frozen."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from exporter.clock import FakeClock
from exporter.config_types import AppConfig, Destination, SourceConfig, SyncWindowConfig
from exporter.metrics import REGISTRY
from exporter.windows import WindowError, WindowSchedule

HOUR = 3600.0


def at(text: str, zone: str = "UTC") -> float:
    """Unix time of a wall-clock time in a zone: ``at("2026-03-29 01:30", "Europe/Berlin")``."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def app(name: str = "shop", *, namespace: str = "shop", cluster: str = "prod-eu",
        labels: dict[str, str] | None = None) -> AppConfig:
    return AppConfig(name=name, source=SourceConfig(repo_url="file:///git/shop"),
                     destination=Destination(cluster=cluster, namespace=namespace), labels=labels or {})


def schedule(*windows: SyncWindowConfig) -> WindowSchedule:
    return WindowSchedule(list(windows), FakeClock())


def test_a_window_crossing_midnight_in_another_time_zone() -> None:
    nightly = SyncWindowConfig(kind="deny", schedule="0 22 * * *", duration=4 * HOUR,
                               time_zone="America/New_York", applications=["*"])
    s = schedule(nightly)
    assert not s.is_frozen(app(), at("2026-06-10 21:59", "America/New_York"))
    assert s.is_frozen(app(), at("2026-06-10 22:00", "America/New_York"))
    assert s.is_frozen(app(), at("2026-06-11 01:59", "America/New_York"))  # after midnight, same window
    assert not s.is_frozen(app(), at("2026-06-11 02:00", "America/New_York"))
    # The same instants read in UTC: 02:00-06:00, not 22:00-02:00.
    assert s.is_frozen(app(), at("2026-06-11 05:30"))
    assert not s.is_frozen(app(), at("2026-06-10 23:00"))


def test_a_daily_window_keeps_its_local_time_across_the_spring_daylight_saving_change() -> None:
    morning = SyncWindowConfig(kind="deny", schedule="0 9 * * *", duration=HOUR, time_zone="Europe/Berlin",
                               applications=["*"])
    s = schedule(morning)
    # 09:00 Berlin is 08:00 UTC in winter (CET) ...
    assert s.is_frozen(app(), at("2026-03-28 08:30"))
    assert not s.is_frozen(app(), at("2026-03-28 07:30"))
    # ... and 07:00 UTC from the last Sunday of March (CEST), including that Sunday itself.
    assert s.is_frozen(app(), at("2026-03-29 07:30"))
    assert not s.is_frozen(app(), at("2026-03-29 08:30"))
    assert s.is_frozen(app(), at("2026-03-30 07:30"))


def test_duration_is_elapsed_time_when_clocks_spring_forward_inside_the_window() -> None:
    # 01:00 CET on 2026-03-29 is 00:00 UTC; three real hours later is 03:00 UTC = 05:00 CEST.
    night = SyncWindowConfig(kind="deny", schedule="0 1 * * *", duration=3 * HOUR, time_zone="Europe/Berlin",
                             applications=["*"])
    s = schedule(night)
    assert s.is_frozen(app(), at("2026-03-29 04:59", "Europe/Berlin"))
    assert not s.is_frozen(app(), at("2026-03-29 05:00", "Europe/Berlin"))


def test_a_start_time_skipped_by_the_spring_change_opens_the_window_after_the_gap() -> None:
    # 02:30 does not exist in Berlin on 2026-03-29 (02:00 CET jumps to 03:00 CEST).
    window = SyncWindowConfig(kind="deny", schedule="30 2 * * *", duration=HOUR, time_zone="Europe/Berlin",
                              applications=["*"])
    s = schedule(window)
    assert not s.is_frozen(app(), at("2026-03-29 01:59", "Europe/Berlin"))
    assert s.is_frozen(app(), at("2026-03-29 03:00", "Europe/Berlin"))
    assert s.is_frozen(app(), at("2026-03-29 03:59", "Europe/Berlin"))
    assert not s.is_frozen(app(), at("2026-03-29 04:00", "Europe/Berlin"))


def test_autumn_change_the_repeated_hour_is_inside_the_window_once() -> None:
    # On 2026-10-25 Berlin goes from 03:00 CEST back to 02:00 CET; 02:30 happens twice.
    window = SyncWindowConfig(kind="deny", schedule="30 2 * * *", duration=HOUR, time_zone="Europe/Berlin",
                              applications=["*"])
    s = schedule(window)
    assert s.is_frozen(app(), at("2026-10-25 00:45"))  # 02:45 CEST, first pass
    assert not s.is_frozen(app(), at("2026-10-25 01:45"))  # 02:45 CET, second pass: the window already ran
    # Next day, 02:30 CET is 01:30 UTC.
    assert s.is_frozen(app(), at("2026-10-26 01:45"))
    assert not s.is_frozen(app(), at("2026-10-26 00:45"))


def test_deny_wins_over_allow() -> None:
    allow = SyncWindowConfig(kind="allow", schedule="0 8 * * 1-5", duration=10 * HOUR, applications=["*"])
    deny = SyncWindowConfig(kind="deny", schedule="0 12 * * *", duration=HOUR, applications=["shop"])
    s = schedule(allow, deny)
    tuesday_noon = at("2026-06-09 12:30")
    assert [active for _, active in s.active_windows(tuesday_noon)] == [True, True]
    assert s.is_frozen(app("shop"), tuesday_noon)
    assert not s.is_frozen(app("blog"), tuesday_noon)


def test_an_app_with_allow_windows_is_frozen_outside_them() -> None:
    office_hours = SyncWindowConfig(kind="allow", schedule="0 8 * * 1-5", duration=10 * HOUR,
                                    namespaces=["shop*"])
    s = schedule(office_hours)
    assert not s.is_frozen(app(namespace="shop"), at("2026-06-09 09:00"))  # Tuesday
    assert s.is_frozen(app(namespace="shop"), at("2026-06-09 19:00"))
    assert s.is_frozen(app(namespace="shop"), at("2026-06-13 09:00"))  # Saturday
    assert not s.is_frozen(app(namespace="blog"), at("2026-06-13 09:00"))  # not covered: never frozen


def test_windows_cover_apps_by_name_namespace_cluster_or_labels() -> None:
    by_cluster = SyncWindowConfig(kind="deny", schedule="* * * * *", duration=120, clusters=["prod-*"])
    by_label = SyncWindowConfig(kind="deny", schedule="* * * * *", duration=120, labels={"tier": "front*"})
    no_selector = SyncWindowConfig(kind="deny", schedule="* * * * *", duration=120)
    now = at("2026-06-09 09:00")
    assert schedule(by_cluster).is_frozen(app(cluster="prod-us"), now)
    assert not schedule(by_cluster).is_frozen(app(cluster="staging"), now)
    assert schedule(by_label).is_frozen(app(labels={"tier": "frontend"}), now)
    assert not schedule(by_label).is_frozen(app(labels={"tier": "backend"}), now)
    assert not schedule(no_selector).is_frozen(app(), now)  # as in Argo CD, no selector covers nothing


def test_maintenance_is_an_active_allow_window_marked_for_it() -> None:
    maint = SyncWindowConfig(kind="allow", schedule="0 2 * * 0", duration=2 * HOUR, applications=["shop"],
                             maintenance=True)
    s = schedule(maint)
    assert s.in_maintenance(app(), at("2026-06-14 03:00"))  # Sunday
    assert not s.in_maintenance(app(), at("2026-06-14 05:00"))
    assert not s.in_maintenance(app("blog"), at("2026-06-14 03:00"))


def test_update_metrics_exports_each_window_as_active_or_not() -> None:
    s = schedule(SyncWindowConfig(kind="deny", schedule="0 22 * * *", duration=HOUR, name="nightly",
                                  applications=["*"]),
                 SyncWindowConfig(kind="allow", schedule="0 8 * * *", duration=HOUR, applications=["*"]))
    s.update_metrics(at("2026-06-09 22:15"))
    assert REGISTRY.get_sample_value("gitops_sync_window_active", {"window": "nightly", "kind": "deny"}) == 1
    assert REGISTRY.get_sample_value("gitops_sync_window_active", {"window": "allow-1", "kind": "allow"}) == 0
    s.update_metrics(at("2026-06-09 23:15"))
    assert REGISTRY.get_sample_value("gitops_sync_window_active", {"window": "nightly", "kind": "deny"}) == 0


def test_the_schedule_uses_its_clock_when_no_time_is_given() -> None:
    clock = FakeClock(at("2026-06-09 22:15"))
    s = WindowSchedule([SyncWindowConfig(kind="deny", schedule="0 22 * * *", duration=HOUR, applications=["*"])],
                       clock)
    assert s.is_frozen(app())
    clock.advance(HOUR)
    assert not s.is_frozen(app())


@pytest.mark.parametrize(("window", "message"), [
    (SyncWindowConfig(kind="deny", schedule="0 25 * * *", duration=HOUR, name="bad-cron"),
     r"windows\[0\] \(bad-cron\): schedule '0 25 \* \* \*' is not a five-field cron expression"),
    (SyncWindowConfig(kind="deny", schedule="0 2 * * *", duration=HOUR, time_zone="Mars/Olympus"),
     r"windows\[0\]: timeZone 'Mars/Olympus' is not a known IANA time zone"),
    (SyncWindowConfig(kind="deny", schedule="0 2 * * *", duration=0),
     r"windows\[0\]: duration must be positive"),
    (SyncWindowConfig(kind="block", schedule="0 2 * * *", duration=HOUR),  # type: ignore[arg-type]
     r"windows\[0\]: kind must be 'allow' or 'deny', not 'block'"),
])
def test_a_bad_window_is_a_clear_error_naming_it(window: SyncWindowConfig, message: str) -> None:
    with pytest.raises(WindowError, match=message):
        WindowSchedule([window])
