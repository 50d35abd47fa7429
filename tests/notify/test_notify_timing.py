"""Exactly the messages people expect: a Slack that answers too late gets the message at most twice,
and an incident is reported at bad-since + threshold, not at the next periodic tick."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from notify_fakes import Recorder, Sleeper, app, sent, status

from exporter.clock import FakeClock
from exporter.config_types import ChannelConfig, NotificationsConfig, NotifyPolicy, RouteConfig
from exporter.model import AppState
from exporter.notify import Notifier


class SlowSlack:
    """Accepts every message, but answers after ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received: list[str] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(await request.text())
        await asyncio.sleep(self.delay)
        return web.Response(text="ok")


@pytest.fixture
async def slow_slack() -> AsyncIterator[SlowSlack]:
    slack = SlowSlack(delay=1.3)
    application = web.Application()
    application.router.add_post("/services/T0/B0/slow", slack.handle)
    runner = web.AppRunner(application, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    slack.url = f"http://127.0.0.1:{runner.addresses[0][1]}/services/T0/B0/slow"
    yield slack
    await runner.cleanup()


async def test_a_slack_that_answers_after_the_timeout_gets_the_message_at_most_twice(
        slow_slack: SlowSlack, tmp_path: Path, clock: FakeClock, sleeper: Sleeper) -> None:
    url_file = tmp_path / "hook"
    url_file.write_text(slow_slack.url)
    channel = ChannelConfig(name="slow", type="slack", webhook_url_file=str(url_file), timeout=1.0)
    notifier = Notifier(NotificationsConfig(channels=[channel], routes=[RouteConfig(channels=["slow"])]),
                        clock, sleep=sleeper)
    await notifier.start()
    unknown_before = sent({"channel": "slow", "event": "firing", "result": "unknown"})
    try:
        shop = app(policy=NotifyPolicy(threshold=0))
        await notifier.observe(shop, status("shop", AppState.DEGRADED))
        await notifier.flush()
        assert len(slow_slack.received) == 1  # not retried at once: it may have arrived
        assert sent({"channel": "slow", "event": "firing", "result": "unknown"}) == unknown_before + 1
        assert notifier.pending() == 1
        clock.advance(60)
        await notifier.tick()
        await notifier.flush()
        assert len(slow_slack.received) == 1  # the one more try waits a long backoff ...
        clock.advance(notifier.unknown_retry_delay)
        await notifier.flush()
        assert len(slow_slack.received) == 2  # ... then goes once
        clock.advance(notifier.unknown_retry_delay * 4)
        await notifier.flush()
        assert len(slow_slack.received) == 2  # and never again
        assert notifier.pending() == 0
    finally:
        await notifier.close()


async def test_a_connection_refused_is_not_an_unknown_outcome_and_is_retried(
        tmp_path: Path, clock: FakeClock, sleeper: Sleeper, server: Recorder) -> None:
    url_file = tmp_path / "hook"
    url_file.write_text("http://127.0.0.1:9/services/T0/B0/closed")  # discard port: nothing listens
    channel = ChannelConfig(name="closed", type="slack", webhook_url_file=str(url_file), timeout=1.0)
    notifier = Notifier(NotificationsConfig(channels=[channel], routes=[RouteConfig(channels=["closed"])]),
                        clock, sleep=sleeper)
    await notifier.start()
    retries = sent({"channel": "closed", "event": "firing", "result": "retry"})
    try:
        await notifier.observe(app(policy=NotifyPolicy(threshold=0)), status("shop", AppState.DEGRADED))
        await notifier.flush()
        assert sent({"channel": "closed", "event": "firing", "result": "retry"}) == retries + notifier.max_attempts - 1
    finally:
        await notifier.close()


async def test_firing_goes_out_at_bad_since_plus_threshold_without_a_tick(
        server: Recorder, tmp_path: Path) -> None:
    url_file = tmp_path / "hook"
    url_file.write_text(server.webhook("timer"))
    channel = ChannelConfig(name="timer", type="slack", webhook_url_file=str(url_file))
    clock = FakeClock()
    notifier = Notifier(NotificationsConfig(channels=[channel], routes=[RouteConfig(channels=["timer"])]), clock,
                        sleep=clock.skip)
    await notifier.start()
    try:
        shop = app(policy=NotifyPolicy(threshold=300))
        await notifier.observe(shop, status("shop", AppState.DEGRADED))
        await asyncio.sleep(0.05)
        clock.advance(299)
        await notifier.flush()
        assert server.to("/services/") == []  # one second short of the threshold
        clock.advance(1)  # far shorter than any tick: only the notifier's own timer can send it now
        for _ in range(200):
            if server.to("/services/"):
                break
            await asyncio.sleep(0.005)
        await notifier.observe(shop, status("shop", AppState.HEALTHY))
        await notifier.flush()
        texts = [p.json["text"] for p in server.to("/services/")]
        assert texts == ["shop is Degraded for 5m: app is Degraded", "shop recovered: Healthy after 5m"]
    finally:
        await notifier.close()
