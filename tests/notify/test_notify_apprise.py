"""Teams (apprise ``workflows://``) and other apprise services (``json://``), against a local server.

apprise's Workflows plugin always calls ``https://HOST[:PORT]/workflows/<id>/triggers/manual/paths/
invoke?...&sig=<signature>``; the short form ``workflows://HOST:PORT/<id>/<signature>/`` with
``verify=no`` points it at the local HTTPS server with its self-signed certificate, so the real
plugin builds and posts the Adaptive Card.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from notify_fakes import Recorder, app, sent, status

from exporter.clock import FakeClock
from exporter.config_types import ChannelConfig
from exporter.model import AppState
from exporter.notify import NotifyError

WORKFLOW, SIGNATURE = "a1b2c3d4e5f60718293a4b5c6d7e8f90", "S3cr3tSignatur3Value_abcdef"
MIN = 60.0

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


@pytest.fixture
def teams(server: Recorder, monkeypatch: pytest.MonkeyPatch) -> ChannelConfig:
    monkeypatch.setenv("TEAMS_URL",
                       f"workflows://127.0.0.1:{server.tls_port}/{WORKFLOW}/{SIGNATURE}/?verify=no&image=no")
    return ChannelConfig(name="teams", type="apprise", url_env="TEAMS_URL")


@pytest.fixture
def json_hook(server: Recorder, tmp_path: Path) -> ChannelConfig:
    f = tmp_path / "apprise-url"
    f.write_text(f"json://127.0.0.1:{server.port}/hook/ops")
    return ChannelConfig(name="hook", type="apprise", url_file=str(f))


def card_texts(server: Recorder) -> list[str]:
    return [" ".join(b["text"] for b in r.json["attachments"][0]["content"]["body"] if b["type"] == "TextBlock")
            for r in server.to(f"/workflows/{WORKFLOW}/")]


async def test_teams_workflows_gets_an_adaptive_card_when_firing_and_resolved(
        make_notifier, server: Recorder, teams: ChannelConfig, clock: FakeClock) -> None:
    n = await make_notifier([teams])
    await n.observe(app(), status("shop", AppState.DEGRADED, reason="CrashLoopBackOff in pod web-1"))
    clock.advance(10 * MIN)
    await n.tick()
    clock.advance(5 * MIN)
    await n.observe(app(), status("shop", AppState.HEALTHY))
    await n.flush()
    requests = server.to(f"/workflows/{WORKFLOW}/triggers/manual/paths/invoke")
    assert len(requests) == 2
    assert requests[0].json["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    firing, resolved = card_texts(server)
    assert "shop is Degraded for 10m" in firing and "CrashLoopBackOff in pod web-1" in firing
    assert "shop recovered: Healthy after 15m" in resolved
    assert sent({"channel": "teams", "event": "resolved", "result": "success"}) >= 1


async def test_teams_failure_is_retried_then_delivered_once(make_notifier, server: Recorder, teams: ChannelConfig,
                                                            clock: FakeClock, sleeper) -> None:
    server.fail("/workflows/", 502)
    n = await make_notifier([teams])
    await n.observe(app(), status("shop", AppState.MISSING))
    clock.advance(10 * MIN)
    await n.tick()
    await n.flush()
    assert [r.answered for r in server.to("/workflows/", ok_only=False)] == [502, 200]
    assert sleeper.waits == [1.0, 4.5]  # backoff, then the rest of the 5.5s Teams pace
    assert len(card_texts(server)) == 1


async def test_teams_messages_keep_apprises_pace_without_blocking_a_thread(
        make_notifier, server: Recorder, teams: ChannelConfig, clock: FakeClock, sleeper) -> None:
    n = await make_notifier([teams])
    for name in ("a", "b", "c"):
        await n.observe(app(name), status(name, AppState.DEGRADED))
    clock.advance(10 * MIN)
    await n.tick()
    await n.flush()
    assert len(card_texts(server)) == 3
    assert sleeper.waits == [5.5, 5.5]


async def test_any_other_apprise_url_works_the_same_way(make_notifier, server: Recorder, json_hook: ChannelConfig,
                                                        clock: FakeClock) -> None:
    n = await make_notifier([json_hook])
    await n.observe(app(), status("shop", AppState.UNKNOWN, reason="git fetch failed: repository not found"))
    clock.advance(10 * MIN)
    await n.tick()
    await n.flush()
    [req] = server.to("/hook/ops")
    assert req.json["title"] == "shop is Unknown for 10m"
    assert "git fetch failed: repository not found" in req.json["message"]
    assert req.json["type"] == "failure"


async def test_send_test_through_apprise(make_notifier, server: Recorder, teams: ChannelConfig) -> None:
    n = await make_notifier([teams])
    await n.send_test("teams")
    [text] = card_texts(server)
    assert "Test notification" in text


async def test_the_teams_signature_never_appears_in_logs(make_notifier, server: Recorder, teams: ChannelConfig,
                                                         clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.fail("/workflows/", 500)
    n = await make_notifier([teams])
    await n.send_test("teams")
    assert any(r.name == "apprise" for r in caplog.records)  # apprise did log about the request ...
    assert SIGNATURE not in caplog.text and WORKFLOW not in caplog.text  # ... without the credential


async def test_an_invalid_apprise_url_is_a_clear_error(make_notifier, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAD_URL", "workflows://host-only")
    with pytest.raises(NotifyError, match=r"notifications.channels\[teams\]: the apprise URL \(scheme workflows://\)"
                                          " is not valid") as err:
        await make_notifier([ChannelConfig(name="teams", type="apprise", url_env="BAD_URL")])
    assert "host-only" not in str(err.value)
