"""The engine when pages fail: the other channel at once, retries within the step, give-ups.

Table-driven like ``test_escalation_engine``: each case feeds (seconds after T0, event)
pairs to the pure engine and checks what was sent, when it next wakes, what was logged
and what the admins were told (by kind, in order).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from test_escalation_engine import (
    A1,
    B1,
    BOTH,
    C1,
    OPEN,
    ROSTER,
    SMS,
    T0,
    TIER1,
    VOICE,
    _check_invariants,
    _policy,
    at,
    play,
)

from escalation.actions import NotifyAdmins, SendPage
from escalation.engine import next
from escalation.errors import StateError
from escalation.events import (
    Acknowledged,
    Event,
    Opened,
    PageDelivered,
    PageFailed,
    PageNoAnswer,
    PageUndelivered,
    TimerFired,
)
from escalation.policy import Policy, Target
from escalation.state import EscalationState, Recipient, new_state, state_from_dict, state_to_dict
from escalation.transition import MAX_ATTEMPTS

SMS_FIRST = _policy(SMS, SMS, VOICE)
VOICE_ONLY = _policy(VOICE, VOICE, VOICE)
TOGETHER = _policy(SMS, SMS, VOICE, delays=(0, 300, 600))  # steps 1 and 2 page at once
ALEX_VOICE = ("0.0.alex.voice.1",)
ALEX_SMS = ("0.0.alex.sms.1",)


@dataclass(frozen=True)
class Case:
    events: tuple[tuple[int, Event], ...]
    sent: tuple[str, ...]
    wake: int | None
    admins: tuple[str, ...] = ()  # the kinds of NotifyAdmins, in order
    logs: tuple[str, ...] = ()
    status: str = "paging"
    policy: Policy = SMS_FIRST
    roster: Mapping[Target, Sequence[Recipient]] = field(default_factory=lambda: ROSTER)


def undelivered(key: str, code: int | None, temporary: bool) -> PageUndelivered:
    return PageUndelivered(f"0.0.alex.{key}", code, temporary)


EVERY_STEP_REFUSED = (
    OPEN,
    (1, PageFailed("0.0.alex.sms.1", 21211, False)),
    (1, PageFailed("0.0.alex.voice.1", 21211, False)),
    (2, PageFailed("0.1.brit.sms.1", 21211, False)),
    (2, PageFailed("0.1.brit.voice.1", 21211, False)),
    (3, PageFailed("0.2.boss.voice.1", 21211, False)),
)
ZERO_DELAY_ROUND_REFUSED = (
    OPEN,
    (1, undelivered("sms.1", 30005, False)),
    (2, undelivered("voice.1", 13224, False)),
    (3, PageUndelivered("0.1.brit.sms.1", 30005, False)),
    (4, PageUndelivered("0.1.brit.voice.1", 13224, False)),
)


CASES: dict[str, Case] = {
    # --- a failure Twilio reports later: the other channel goes at once --------------
    "SMS undelivered, temporary: the call goes at once, the text is tried again in 1 s": Case(
        (OPEN, (3, undelivered("sms.1", 30003, True))),
        ALEX_SMS + ALEX_VOICE, 4, logs=("fallback", "page_retry"),
    ),
    "SMS undelivered, unlisted code (30034): the call goes at once": Case(
        (OPEN, (3, undelivered("sms.1", 30034, True)), at(4)),
        ALEX_SMS + ALEX_VOICE + ("0.0.alex.sms.2",), 300,
    ),
    "SMS undelivered, permanent: the call goes at once, the admins are told": Case(
        (OPEN, (3, undelivered("sms.1", 30005, False))),
        ALEX_SMS + ALEX_VOICE, 300, admins=("page_failed",), logs=("fallback",),
    ),
    "SMS undelivered on a both-channel step: the call went already, no second one": Case(
        (OPEN, (3, undelivered("sms.1", 30006, False))),
        A1, 300, admins=("page_failed",), policy=_policy(BOTH, BOTH, VOICE),
    ),
    "voice busy: the text goes at once, the step waits": Case(
        (OPEN, (20, PageNoAnswer("0.0.alex.voice.1", "busy"))),
        ALEX_VOICE + ALEX_SMS, 300, logs=("fallback",), policy=VOICE_ONLY,
    ),
    "voice not answered: the text goes at once": Case(
        (OPEN, (30, PageNoAnswer("0.0.alex.voice.1", "no_answer"))),
        ALEX_VOICE + ALEX_SMS, 300, policy=VOICE_ONLY,
    ),
    "voice on a machine: the text goes at once": Case(
        (OPEN, (30, PageNoAnswer("0.0.alex.voice.1", "machine"))),
        ALEX_VOICE + ALEX_SMS, 300, policy=VOICE_ONLY,
    ),
    "voice reported failed: the text goes at once and the call is tried again": Case(
        (OPEN, (30, undelivered("voice.1", None, True)), at(31)),
        ALEX_VOICE + ALEX_SMS + ("0.0.alex.voice.2",), 300, policy=VOICE_ONLY,
    ),
    "a call we cancelled is not fallen back from": Case(
        (OPEN, (30, PageNoAnswer("0.0.alex.voice.1", "canceled"))),
        ALEX_VOICE + ("0.1.brit.voice.1",), 330, policy=VOICE_ONLY,
    ),
    "voice busy and no SMS number: nothing left, escalate at once": Case(
        (OPEN, (20, PageNoAnswer("0.0.alex.voice.1", "busy"))),
        ALEX_VOICE + ("0.1.brit.voice.1",), 320, policy=VOICE_ONLY,
        roster={**ROSTER, TIER1: [Recipient("alex", voice="+15035550101")]},
    ),
    "the text after a busy call is delivered: the step waits for an ack": Case(
        (OPEN, (20, PageNoAnswer("0.0.alex.voice.1", "busy")),
         (25, PageDelivered("0.0.alex.sms.1")), at(299)),
        ALEX_VOICE + ALEX_SMS, 300, policy=VOICE_ONLY,
    ),
    "the fallback goes once: a second failure report changes nothing": Case(
        (OPEN, (3, undelivered("sms.1", 30005, False)), (4, undelivered("sms.1", 30005, False))),
        ALEX_SMS + ALEX_VOICE, 300, admins=("page_failed",),
    ),
    # --- retries: fast, inside the step, never silently lost --------------------------
    "a 500 is tried again within a second": Case(
        (OPEN, (0, PageFailed("0.0.alex.sms.1", None, True))), ALEX_SMS, 1,
        logs=("page_retry",),
    ),
    "a REST failure is retried on its channel before falling back": Case(
        (OPEN, (0, PageFailed("0.0.alex.sms.1", 20429, True)), at(1)),
        ALEX_SMS + ("0.0.alex.sms.2",), 300,
    ),
    "a retry an ack makes pointless is logged as superseded": Case(
        (OPEN, (0, PageFailed("0.0.alex.sms.1", None, True)), (0, Acknowledged("alex", "voice"))),
        A1, 1200, logs=("retry_superseded",), status="acknowledged",
        policy=_policy(BOTH, BOTH, VOICE),
    ),
    "a temporary failure of a page whose step is over is logged, not retried": Case(
        (OPEN, at(300), (301, PageFailed("0.0.alex.sms.1", None, True))),
        ALEX_SMS + ("0.1.brit.sms.1",), 600, logs=("retry_superseded",),
    ),
    "a permanent failure of a page whose step is over still tells the admins": Case(
        (OPEN, at(300), (301, PageFailed("0.0.alex.sms.1", 21211, False))),
        ALEX_SMS + ("0.1.brit.sms.1",), 600, admins=("page_failed",),
    ),
    # --- steps joined by a zero delay are one round -----------------------------------
    "a page of a zero-delay step is retried while the round runs": Case(
        (OPEN, (1, PageFailed("0.0.alex.sms.1", None, True)), at(2)),
        ("0.0.alex.sms.1", "0.1.brit.sms.1", "0.0.alex.sms.2"), 300, policy=TOGETHER,
    ),
    "a page of a zero-delay step falls back to voice at once": Case(
        (OPEN, (1, undelivered("sms.1", 30005, False))),
        ("0.0.alex.sms.1", "0.1.brit.sms.1", "0.0.alex.voice.1"), 300,
        admins=("page_failed",), policy=TOGETHER,
    ),
    "a round is given up only when the pages of all its steps failed": Case(
        (OPEN, (1, undelivered("sms.1", 30005, False)), (2, undelivered("voice.1", 13224, False)),
         (3, PageUndelivered("0.1.brit.sms.1", 30005, False))),
        ("0.0.alex.sms.1", "0.1.brit.sms.1", "0.0.alex.voice.1", "0.1.brit.voice.1"), 300,
        admins=("page_failed", "page_failed", "page_failed"), policy=TOGETHER,
    ),
    "every page of a zero-delay round failed: the next step at once": Case(
        ZERO_DELAY_ROUND_REFUSED,
        ("0.0.alex.sms.1", "0.1.brit.sms.1", "0.0.alex.voice.1", "0.1.brit.voice.1") + C1, 604,
        admins=("page_failed",) * 4 + ("step_failed",), logs=("step_dead",), policy=TOGETHER,
    ),
    # --- give-ups: the admins are told and the next step is paged at once --------------
    "every page of a step refused: each page and the step reported, next step now": Case(
        (OPEN, (1, PageFailed("0.0.alex.sms.1", 21211, False)),
         (2, PageFailed("0.0.alex.voice.1", 13224, False))),
        A1 + B1, 302, admins=("page_failed", "page_failed", "step_failed"), logs=("step_dead",),
        policy=_policy(BOTH, BOTH, VOICE),
    ),
    "failed text and unanswered call: no step notice, the call went out": Case(
        (OPEN, (1, PageFailed("0.0.alex.sms.1", 21211, False)),
         (30, PageNoAnswer("0.0.alex.voice.1", "no_answer"))),
        A1 + B1, 330, admins=("page_failed",), policy=_policy(BOTH, BOTH, VOICE),
    ),
    "every step refused: exhausted at once and the admins told nobody could be paged": Case(
        EVERY_STEP_REFUSED, A1 + B1 + C1, None,
        admins=("page_failed",) * 2 + ("step_failed",) + ("page_failed",) * 2 + ("step_failed",)
        + ("page_failed", "step_failed", "exhausted"),
        status="exhausted", policy=_policy(BOTH, BOTH, VOICE, repeat=0),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_case(case: Case) -> None:
    played = play(case.events, case.policy, case.roster)
    assert played.state.status == case.status
    assert tuple(played.sent) == case.sent
    assert played.wake() == case.wake
    for kind in case.logs:
        assert kind in played.logs, f"{kind} not logged: {played.logs}"
    told = tuple(a.kind for a in played.actions if isinstance(a, NotifyAdmins))
    assert told == case.admins, played.admin_reasons
    _check_invariants(played)


def test_a_notice_says_which_page_went_wrong_and_why() -> None:
    played = play(
        [OPEN, (1, PageFailed("0.0.alex.sms.1", 21211, False, "Twilio error 21211: bad To"))],
        SMS_FIRST,
    )
    [notice] = [a for a in played.actions if isinstance(a, NotifyAdmins)]
    assert notice == NotifyAdmins(
        "page 0.0.alex.sms.1 to alex by sms could not be sent: Twilio error 21211: bad To",
        "alex",
        "page_failed",
    )


def test_undelivered_pages_name_the_code_from_the_one_table() -> None:
    played = play([OPEN, (3, undelivered("sms.1", 30005, False))], SMS_FIRST)
    [reason] = played.admin_reasons
    assert reason == (
        "page 0.0.alex.sms.1 to alex by sms was not delivered: Twilio error 30005 "
        "(unknown destination handset: the number may no longer exist)"
    )


def test_exhaustion_says_whether_anyone_could_be_paged_at_all() -> None:
    refused = play(EVERY_STEP_REFUSED, _policy(BOTH, BOTH, VOICE, repeat=0))
    assert refused.admin_reasons[-1] == (
        "nobody could be paged in 1 pass(es): no page could go out"
    )
    empty = play([OPEN], _policy(repeat=0), roster={})
    assert empty.admin_reasons == [
        "nobody could be paged in 1 pass(es): no step resolved to anyone"
    ]
    ignored = play([OPEN, at(300), at(600), at(1200)], _policy(repeat=0))
    assert ignored.admin_reasons == ["nobody acknowledged after 1 pass(es) of the policy"]


def test_a_round_notice_names_every_step_of_the_round() -> None:
    played = play(ZERO_DELAY_ROUND_REFUSED, TOGETHER)
    assert played.admin_reasons[4] == (
        "steps 1-2 of pass 1: no page could go out (alex sms, brit sms, alex voice, brit "
        "voice); paging the next step now"
    )


# --- every try of a page answered as the runner would feed it back ---------------------


Answer = Callable[[datetime, SendPage], Event]


def refuse(now: datetime, page: SendPage) -> Event:
    """Twilio answers 503 to everything."""
    return PageFailed(page.page_key, 20503, True)


def run(
    policy: Policy, until: datetime, answer: Answer = refuse
) -> tuple[EscalationState, list[tuple[datetime, SendPage]]]:
    """Answer every page at once and deliver every timer on time, up to ``until``."""
    state, actions = next(new_state(policy), Opened(), T0, ROSTER)
    sends: list[tuple[datetime, SendPage]] = []
    now = T0
    for _ in range(500):
        pending = [a for a in actions if isinstance(a, SendPage)]
        for page in pending:  # grows as answers cause new pages
            sends.append((now, page))
            state, more = next(state, answer(now, page), now, ROSTER)
            pending += [a for a in more if isinstance(a, SendPage)]
        if state.wake_at is None or state.wake_at > until:
            return state, sends
        now = state.wake_at
        state, actions = next(state, TimerFired(), now, ROSTER)
    raise AssertionError("the escalation never settled")


@pytest.mark.parametrize("seconds", [1, 2, 10, 30, 60, 300, 3600])
def test_every_try_of_a_failing_page_fits_inside_its_step(seconds: int) -> None:
    policy = _policy(SMS, SMS, VOICE, delays=(seconds, 300, 600))
    due = T0 + timedelta(seconds=seconds)
    _, sends = run(policy, due - timedelta(microseconds=1))
    texts = [when for when, a in sends if a.page_key.startswith("0.0.alex.sms")]
    calls = [when for when, a in sends if a.page_key.startswith("0.0.alex.voice")]
    assert len(texts) == MAX_ATTEMPTS >= 3
    assert texts[1] - texts[0] <= timedelta(seconds=1)
    assert all(when < due for when in texts + calls)
    assert calls[0] == texts[-1]  # tries spent on SMS: the call goes at once
    assert texts[-1] - texts[0] <= timedelta(seconds=60)  # given up within a minute


def test_tries_spent_on_every_channel_page_the_next_step_long_before_its_delay() -> None:
    policy = _policy(BOTH, BOTH, VOICE, repeat=0)
    state, sends = run(policy, T0 + timedelta(minutes=5) - timedelta(microseconds=1))
    brit = [when for when, a in sends if a.analyst == "brit"]
    assert brit and brit[0] == T0 + timedelta(seconds=60)  # alex's last tries at 60 s
    boss = [when for when, a in sends if a.analyst == "boss"]
    assert boss and boss[0] == T0 + timedelta(seconds=120)
    assert state.status == "exhausted"  # boss's tries spent in the third minute
    assert [a.page_key for _, a in sends if a.analyst == "alex"][:2] == list(A1)


def test_the_api_away_for_a_minute_costs_one_step_not_the_escalation() -> None:
    back = T0 + timedelta(seconds=61)

    def outage(now: datetime, page: SendPage) -> Event:
        if now < back:
            return PageFailed(page.page_key, None, True)
        return PageDelivered(page.page_key)

    state, sends = run(_policy(BOTH, BOTH, VOICE), T0 + timedelta(minutes=5), outage)
    after = [(when, page.page_key) for when, page in sends if when >= back]
    # Tier 1's five tries span the outage; Tier 2, paged at 60 s, gets its second try.
    assert after == [(back, "0.1.brit.sms.2"), (back, "0.1.brit.voice.2")]
    assert (state.status, state.step) == ("paging", 1)


def test_a_zero_delay_round_keeps_both_analysts_pages_alive() -> None:
    played = play([OPEN, (1, PageFailed("0.0.alex.sms.1", None, True))], TOGETHER)
    page = played.state.find_page("0.0.alex.sms.1")
    assert page is not None and page.status == "retry_wait"
    assert played.state.round_from == 0 and played.state.step == 1


def test_retry_waits_shrink_with_the_time_left() -> None:
    played = play([OPEN], _policy(SMS, SMS, VOICE, delays=(10, 300, 600)))
    state = played.state
    waits = []
    for attempt in range(1, MAX_ATTEMPTS):
        key = f"0.0.alex.sms.{attempt}"
        now = T0 + timedelta(seconds=2 * attempt)
        state, _ = next(state, PageFailed(key, None, True), now, ROSTER)
        page = state.find_page(key)
        assert page is not None and page.retry_at is not None
        waits.append((page.retry_at - now).total_seconds())
        state, _ = next(state, TimerFired(), page.retry_at, ROSTER)
    # 1 s, then the time left shared by the tries left (never more than the nominal wait).
    assert waits == pytest.approx([1.0, (10 - 4) / 4, (10 - 6) / 3, (10 - 8) / 2])


def test_a_state_stored_before_rounds_were_kept_reads_as_one_step_rounds() -> None:
    played = play([OPEN, at(300)], _policy(BOTH, BOTH, VOICE))
    stored = state_to_dict(played.state)
    assert stored["round_from"] == 1
    del stored["round_from"]
    assert state_from_dict(stored) == played.state
    with pytest.raises(StateError, match="round_from"):
        state_from_dict({**stored, "round_from": -1})
