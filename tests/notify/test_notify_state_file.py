"""The notification state file: written atomically, and a damaged one never stops alerting."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from notify_fakes import Recorder, app, slack_hook, status

from exporter.clock import FakeClock
from exporter.model import AppState

MIN = 60.0


async def test_a_damaged_state_file_is_reported_by_name_and_line_and_alerting_goes_on(
        make_notifier, server: Recorder, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    state = tmp_path / "notify.json"
    state.write_text('{"version": 1,\n "alerts": {oops}\n}\n')
    hook = tmp_path / "hook"
    hook.write_text(server.webhook("main"))
    with caplog.at_level(logging.ERROR):
        n = await make_notifier([slack_hook("main", hook)], state_path=str(state))
    assert f"{state}:2: notification state is not valid JSON" in caplog.text
    await n.observe(app(), status("shop", AppState.DEGRADED))
    clock.advance(10 * MIN)
    await n.tick()
    await n.flush()
    assert len(server.to("/services/")) == 1
    assert json.loads(state.read_text())["alerts"]["shop"]["firing"] is True


async def test_the_state_file_is_replaced_whole_and_leaves_no_temporary_files(
        make_notifier, server: Recorder, tmp_path: Path, clock: FakeClock) -> None:
    state_dir = tmp_path / "state"
    hook = tmp_path / "hook"
    hook.write_text(server.webhook("main"))
    n = await make_notifier([slack_hook("main", hook)], state_path=str(state_dir / "notify.json"))
    for i in range(20):
        await n.observe(app(f"app{i}"), status(f"app{i}", AppState.MISSING))
    clock.advance(10 * MIN)
    await n.tick()
    await n.flush()
    assert sorted(p.name for p in state_dir.iterdir()) == ["notify.json"]
    saved = json.loads((state_dir / "notify.json").read_text())
    assert len(saved["alerts"]) == 20 and saved["outbox"] == []
