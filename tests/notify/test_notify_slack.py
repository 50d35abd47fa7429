"""Slack, through the real slack-sdk, against a local server: what arrives, when, and how often."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from notify_fakes import Recorder, Sleeper, app, sent, slack_bot, slack_hook, status

from exporter.clock import FakeClock
from exporter.config_types import ChannelConfig, NotifyPolicy, RouteConfig
from exporter.model import (
    AppState,
    FieldDiff,
    Health,
    HealthResult,
    ObjectDiff,
    ObjectKey,
    ObjectStatus,
    Sync,
)
from exporter.notify import NotifyError

TOKEN = "xoxb-1111-2222-s3cr3tb0tt0k3n"
MIN = 60.0


@pytest.fixture(autouse=True)
def bot_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SLACK_TOKEN", TOKEN)


@pytest.fixture
def hook_file(tmp_path: Path, server: Recorder) -> Path:
    f = tmp_path / "slack-webhook-url"
    f.write_text(server.webhook("main") + "\n")
    return f


def posted(server: Recorder) -> list[dict]:
    return [r.json for r in server.to("/api/chat.postMessage")]


def header(payload: dict) -> str:
    return payload["blocks"][0]["text"]["text"]


async def test_a_blip_shorter_than_the_threshold_sends_nothing(make_notifier, server: Recorder, hook_file: Path,
                                                               clock: FakeClock) -> None:
    n = await make_notifier([slack_hook("main", hook_file)])
    await n.observe(app(), status("shop", AppState.DEGRADED))
    clock.advance(9 * MIN)
    await n.tick()
    await n.observe(app(), status("shop", AppState.HEALTHY))
    clock.advance(60 * MIN)
    await n.tick()
    await n.flush()
    assert server.requests == []


async def test_progressing_then_degraded_is_one_incident_with_one_firing(make_notifier, server: Recorder,
                                                                         hook_file: Path, clock: FakeClock) -> None:
    n = await make_notifier([slack_hook("main", hook_file)])
    await n.observe(app(), status("shop", AppState.PROGRESSING))
    clock.advance(6 * MIN)
    await n.observe(app(), status("shop", AppState.DEGRADED, reason="Deployment web exceeded its progress deadline"))
    clock.advance(4 * MIN)
    await n.tick()
    clock.advance(1 * MIN)
    await n.tick()
    await n.flush()
    hooks = server.to("/services/")
    assert len(hooks) == 1
    body = hooks[0].json
    assert header(body).endswith("shop is Degraded for 10m")
    assert "Deployment web exceeded its progress deadline" in json.dumps(body)
    assert "2026-01-01 00:00 UTC" in json.dumps(body)  # since when: the start of Progressing


async def test_firing_message_names_worst_objects_revision_and_links(make_notifier, server: Recorder,
                                                                     clock: FakeClock) -> None:
    objects = [
        ObjectStatus(ObjectKey("", "ConfigMap", "shop", "cfg"), "v1", True, Sync.SYNCED, HealthResult(Health.HEALTHY)),
        ObjectStatus(ObjectKey("apps", "Deployment", "shop", "web"), "apps/v1", True, Sync.OUT_OF_SYNC,
                     HealthResult(Health.DEGRADED, "Readiness probe failed"),
                     diff=ObjectDiff(Sync.OUT_OF_SYNC, [FieldDiff("/spec/replicas", 3, 1)])),
        ObjectStatus(ObjectKey("", "Service", "shop", "web"), "v1", False, Sync.OUT_OF_SYNC, None),
    ]
    n = await make_notifier([slack_bot(base_url=server.slack_url)], links={
        "Status page": "https://drift.example.com/apps/{app}",
        "Commit": "{repo}/commit/{revision}"})
    await n.observe(app(), status("shop", AppState.DEGRADED, objects=objects))
    clock.advance(10 * MIN)
    await n.tick()
    await n.flush()
    [msg] = posted(server)
    text = json.dumps(msg)
    assert msg["channel"] == "#alerts"
    assert "apps/Deployment shop/web: Degraded: Readiness probe failed; OutOfSync: /spec/replicas" in text
    assert "Service shop/web: Missing from the cluster" in text
    assert "ConfigMap" not in text  # healthy and synced objects are not news
    assert text.index("Deployment shop/web") < text.index("Service shop/web")  # worst first
    buttons = {e["text"]["text"]: e["url"] for b in msg["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert buttons == {
        "Status page": "https://drift.example.com/apps/shop",
        "Commit": "https://git.example.com/team/shop/commit/4f2a9c1e7b3d5a6f8e9d0c1b2a3f4e5d6c7b8a9f"}
    assert "4f2a9c1e7b3d" in text


async def test_resolved_is_threaded_under_firing_and_firing_is_updated_in_place(
        make_notifier, server: Recorder, clock: FakeClock) -> None:
    n = await make_notifier([slack_bot(base_url=server.slack_url)])
    await n.observe(app(), status("shop", AppState.DEGRADED))
    clock.advance(10 * MIN)
    await n.tick()
    clock.advance(32 * MIN)
    await n.observe(app(), status("shop", AppState.HEALTHY))
    await n.flush()
    firing, resolved = posted(server)
    assert "thread_ts" not in firing
    firing_ts = "1767225600.000101"
    assert resolved["thread_ts"] == firing_ts
    assert header(resolved).endswith("shop recovered: Healthy after 42m")
    [update] = [r.json for r in server.to("/api/chat.update")]
    assert (update["channel"], update["ts"]) == ("C0ALERTS", firing_ts)
    assert "Resolved: shop is Degraded for 10m" in header(update)
    assert server.to("/api/")[0].headers["Authorization"] == f"Bearer {TOKEN}"


async def test_repeat_reminds_in_the_thread_every_repeat_interval(make_notifier, server: Recorder,
                                                                  clock: FakeClock) -> None:
    n = await make_notifier([slack_bot(base_url=server.slack_url)])
    await n.observe(app(policy=NotifyPolicy(repeat=4 * 3600)), status("shop", AppState.OUT_OF_SYNC))
    clock.advance(10 * MIN)
    await n.tick()
    for _ in range(5):  # 5 hours in hourly ticks: one reminder at 4h after firing
        clock.advance(60 * MIN)
        await n.tick()
    await n.flush()
    firing, repeat = posted(server)
    assert repeat["thread_ts"] == "1767225600.000101"
    assert header(repeat).endswith("Still bad: shop is OutOfSync for 4h 10m")


async def test_per_state_threshold_fires_degraded_sooner_than_progressing(make_notifier, server: Recorder,
                                                                          hook_file: Path, clock: FakeClock) -> None:
    policy = NotifyPolicy(state_thresholds={"Degraded": 5 * MIN, "Progressing": 20 * MIN})
    n = await make_notifier([slack_hook("main", hook_file)])
    await n.observe(app("web", policy=policy), status("web", AppState.PROGRESSING))
    await n.observe(app("api", policy=policy), status("api", AppState.DEGRADED))
    clock.advance(5 * MIN)
    await n.tick()
    await n.flush()
    assert [header(r.json) for r in server.to("/services/")] == [":red_circle: api is Degraded for 5m"]
    clock.advance(15 * MIN)
    await n.tick()
    await n.flush()
    assert header(server.to("/services/")[-1].json) == ":red_circle: web is Progressing for 20m"


async def test_429_waits_as_told_by_retry_after_then_delivers_once(make_notifier, server: Recorder,
                                                                   sleeper: Sleeper, clock: FakeClock) -> None:
    server.fail("/api/chat.postMessage", 429, headers={"Retry-After": "7"}, body="ratelimited")
    before = sent({"channel": "ops", "event": "firing", "result": "retry"})
    n = await make_notifier([slack_bot(base_url=server.slack_url)])
    await n.observe(app(), status("shop", AppState.DEGRADED))
    clock.advance(10 * MIN)
    await n.tick()
    await n.flush()
    assert [r.answered for r in server.to("/api/chat.postMessage", ok_only=False)] == [429, 200]
    assert 7.0 in sleeper.waits
    assert len(posted(server)) == 1
    assert sent({"channel": "ops", "event": "firing", "result": "retry"}) == before + 1


async def test_a_500_is_retried_with_backoff_and_delivered_once(make_notifier, server: Recorder, hook_file: Path,
                                                                sleeper: Sleeper, clock: FakeClock) -> None:
    server.fail("/services/", 500)
    before = sent({"channel": "main", "event": "firing", "result": "success"})
    n = await make_notifier([slack_hook("main", hook_file)])
    await n.observe(app(), status("shop", AppState.MISSING))
    clock.advance(10 * MIN)
    await n.tick()
    await n.flush()
    assert [r.answered for r in server.to("/services/", ok_only=False)] == [500, 200]
    assert sleeper.waits == [1.0]
    assert sent({"channel": "main", "event": "firing", "result": "success"}) == before + 1
    assert n.pending() == 0


async def test_a_channel_down_longer_than_the_retries_keeps_the_message_until_it_is_back(
        make_notifier, server: Recorder, hook_file: Path, clock: FakeClock) -> None:
    server.fail("/services/", 503, times=5)
    n = await make_notifier([slack_hook("main", hook_file)])
    await n.observe(app(), status("shop", AppState.MISSING))
    clock.advance(10 * MIN)
    await n.tick()
    await n.flush()
    assert server.to("/services/") == [] and n.pending() == 1
    clock.advance(2 * MIN)
    await n.tick()
    await n.flush()
    assert len(server.to("/services/")) == 1 and n.pending() == 0
    await n.tick()
    await n.flush()
    assert len(server.to("/services/")) == 1


async def test_resolved_waits_behind_a_firing_that_is_still_undelivered_and_threads_under_it(
        make_notifier, server: Recorder, clock: FakeClock) -> None:
    server.fail("/api/chat.postMessage", 503, times=5)
    n = await make_notifier([slack_bot(base_url=server.slack_url)])
    await n.observe(app(), status("shop", AppState.DEGRADED))
    clock.advance(10 * MIN)
    await n.tick()
    await n.flush()
    clock.advance(5 * MIN)
    await n.observe(app(), status("shop", AppState.HEALTHY))
    await n.flush()
    firing, resolved = posted(server)
    assert header(firing).endswith("shop is Degraded for 10m")
    assert resolved["thread_ts"] == "1767225600.000101"
    assert n.pending() == 0


async def test_a_restart_between_firing_and_resolved_threads_and_sends_nothing_twice(
        make_notifier, server: Recorder, clock: FakeClock, tmp_path: Path) -> None:
    state = tmp_path / "state" / "notify.json"
    first = await make_notifier([slack_bot(base_url=server.slack_url)], state_path=str(state))
    await first.observe(app(), status("shop", AppState.DEGRADED))
    clock.advance(10 * MIN)
    await first.tick()
    await first.flush()
    await first.close()
    assert json.loads(state.read_text())["alerts"]["shop"]["firing"] is True

    second = await make_notifier([slack_bot(base_url=server.slack_url)], state_path=str(state))
    clock.advance(5 * MIN)
    await second.observe(app(), status("shop", AppState.DEGRADED))
    await second.tick()
    clock.advance(5 * MIN)
    await second.observe(app(), status("shop", AppState.HEALTHY))
    await second.flush()
    firing, resolved = posted(server)
    assert "thread_ts" not in firing and resolved["thread_ts"] == "1767225600.000101"
    assert header(resolved).endswith("recovered: Healthy after 20m")
    assert len(server.to("/api/chat.update")) == 1
    assert json.loads(state.read_text())["alerts"] == {}


async def test_a_message_decided_before_a_restart_is_delivered_after_it(
        make_notifier, server: Recorder, hook_file: Path, clock: FakeClock, tmp_path: Path) -> None:
    state = tmp_path / "notify.json"
    server.fail("/services/", 502, times=5)
    first = await make_notifier([slack_hook("main", hook_file)], state_path=str(state))
    await first.observe(app(), status("shop", AppState.DEGRADED))
    clock.advance(10 * MIN)
    await first.tick()
    await first.flush()
    await first.close()
    assert server.to("/services/") == []

    second = await make_notifier([slack_hook("main", hook_file)], state_path=str(state))
    await second.flush()
    [delivered] = server.to("/services/")
    assert header(delivered.json).endswith("shop is Degraded for 10m")


async def test_secret_values_never_appear_in_any_payload_or_log(make_notifier, server: Recorder, hook_file: Path,
                                                                clock: FakeClock, caplog: pytest.LogCaptureFixture
                                                                ) -> None:
    caplog.set_level(logging.DEBUG)
    secret_obj = ObjectStatus(
        ObjectKey("", "Secret", "shop", "db"), "v1", True, Sync.OUT_OF_SYNC, None,
        diff=ObjectDiff(Sync.OUT_OF_SYNC, [FieldDiff("/data/password", "hunter2-desired", "hunter2-live")],
                        desired_view={"data": {"password": "hunter2-desired"}},
                        live_view={"data": {"password": "hunter2-live"}}))
    n = await make_notifier([slack_hook("main", hook_file), slack_bot(base_url=server.slack_url)])
    await n.observe(app(), status("shop", AppState.OUT_OF_SYNC, objects=[secret_obj]))
    clock.advance(10 * MIN)
    await n.tick()
    await n.observe(app(), status("shop", AppState.HEALTHY))
    await n.flush()
    assert len(server.requests) == 5  # firing and resolved to each channel, plus the update
    everything = "".join(r.text for r in server.requests)
    assert "/data/password" in everything  # the path is named ...
    assert "hunter2" not in everything  # ... its values never are
    assert "s3cr3tW3bh00kT0kenmain" not in everything and TOKEN not in everything
    assert "hunter2" not in caplog.text
    assert "s3cr3tW3bh00kT0kenmain" not in caplog.text and TOKEN not in caplog.text


async def test_routes_send_apps_by_project_and_label(make_notifier, server: Recorder, tmp_path: Path,
                                                     clock: FakeClock) -> None:
    files = {}
    for name in ("payments", "web", "fallback"):
        files[name] = tmp_path / name
        files[name].write_text(server.webhook(name))
    n = await make_notifier([slack_hook(name, f) for name, f in files.items()], routes=[
        RouteConfig(channels=["payments"], projects=["pay*"]),
        RouteConfig(channels=["web"], labels={"team": "web-*"}),
        RouteConfig(channels=["fallback"], apps=["legacy-*"]),
    ])
    apps = [app("checkout", project="payments"), app("frontend", labels={"team": "web-core"}),
            app("storefront", project="payments", labels={"team": "web-shop"}), app("batch"),
            app("explicit", policy=NotifyPolicy(channels=["fallback"]), project="payments")]
    for a in apps:
        await n.observe(a, status(a.name, AppState.DEGRADED))
    clock.advance(10 * MIN)
    await n.tick()
    await n.flush()
    by_channel = {name: sorted(header(r.json).split()[1] for r in server.to(f"/services/T0000/B{name}/"))
                  for name in files}
    assert by_channel == {"payments": ["checkout", "storefront"], "web": ["frontend", "storefront"],
                          "fallback": ["explicit"]}


async def test_send_test_delivers_a_test_message(make_notifier, server: Recorder, hook_file: Path) -> None:
    n = await make_notifier([slack_hook("main", hook_file), slack_bot(base_url=server.slack_url)])
    await n.send_test("ops")
    [msg] = posted(server)
    assert "Test notification" in header(msg)
    await n.send_test("main")
    assert len(server.to("/services/")) == 1


async def test_send_test_to_an_unknown_channel_names_the_configured_ones(make_notifier, hook_file: Path) -> None:
    n = await make_notifier([slack_hook("main", hook_file)])
    with pytest.raises(NotifyError, match=r"unknown channel 'nope' \(configured: main\)"):
        await n.send_test("nope")


async def test_send_test_reports_what_slack_refused(make_notifier, server: Recorder) -> None:
    server.fail("/api/chat.postMessage", 200, body="channel_not_found")
    n = await make_notifier([slack_bot(base_url=server.slack_url)])
    with pytest.raises(NotifyError, match="test message to ops failed: .*channel_not_found") as err:
        await n.send_test("ops")
    assert TOKEN not in str(err.value)


async def test_a_channel_without_its_secret_is_a_clear_error(make_notifier, tmp_path: Path) -> None:
    with pytest.raises(NotifyError, match=r"notifications.channels\[main\]: cannot read webhookUrlFile "
                                          r".*/missing"):
        await make_notifier([ChannelConfig(name="main", type="slack", webhook_url_file=str(tmp_path / "missing"))])
    with pytest.raises(NotifyError, match=r"environment variable NOT_SET_ANYWHERE \(tokenEnv\) is not set"):
        await make_notifier([ChannelConfig(name="bot", type="slack", channel="#x", token_env="NOT_SET_ANYWHERE")])


async def test_a_route_to_an_undefined_channel_is_a_clear_error(make_notifier, hook_file: Path) -> None:
    with pytest.raises(NotifyError, match=r"notifications.routes\[0\].channels: unknown channel 'pager'"):
        await make_notifier([slack_hook("main", hook_file)], routes=[RouteConfig(channels=["pager"])])
