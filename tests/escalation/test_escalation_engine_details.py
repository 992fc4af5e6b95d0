"""The escalation engine: the exact actions, and details the scenario table does not show."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from test_escalation_engine import (
    ALEX,
    BOTH,
    BRIT,
    OPEN,
    POLICY,
    ROSTER,
    SMS,
    T0,
    TIER1,
    TIER2,
    at,
    play,
)

from escalation.actions import CancelPages, CancelTimer, LogEvent, ScheduleTimer, SendPage
from escalation.engine import next
from escalation.errors import EscalationError, StateError
from escalation.events import (
    Acknowledged,
    CallbackLogged,
    Event,
    Opened,
    PageDelivered,
    PageFailed,
    PageNoAnswer,
    TimerFired,
)
from escalation.policy import Policy, Step, Target
from escalation.state import Recipient, new_state, state_from_dict, state_to_dict


def test_opened_actions_in_order() -> None:
    played = play([OPEN])
    sends = [a for a in played.last if isinstance(a, SendPage)]
    assert sends == [
        SendPage("0.0.alex.sms.1", "alex", "sms", "+15035550101", 1, "page"),
        SendPage("0.0.alex.voice.1", "alex", "voice", "+15035550101", 1, "page"),
    ]
    assert played.last[-1] == ScheduleTimer(T0 + timedelta(minutes=5))
    assert played.state.opened_at == T0


def test_step_two_uses_the_numbers_of_the_analyst_on_call_then() -> None:
    handed_over = {**ROSTER, TIER2: [Recipient("dana", sms="+15035550199", voice=None)]}
    played = play([OPEN])
    played.state, actions = next(played.state, TimerFired(), T0 + timedelta(minutes=5), handed_over)
    assert [a for a in actions if isinstance(a, SendPage)] == [
        SendPage("0.1.dana.sms.1", "dana", "sms", "+15035550199", 1, "page")
    ]


def test_rotation_target_pages_everyone_once() -> None:
    everyone = Target("rotation", "tier1")
    policy = Policy("all hands", (Step((everyone, TIER1), SMS, timedelta(minutes=5)),))
    roster = {everyone: [ALEX, BRIT], TIER1: [ALEX]}
    played = play([OPEN], policy=policy, roster=roster)
    assert played.sent == ["0.0.alex.sms.1", "0.0.brit.sms.1"]


def test_ack_cancels_pages_still_ringing_for_others_and_the_timer() -> None:
    everyone = Target("rotation", "tier1")
    policy = Policy("all hands", (Step((everyone,), BOTH, timedelta(minutes=5)),))
    played = play(
        [OPEN, (5, PageDelivered("0.0.brit.sms.1")), (30, Acknowledged("alex", "voice"))],
        policy=policy,
        roster={everyone: [ALEX, BRIT]},
        sla_minutes=None,
    )
    assert CancelPages(("0.0.brit.voice.1",)) in played.last
    assert played.last[-1] == CancelTimer()
    assert played.state.acknowledged_by == "alex"
    assert played.state.acknowledged_at == T0 + timedelta(seconds=30)


def test_ack_cancels_a_pending_retry_and_says_so() -> None:
    played = play([OPEN, (1, PageFailed("0.0.alex.sms.1", None, True))])
    assert played.wake() == 2
    played.state, actions = next(
        played.state, Acknowledged("alex", "voice"), T0 + timedelta(seconds=1.5), ROSTER
    )
    page = played.state.find_page("0.0.alex.sms.1")
    assert page is not None and page.status == "cancelled"
    assert (
        LogEvent(
            "retry_superseded", "page 0.0.alex.sms.1: attempt 2 not sent, acknowledged by alex"
        )
        in actions
    )
    assert actions[-1] == ScheduleTimer(T0 + timedelta(minutes=20))


def test_duplicate_delivery_is_idempotent() -> None:
    played = play([OPEN, (5, PageDelivered("0.0.alex.sms.1"))])
    again, actions = next(
        played.state, PageDelivered("0.0.alex.sms.1"), T0 + timedelta(seconds=9), ROSTER
    )
    assert again == played.state
    assert all(isinstance(a, LogEvent) for a in actions)


@pytest.mark.parametrize(
    "event",
    [
        PageNoAnswer("0.0.alex.voice.1"),
        PageFailed("0.0.alex.voice.1", 13224, False),
        Acknowledged("alex", "sms"),
        TimerFired(),
    ],
)
def test_every_duplicate_event_is_idempotent(event: Event) -> None:
    played = play([OPEN, (5, event)])
    again, actions = next(played.state, event, T0 + timedelta(seconds=6), ROSTER)
    assert again == played.state
    assert not any(isinstance(a, SendPage) for a in actions)


def test_retry_actions_and_backoff() -> None:
    played = play([OPEN, (1, PageFailed("0.0.alex.sms.1", 500, True))])
    assert played.last[-1] == ScheduleTimer(T0 + timedelta(seconds=2))
    page = played.state.find_page("0.0.alex.sms.1")
    assert page is not None and page.status == "retry_wait"
    played.state, actions = next(played.state, TimerFired(), T0 + timedelta(seconds=2), ROSTER)
    assert SendPage("0.0.alex.sms.2", "alex", "sms", "+15035550101", 2, "page") in actions
    assert actions[-1] == ScheduleTimer(T0 + timedelta(minutes=5))


def test_machine_answer_is_logged_as_a_message_left() -> None:
    played = play([OPEN, (40, PageNoAnswer("0.0.alex.voice.1", "machine"))])
    details = [a.detail for a in played.last if isinstance(a, LogEvent)]
    assert any("machine answered" in d and "not counted as delivered" in d for d in details)
    page = played.state.find_page("0.0.alex.voice.1")
    assert page is not None and page.status == "no_answer"


def test_reminder_time_follows_remind_before() -> None:
    state = new_state(
        POLICY, sla_deadline=T0 + timedelta(minutes=30), remind_before=timedelta(minutes=3)
    )
    played = play([OPEN, (60, Acknowledged("alex", "sms"))], state=state)
    assert played.last[-1] == ScheduleTimer(T0 + timedelta(minutes=27))


def test_callback_before_any_ack_counts_as_the_ack() -> None:
    played = play([OPEN, (100, CallbackLogged("alex", "sms", is_reported=True))])
    state = played.state
    assert (state.acknowledged_by, state.callback_by) == ("alex", "alex")
    assert state.callback_at == state.acknowledged_at == T0 + timedelta(seconds=100)
    assert CancelTimer() in played.last


def test_callback_by_the_bridge_does_not_cancel_the_callers_own_call() -> None:
    played = play(
        [OPEN, (30, Acknowledged("alex", "voice")), (60, CallbackLogged("alex", "voice", False))]
    )
    assert not any(isinstance(a, CancelPages) for a in played.actions)


def test_state_helpers_for_the_runner() -> None:
    played = play([OPEN])
    assert played.state.analyst_for_number("+15035550101") == "alex"
    assert played.state.analyst_for_number("+15035550102") is None  # brit not paged yet
    assert played.state.was_paged("alex") and not played.state.was_paged("brit")


def test_naive_now_is_refused() -> None:
    with pytest.raises(StateError, match="timezone-aware"):
        next(new_state(POLICY), Opened(), datetime(2026, 1, 1, 2, 0), ROSTER)


def test_unknown_event_types_are_refused() -> None:
    with pytest.raises(EscalationError, match="not an escalation event"):
        next(new_state(POLICY), "ack", T0, ROSTER)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d.update(version=7), "version"),
        (lambda d: d.update(status="asleep"), "status"),
        (lambda d: d.pop("pages"), "damaged"),
        (lambda d: d.update(step_due_at="tomorrow"), "tomorrow"),
        (lambda d: d.update(step_due_at="2026-01-10T02:05:00"), "timezone-aware"),
        (lambda d: d["pages"][0].update(channel="fax"), "channel"),
        (lambda d: d["pages"][0].update(attempt=-1), "attempt"),
        (lambda d: d["policy"].update(steps=[]), "policy snapshot"),
    ],
)
def test_damaged_stored_state_is_refused(damage: object, message: str) -> None:
    data = json.loads(json.dumps(state_to_dict(play([OPEN]).state)))
    damage(data)  # type: ignore[operator]
    with pytest.raises(StateError, match=message):
        state_from_dict(data)


def test_a_stored_state_continues_where_it_stopped() -> None:
    played = play([OPEN, (1, PageFailed("0.0.alex.sms.1", None, True))])
    stored = json.dumps(state_to_dict(played.state))
    resumed = state_from_dict(json.loads(stored))
    state, actions = next(resumed, TimerFired(), T0 + timedelta(seconds=6), ROSTER)
    assert [a.page_key for a in actions if isinstance(a, SendPage)] == ["0.0.alex.sms.2"]
    assert state.wake_at == T0 + timedelta(minutes=5)


def test_the_acknowledger_is_reminded_not_warned_when_also_on_the_next_step() -> None:
    roster = {**ROSTER, TIER2: [ALEX, BRIT]}
    played = play([OPEN, (60, Acknowledged("alex", "sms")), at(1200)], roster=roster)
    sends = [a for a in played.last if isinstance(a, SendPage)]
    assert [(a.analyst, a.purpose) for a in sends] == [
        ("alex", "reminder"),
        ("alex", "reminder"),
        ("brit", "warning"),
        ("brit", "warning"),
    ]


def test_callback_hangs_up_other_ringing_calls_but_not_texts() -> None:
    everyone = Target("rotation", "tier1")
    policy = Policy("all hands", (Step((everyone,), BOTH, timedelta(minutes=5)),))
    played = play(
        [OPEN, (40, CallbackLogged("brit", "sms", is_reported=True))],
        policy=policy,
        roster={everyone: [ALEX, BRIT]},
    )
    assert CancelPages(("0.0.alex.voice.1",)) in played.last


def test_unknown_event_types_are_refused_even_after_the_end() -> None:
    ended = play([OPEN, (5, CallbackLogged("alex", "sms", True))]).state
    with pytest.raises(EscalationError, match="not an escalation event"):
        next(ended, None, T0, ROSTER)  # type: ignore[arg-type]
