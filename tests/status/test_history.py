"""Each app's state history and clocks: recorded on change, bounded, kept in a file across restarts."""

from __future__ import annotations

import json
import logging

from exporter.history import HistoryBook, Transition, time_in_state
from exporter.model import AppState, AppStatus, Health, Sync
from exporter.status import DEFAULT_GOOD_STATES, clocks


def status(state: AppState, since: float, bad_since: float | None = None, revision: str = "abc",
           reason: str = "", name: str = "web") -> AppStatus:
    return AppStatus(name=name, state=state, sync=Sync.SYNCED, health=Health.HEALTHY, reason=reason,
                     revision=revision, since=since, bad_since=bad_since)


def test_a_change_of_state_is_recorded_with_time_previous_state_revision_and_reason():
    book = HistoryBook(None)
    assert book.observe(status(AppState.HEALTHY, 100)) == Transition(100, None, "Healthy", "abc", "")
    assert book.observe(status(AppState.HEALTHY, 100)) is None  # same state: nothing new
    change = book.observe(status(AppState.DEGRADED, 160, 160, "def", "Deployment web: crash looping"))
    assert change == Transition(160, "Healthy", "Degraded", "def", "Deployment web: crash looping")
    assert book.entries("web") == [Transition(100, None, "Healthy", "abc", ""), change]
    assert book.changes("web") == {("Healthy", "Degraded"): 1}


def test_history_is_bounded_per_app_and_counts_changes_past_what_it_keeps():
    book = HistoryBook(None, max_entries=5)
    for i in range(12):
        book.observe(status(AppState.DEGRADED if i % 2 else AppState.PROGRESSING, i * 10.0, 0.0))
    assert [e.at for e in book.entries("web")] == [70, 80, 90, 100, 110]
    assert book.changes("web") == {("Progressing", "Degraded"): 6, ("Degraded", "Progressing"): 5}


def test_time_in_state_adds_up_the_window_and_ignores_time_before_it():
    entries = [Transition(0, None, "Healthy", "a", ""), Transition(600, "Healthy", "Degraded", "b", ""),
               Transition(900, "Degraded", "Healthy", "b", "")]
    assert time_in_state(entries, 300, 1200) == {"Healthy": 600, "Degraded": 300}
    assert time_in_state(entries, 700, 800) == {"Degraded": 100}


def test_after_a_restart_the_clocks_continue_while_the_state_holds():
    book = HistoryBook(None)
    book.observe(status(AppState.DEGRADED, 1000, 700))
    last = book.last_seen("web")
    assert clocks(last, AppState.DEGRADED, 5000, DEFAULT_GOOD_STATES) == (1000, 700)
    # still bad, another state: the state's clock starts now, the incident's clock goes on
    assert clocks(last, AppState.PROGRESSING, 5000, DEFAULT_GOOD_STATES) == (5000, 700)
    assert clocks(last, AppState.HEALTHY, 5000, DEFAULT_GOOD_STATES) == (5000, None)
    assert book.last_seen("api") is None


async def test_the_book_survives_a_restart_through_its_file(tmp_path):
    path = tmp_path / "state" / "app-state.json"
    book = HistoryBook(str(path))
    book.observe(status(AppState.HEALTHY, 100))
    book.observe(status(AppState.OUT_OF_SYNC, 200, 200, reason="ConfigMap settings: data.mode"))
    await book.save()
    again = HistoryBook(str(path))
    await again.load()
    assert again.entries("web") == book.entries("web")
    assert again.changes("web") == {("Healthy", "OutOfSync"): 1}
    assert again.last_seen("web").bad_since == 200
    assert [p.name for p in path.parent.iterdir()] == ["app-state.json"]  # no temporary file left


async def test_a_damaged_file_starts_empty_with_a_warning_naming_it(tmp_path, caplog):
    path = tmp_path / "app-state.json"
    path.write_text('{"version": 1, "apps": {')
    book = HistoryBook(str(path))
    with caplog.at_level(logging.WARNING):
        await book.load()
    assert book.apps == {}
    assert f"{path}:1: app state is not valid JSON" in caplog.text and "starting with no history" in caplog.text


async def test_a_file_from_another_version_starts_empty_with_a_warning(tmp_path, caplog):
    path = tmp_path / "app-state.json"
    path.write_text(json.dumps({"version": 99, "apps": {}}))
    book = HistoryBook(str(path))
    with caplog.at_level(logging.WARNING):
        await book.load()
    assert "unsupported version 99" in caplog.text


async def test_apps_no_longer_configured_are_dropped_from_the_file(tmp_path):
    path = tmp_path / "app-state.json"
    book = HistoryBook(str(path))
    for name in ("web", "api"):
        book.observe(status(AppState.HEALTHY, 1, name=name))
    book.keep_only(["api"])
    await book.save()
    assert list(json.loads(path.read_text())["apps"]) == ["api"]


def test_an_app_with_no_history_has_no_time_in_any_state():
    assert time_in_state([], 0, 100) == {}
