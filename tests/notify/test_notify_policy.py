"""The alert state machine, on its own: when firing, repeat and resolved are due."""

from __future__ import annotations

from exporter.config_types import NotifyPolicy
from exporter.notify.policy import AlertState, step

T0 = 1_767_225_600.0
DEFAULT = NotifyPolicy()  # every state but Healthy and Suspended, 10 minutes, repeat every 4 hours


def run(policy: NotifyPolicy, timeline: list[tuple[float, str | None]], *, muted_at: frozenset[float] = frozenset()
        ) -> list[tuple[float, str]]:
    """Feed (minute, observed state or None for a tick) in order; return (minute, event) for each message."""
    alert = AlertState()
    events: list[tuple[float, str]] = []
    for minute, state in timeline:
        alert, event = step(alert, policy, T0 + minute * 60, state=state, muted=minute in muted_at)
        if event:
            events.append((minute, event))
    return events


def test_a_blip_shorter_than_the_threshold_sends_nothing() -> None:
    assert run(DEFAULT, [(0, "Degraded"), (5, None), (9.9, "Healthy"), (30, None)]) == []


def test_firing_goes_out_when_the_threshold_passes_and_only_once() -> None:
    assert run(DEFAULT, [(0, "Degraded"), (9, None), (10, None), (11, None), (12, "Degraded")]) == [(10, "firing")]


def test_moving_between_bad_states_keeps_the_incident_clock() -> None:
    events = run(DEFAULT, [(0, "Progressing"), (6, "Degraded"), (10, None), (14, "OutOfSync")])
    assert events == [(10, "firing")]


def test_suspended_is_good_by_default_and_ends_an_incident() -> None:
    assert run(DEFAULT, [(0, "Degraded"), (5, "Suspended"), (8, "Degraded"), (17, None)]) == []


def test_resolved_follows_firing_when_the_app_is_good_again() -> None:
    assert run(DEFAULT, [(0, "Missing"), (10, None), (25, "Healthy")]) == [(10, "firing"), (25, "resolved")]


def test_no_resolved_without_a_firing() -> None:
    assert run(DEFAULT, [(0, "Missing"), (3, "Healthy")]) == []


def test_repeat_reminds_every_repeat_interval_while_bad() -> None:
    events = run(DEFAULT, [(0, "Degraded"), (10, None), (200, None), (250, None), (490, None), (500, None)])
    assert events == [(10, "firing"), (250, "repeat"), (490, "repeat")]


def test_repeat_zero_means_no_reminders() -> None:
    policy = NotifyPolicy(repeat=0)
    assert run(policy, [(0, "Degraded"), (10, None), (1000, None)]) == [(10, "firing")]


def test_the_threshold_of_the_current_state_applies_from_bad_since() -> None:
    policy = NotifyPolicy(state_thresholds={"Degraded": 300, "Progressing": 1200})
    # Progressing alone waits 20 minutes ...
    assert run(policy, [(0, "Progressing"), (19, None), (20, None)]) == [(20, "firing")]
    # ... but once Degraded, its 5 minutes count from when the app first went bad.
    assert run(policy, [(0, "Progressing"), (8, "Degraded")]) == [(8, "firing")]


def test_custom_bad_states_ignore_the_others() -> None:
    policy = NotifyPolicy(bad_states=["Degraded"])
    assert run(policy, [(0, "OutOfSync"), (30, None)]) == []


def test_muted_holds_firing_back_until_the_mute_ends() -> None:
    events = run(DEFAULT, [(0, "Degraded"), (10, None), (20, None), (30, None)], muted_at=frozenset({10, 20}))
    assert events == [(30, "firing")]


def test_the_agents_earlier_bad_since_is_used_but_a_later_one_is_not() -> None:
    earlier, event = step(AlertState(), DEFAULT, T0, state="Degraded", reported_bad_since=T0 - 900)
    assert (earlier.bad_since, event) == (T0 - 900, "firing")
    future, event = step(AlertState(), DEFAULT, T0, state="Degraded", reported_bad_since=T0 + 900)
    assert (future.bad_since, event) == (T0, None)
