"""``/api/v1/apps/NAME/history``: every state change of an app, and time in state over a window."""

from __future__ import annotations

import time

from server_fleet import Served

from exporter.history import Transition


async def get(served: Served, path: str, status: int = 200):
    async with served.session.get(served.url + path) as resp:
        assert resp.status == status, await resp.text()
        return await resp.json() if resp.content_type == "application/json" else await resp.text()


def week_of_flapping(now: float) -> list[Transition]:
    """Healthy until two days ago, then Degraded for a day, then Healthy again."""
    day = 86400.0
    return [Transition(now - 10 * day, None, "Healthy", "a1", ""),
            Transition(now - 2 * day, "Healthy", "Degraded", "b2", "Deployment api: 0 of 3 replicas available"),
            Transition(now - day, "Degraded", "Healthy", "c3", "")]


async def test_history_lists_every_change_with_time_states_revision_and_reason(served: Served) -> None:
    now = time.time()
    served.source.histories["payments-api"] = week_of_flapping(now)
    body = await get(served, "/api/v1/apps/payments-api/history")
    assert body["app"] == "payments-api"
    assert [(e["from"], e["to"], e["revision"]) for e in body["entries"]] == [
        (None, "Healthy", "a1"), ("Healthy", "Degraded", "b2"), ("Degraded", "Healthy", "c3")]
    assert body["entries"][1]["reason"] == "Deployment api: 0 of 3 replicas available"
    assert body["entries"][1]["at"].endswith("Z") and body["entries"][1]["atTimestamp"] == now - 2 * 86400


async def test_time_in_state_covers_the_last_week_by_default_and_any_window_asked(served: Served) -> None:
    now = time.time()
    served.source.histories["payments-api"] = week_of_flapping(now)
    week = await get(served, "/api/v1/apps/payments-api/history")
    assert week["window"]["seconds"] == 7 * 86400
    assert round(week["timeInState"]["Degraded"]) == 86400
    assert round(week["timeInState"]["Healthy"] / 3600) == 6 * 24
    assert week["timeInStateShare"]["Degraded"] == round(1 / 7, 4)
    last_day = await get(served, "/api/v1/apps/payments-api/history?since=1d")
    assert set(last_day["timeInState"]) == {"Healthy"}


async def test_a_window_that_is_not_a_duration_is_refused_by_name(served: Served) -> None:
    body = await get(served, "/api/v1/apps/payments-api/history?since=last-week", status=400)
    assert body["error"].startswith("since: ")


async def test_history_of_an_unknown_app_is_a_404(served: Served) -> None:
    body = await get(served, "/api/v1/apps/no-such-app/history", status=404)
    assert body["error"] == "no app named 'no-such-app'"
