"""Properties of the escalation engine over random policies, rosters and event sequences."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import get_args

from hypothesis import event as event_note
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.actions import CancelTimer, LogEvent, NotifyAdmins, ScheduleTimer, SendPage
from escalation.engine import next
from escalation.events import (
    Acknowledged,
    CallbackLogged,
    Declined,
    Event,
    NoAnswerReason,
    Opened,
    OptedOut,
    PageDelivered,
    PageFailed,
    PageNoAnswer,
    PageUndelivered,
    Resolved,
    TimerFired,
    Via,
)
from escalation.policy import Channel, Policy, Step, Target
from escalation.state import Recipient, new_state, state_from_dict, state_to_dict

T0 = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night Europe moves its clocks
TARGETS = [
    Target("on_call", "tier1"),
    Target("on_call", "tier2"),
    Target("rotation", "tier2"),
    Target("analyst", "boss"),
]
NAMES = ["alex", "brit", "boss", "dana"]
STRANGER = "eve"
CHANNEL_SETS: list[frozenset[Channel]] = [
    frozenset({"sms"}),
    frozenset({"voice"}),
    frozenset({"sms", "voice"}),
]


@st.composite
def recipients(draw: st.DrawFn) -> Recipient:
    name = draw(st.sampled_from(NAMES))
    index = NAMES.index(name)
    sms = draw(st.sampled_from([None, f"+1503555010{index}"]))
    voice = draw(st.sampled_from([None, f"+1503555010{index}", f"+1503555011{index}"]))
    stopped = draw(st.sampled_from([False, False, False, False, True]))
    return Recipient(name, sms=sms, voice=voice, sms_stopped=stopped)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    count = draw(st.integers(min_value=1, max_value=4))
    steps = []
    for _ in range(count):
        targets = draw(st.lists(st.sampled_from(TARGETS), min_size=1, max_size=3, unique=True))
        steps.append(
            Step(
                tuple(targets),
                draw(st.sampled_from(CHANNEL_SETS)),
                timedelta(seconds=draw(st.sampled_from([0, 30, 60, 300]))),
            )
        )
    if all(step.delay == timedelta(0) for step in steps):
        steps[-1] = Step(steps[-1].targets, steps[-1].channels, timedelta(seconds=120))
    return Policy("random", tuple(steps), repeat=draw(st.integers(min_value=0, max_value=2)))


# Mostly someone on call, sometimes nobody (a missing target is a scenario test).
_on_call = st.lists(recipients(), min_size=1, max_size=3)
rosters = st.fixed_dictionaries(
    {target: st.one_of(_on_call, _on_call, _on_call, st.just([])) for target in TARGETS}
)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), policy=policies(), roster_pool=st.lists(rosters, min_size=1, max_size=3))
def test_random_event_sequences_keep_every_promise(
    data: st.DataObject, policy: Policy, roster_pool: list[dict[Target, list[Recipient]]]
) -> None:
    deadline = T0 + timedelta(minutes=data.draw(st.integers(min_value=1, max_value=60)))
    remind_before = timedelta(minutes=data.draw(st.integers(min_value=0, max_value=15)))
    state = new_state(policy, sla_deadline=deadline, remind_before=remind_before)
    now = T0
    sent: set[str] = set()
    for turn in range(data.draw(st.integers(min_value=1, max_value=30))):
        now += timedelta(seconds=data.draw(GAPS))
        paged = sorted({page.analyst for page in state.pages})
        event = Opened() if turn == 0 else _draw_event(data, sorted(sent), paged)
        if isinstance(event, TimerFired) and state.wake_at is not None and data.draw(st.booleans()):
            now = max(now, state.wake_at)  # a punctual timer, as the runner delivers it
        roster = data.draw(st.sampled_from(roster_pool))
        before = state
        state, actions = next(state, event, now, roster)
        for action in actions:
            if isinstance(action, LogEvent):
                event_note(f"log {action.kind}")

        # Each page key is sent at most once over the incident's whole life.
        keys = [a.page_key for a in actions if isinstance(a, SendPage)]
        assert len(keys) == len(set(keys)) and not sent & set(keys)
        sent |= set(keys)
        for action in actions:
            if isinstance(action, SendPage):
                page = state.find_page(action.page_key)
                assert page is not None and page.status == "sending"
                assert (page.to, page.channel, page.analyst) == (
                    action.to,
                    action.channel,
                    action.analyst,
                )
                assert action.to
                if action.purpose == "page":
                    assert state.status in ("paging", "exhausted")

        # No retry is dropped silently, and no page is given up without telling the admins.
        logs = [a.detail for a in actions if isinstance(a, LogEvent)]
        told = " | ".join(a.reason for a in actions if isinstance(a, NotifyAdmins))
        for page in before.pages:
            after = state.find_page(page.key)
            if page.status == "retry_wait" and after is not None and after.status == "cancelled":
                assert any(d.startswith(f"page {page.key}: attempt") for d in logs), logs
            if page.status == "sending" and after is not None and after.status == "failed":
                assert page.key in told or page.analyst in state.sms_stopped, (page, told)

        # A retry of a running step is due before the step is (or at once, when it is late).
        if state.status == "paging" and state.step_due_at is not None:
            for page in state.pages:
                if page.status == "retry_wait" and state.in_round(page):
                    assert page.retry_at is not None
                    assert page.retry_at <= max(state.step_due_at, now)

        # The state survives the database.
        assert state_from_dict(json.loads(json.dumps(state_to_dict(state)))) == state

        # The runner's timer always matches the state.
        timers = [a for a in actions if isinstance(a, ScheduleTimer | CancelTimer)]
        if state.wake_at != before.wake_at:
            expected = CancelTimer() if state.wake_at is None else ScheduleTimer(state.wake_at)
            assert timers == [expected]
        else:
            assert timers == []
        if isinstance(event, TimerFired):
            assert state.wake_at is None or state.wake_at > now

        # An ended escalation stays ended and only logs.
        if before.is_final:
            assert state == before
            assert all(isinstance(a, LogEvent) for a in actions)
        assert state.status != "pending" or before.status == "pending"


GAPS = st.sampled_from([0, 1, 5, 20, 60, 300, 600])
VIA: st.SearchStrategy[Via] = st.sampled_from(get_args(Via))
CODES = st.sampled_from([None, 21211, 21610, 20429, 30003, 500])
NO_ANSWER: st.SearchStrategy[NoAnswerReason] = st.sampled_from(get_args(NoAnswerReason))
KINDS = st.sampled_from(
    ["timer"] * 4
    + ["delivered"] * 2
    + ["failed"] * 3
    + ["undelivered"] * 2
    + ["no_answer"] * 2
    + ["ack"] * 2
    + ["decline", "callback", "stop", "open", "resolve"]
)


def _draw_event(data: st.DataObject, keys: list[str], paged: list[str]) -> Event:
    """Draw any event; page events are mostly about keys that were really sent."""
    kind = data.draw(KINDS)
    if kind in ("delivered", "failed", "undelivered", "no_answer"):
        index = data.draw(st.integers(min_value=0, max_value=len(keys)))
        key = keys[index] if index < len(keys) else "0.0.nobody.voice.9"  # stale or foreign
        if kind == "delivered":
            return PageDelivered(key)
        if kind == "failed":
            return PageFailed(key, data.draw(CODES), data.draw(st.booleans()))
        if kind == "undelivered":
            return PageUndelivered(key, data.draw(CODES), data.draw(st.booleans()))
        return PageNoAnswer(key, data.draw(NO_ANSWER))
    if kind in ("ack", "decline", "callback"):
        who, via = data.draw(st.sampled_from([*paged, STRANGER])), data.draw(VIA)
        if kind == "ack":
            return Acknowledged(who, via)
        if kind == "decline":
            return Declined(who, via)
        return CallbackLogged(who, via, data.draw(st.booleans()))
    simple: dict[str, Event] = {
        "open": Opened(),
        "timer": TimerFired(),
        "stop": OptedOut(data.draw(st.sampled_from(NAMES))) if kind == "stop" else OptedOut(""),
        "resolve": Resolved("lead"),
    }
    return simple[kind]
