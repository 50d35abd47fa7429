"""The combined state: worst first, with Argo CD's raw dimensions kept alongside."""

from __future__ import annotations

from exporter.model import (
    AppState,
    AppStatus,
    FieldDiff,
    Health,
    HealthResult,
    ObjectDiff,
    ObjectKey,
    ObjectStatus,
    Sync,
)
from exporter.status import app_health, clocks, combine


def obj(name: str, health: Health | None = Health.HEALTHY, *, exists: bool = True, sync: Sync = Sync.SYNCED,
        prune: bool = False, excluded: bool = False, message: str = "", paths: tuple[str, ...] = ()) -> ObjectStatus:
    diff = ObjectDiff(sync, [FieldDiff(p, "a", "b") for p in paths]) if paths else None
    return ObjectStatus(ObjectKey("apps", "Deployment", "ns", name), "apps/v1", exists=exists, sync=sync,
                        health=HealthResult(health, message) if health else None, diff=diff,
                        requires_pruning=prune, health_excluded=excluded)


def test_all_synced_and_healthy_is_healthy():
    v = combine([obj("a"), obj("b")])
    assert (v.state, v.sync, v.health, v.reason) == (AppState.HEALTHY, Sync.SYNCED, Health.HEALTHY, "")


def test_evaluation_error_is_unknown_with_the_error_as_reason():
    v = combine([], "git fetch of file:///nope failed: not a repository")
    assert (v.state, v.sync, v.health) == (AppState.UNKNOWN, Sync.UNKNOWN, Health.UNKNOWN)
    assert "not a repository" in v.reason


def test_degraded_beats_missing_and_drift():
    v = combine([obj("gone", exists=False, health=Health.MISSING), obj("drift", sync=Sync.OUT_OF_SYNC, paths=("/x",)),
                 obj("bad", Health.DEGRADED, message="CrashLoopBackOff")])
    assert v.state is AppState.DEGRADED
    assert "bad" in v.reason and "CrashLoopBackOff" in v.reason


def test_missing_beats_out_of_sync_and_names_the_absent_object():
    v = combine([obj("gone", exists=False, health=Health.MISSING), obj("drift", sync=Sync.OUT_OF_SYNC)])
    assert v.state is AppState.MISSING
    assert "gone" in v.reason


def test_one_absent_object_makes_the_state_missing_but_not_the_health():
    v = combine([obj("here"), obj("gone", exists=False, health=Health.MISSING)])
    assert v.state is AppState.MISSING
    assert v.health is Health.HEALTHY  # Argo CD 3.4+: Missing health only when nothing exists
    assert v.sync is Sync.OUT_OF_SYNC


def test_health_is_missing_when_no_object_exists():
    assert app_health([obj("a", exists=False), obj("b", exists=False)]) is Health.MISSING


def test_out_of_sync_beats_progressing_and_lists_the_fields():
    v = combine([obj("rolling", Health.PROGRESSING), obj("cm", sync=Sync.OUT_OF_SYNC, paths=("/data/TIMEOUT",))])
    assert v.state is AppState.OUT_OF_SYNC
    assert "/data/TIMEOUT" in v.reason


def test_requires_pruning_is_out_of_sync():
    v = combine([obj("a"), obj("leftover", prune=True, sync=Sync.OUT_OF_SYNC)])
    assert v.state is AppState.OUT_OF_SYNC and v.sync is Sync.OUT_OF_SYNC
    assert "requires pruning" in v.reason


def test_progressing_beats_suspended():
    assert combine([obj("a", Health.SUSPENDED), obj("b", Health.PROGRESSING)]).state is AppState.PROGRESSING


def test_suspended_when_paused_and_otherwise_fine():
    v = combine([obj("a"), obj("cron", Health.SUSPENDED)])
    assert v.state is AppState.SUSPENDED and v.health is Health.SUSPENDED


def test_excluded_objects_do_not_count_for_health():
    assert combine([obj("a"), obj("child", Health.DEGRADED, excluded=True)]).state is AppState.HEALTHY


def test_objects_without_a_health_check_do_not_count():
    assert combine([obj("cm", None), obj("a", Health.PROGRESSING)]).health is Health.PROGRESSING


def test_unknown_object_health_makes_the_app_unknown():
    v = combine([obj("a"), obj("crd", Health.UNKNOWN, message="script error")])
    assert v.state is AppState.UNKNOWN and "script error" in v.reason


def status(state: AppState, since: float, bad_since: float | None) -> AppStatus:
    return AppStatus("app", state, Sync.SYNCED, Health.HEALTHY, "", since=since, bad_since=bad_since)


def test_bad_since_starts_when_the_app_leaves_the_good_set():
    assert clocks(status(AppState.HEALTHY, 100, None), AppState.PROGRESSING, 200) == (200, 200)


def test_moving_between_bad_states_keeps_bad_since_but_moves_since():
    assert clocks(status(AppState.PROGRESSING, 200, 200), AppState.DEGRADED, 300) == (300, 200)


def test_coming_back_good_clears_bad_since():
    assert clocks(status(AppState.DEGRADED, 300, 200), AppState.HEALTHY, 400) == (400, None)


def test_suspended_is_good_by_default():
    assert clocks(status(AppState.HEALTHY, 100, None), AppState.SUSPENDED, 200) == (200, None)
