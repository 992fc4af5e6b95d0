"""The escalation state machine, scenario by scenario, plus properties over random events."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from escalation.actions import (
    Action,
    LogEvent,
    NotifyAdmins,
    SendPage,
)
from escalation.engine import next
from escalation.events import (
    Acknowledged,
    CallbackLogged,
    Declined,
    Event,
    Opened,
    OptedOut,
    PageDelivered,
    PageFailed,
    PageNoAnswer,
    PageUndelivered,
    Resolved,
    TimerFired,
)
from escalation.policy import Channel, Policy, Step, Target
from escalation.state import (
    EscalationState,
    Recipient,
    new_state,
    state_from_dict,
    state_to_dict,
)

T0 = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)
TIER1 = Target("on_call", "tier1")
TIER2 = Target("on_call", "tier2")
BOSS = Target("analyst", "boss")
BOTH: frozenset[Channel] = frozenset({"sms", "voice"})
SMS: frozenset[Channel] = frozenset({"sms"})
VOICE: frozenset[Channel] = frozenset({"voice"})

ALEX = Recipient("alex", sms="+15035550101", voice="+15035550101")
BRIT = Recipient("brit", sms="+15035550102", voice="+15035550112")
CHEF = Recipient("boss", voice="+15035550103")
ROSTER: dict[Target, list[Recipient]] = {TIER1: [ALEX], TIER2: [BRIT], BOSS: [CHEF]}


def _policy(
    *channels: frozenset[Channel], delays: Sequence[int] = (300, 300, 600), repeat: int = 1
) -> Policy:
    """Return tier1 -> tier2 -> boss, each step on the given channels (default both)."""
    chans = list(channels) or [BOTH, BOTH, VOICE]
    targets = [TIER1, TIER2, BOSS]
    steps = tuple(
        Step((targets[i],), chans[i], timedelta(seconds=delays[i])) for i in range(len(chans))
    )
    return Policy("diamond", steps, repeat=repeat)


POLICY = _policy()


@dataclass
class Played:
    """The result of feeding events to the engine one after the other."""

    state: EscalationState
    steps: list[tuple[Event, list[Action]]] = field(default_factory=list)

    @property
    def actions(self) -> list[Action]:
        return [a for _, actions in self.steps for a in actions]

    @property
    def last(self) -> list[Action]:
        return self.steps[-1][1]

    @property
    def sent(self) -> list[str]:
        return [a.page_key for a in self.actions if isinstance(a, SendPage)]

    @property
    def logs(self) -> list[str]:
        return [a.kind for a in self.actions if isinstance(a, LogEvent)]

    @property
    def admin_reasons(self) -> list[str]:
        return [a.reason for a in self.actions if isinstance(a, NotifyAdmins)]

    def wake(self) -> int | None:
        at = self.state.wake_at
        return None if at is None else int((at - T0).total_seconds())


def play(
    events: Sequence[tuple[int, Event]],
    policy: Policy = POLICY,
    roster: Mapping[Target, Sequence[Recipient]] = ROSTER,
    sla_minutes: int | None = 30,
    state: EscalationState | None = None,
) -> Played:
    """Feed (seconds after T0, event) pairs to the engine and keep every step."""
    deadline = None if sla_minutes is None else T0 + timedelta(minutes=sla_minutes)
    played = Played(state or new_state(policy, sla_deadline=deadline))
    for seconds, event in events:
        played.state, actions = next(played.state, event, T0 + timedelta(seconds=seconds), roster)
        played.steps.append((event, actions))
    return played


OPEN = (0, Opened())


def at(seconds: int) -> tuple[int, TimerFired]:
    return (seconds, TimerFired())


# --- the scenario table ---------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    events: tuple[tuple[int, Event], ...]
    status: str
    sent: tuple[str, ...]
    wake: int | None
    logs: tuple[str, ...] = ()
    admins: int = 0
    policy: Policy = POLICY
    roster: Mapping[Target, Sequence[Recipient]] = field(default_factory=lambda: ROSTER)
    sla_minutes: int | None = 30


A1 = ("0.0.alex.sms.1", "0.0.alex.voice.1")
B1 = ("0.1.brit.sms.1", "0.1.brit.voice.1")
C1 = ("0.2.boss.voice.1",)
A2 = ("1.0.alex.sms.1", "1.0.alex.voice.1")
B2 = ("1.1.brit.sms.1", "1.1.brit.voice.1")
C2 = ("1.2.boss.voice.1",)

SCENARIOS: dict[str, Scenario] = {
    "opened pages step 1 by sms and voice, due after its delay": Scenario(
        (OPEN,), "paging", A1, 300, logs=("opened", "step_started")
    ),
    "a timer before the step is due changes nothing": Scenario(
        (OPEN, at(299)), "paging", A1, 300, logs=("timer_idle",)
    ),
    "step due without an ack pages step 2": Scenario(
        (OPEN, at(300)), "paging", A1 + B1, 600, logs=("step_timed_out",)
    ),
    "a late timer escalates from when it fired": Scenario(
        (OPEN, at(330)), "paging", A1 + B1, 630
    ),
    "after the last step the next pass starts at step 1": Scenario(
        (OPEN, at(300), at(600), at(1200)), "paging", A1 + B1 + C1 + A2, 1500, logs=("repeat",)
    ),
    "repeat exhausted: admins are told and no timer is left": Scenario(
        (OPEN, at(300), at(600), at(1200), at(1500), at(1800), at(2400)),
        "exhausted",
        A1 + B1 + C1 + A2 + B2 + C2,
        None,
        logs=("exhausted",),
        admins=1,
    ),
    "a step that resolves to nobody is skipped at once": Scenario(
        (OPEN,), "paging", B1, 300, logs=("step_skipped",), roster={**ROSTER, TIER1: []}
    ),
    "several empty steps in a row are all skipped at once": Scenario(
        (OPEN,), "paging", C1, 600, roster={**ROSTER, TIER1: [], TIER2: []}
    ),
    "a target missing from the roster counts as nobody, and is logged": Scenario(
        (OPEN,), "paging", B1, 300, logs=("target_unresolved", "step_skipped"),
        roster={TIER2: [BRIT], BOSS: [CHEF]},
    ),
    "nobody anywhere: every pass is skipped and admins told at once": Scenario(
        (OPEN,), "exhausted", (), None, logs=("step_skipped", "repeat", "exhausted"),
        admins=1, roster={},
    ),
    "an ack stops paging": Scenario(
        (OPEN, (60, Acknowledged("alex", "sms")), at(300)),
        "acknowledged",
        A1,
        1200,  # the reminder, 10 minutes before the 30-minute deadline
        logs=("acknowledged",),
    ),
    "an ack without an SLA deadline leaves no timer": Scenario(
        (OPEN, (60, Acknowledged("alex", "voice"))), "acknowledged", A1, None, sla_minutes=None
    ),
    "an ack from an analyst not paged is refused": Scenario(
        (OPEN, (60, Acknowledged("brit", "sms"))), "paging", A1, 300, logs=("ack_refused",)
    ),
    "an ack from the admin page is accepted from anyone": Scenario(
        (OPEN, (60, Acknowledged("desk-lead", "web"))), "acknowledged", A1, 1200
    ),
    "an ack before anyone was paged is refused": Scenario(
        ((0, Acknowledged("alex", "web")),), "pending", (), None, logs=("ack_refused",)
    ),
    "a late ack after exhaustion still acknowledges": Scenario(
        (OPEN, at(300), at(600), at(1200), at(1500), at(1800), at(2400),
         (2500, Acknowledged("brit", "sms"))),
        "acknowledged",
        A1 + B1 + C1 + A2 + B2 + C2,
        None,  # the reminder point (20 min) had passed
        logs=("exhausted", "acknowledged", "reminder_skipped"),
        admins=1,
    ),
    "a decline escalates at once": Scenario(
        (OPEN, (30, Declined("alex", "sms"))), "paging", A1 + B1, 330, logs=("declined",)
    ),
    "a decline from an earlier step changes nothing": Scenario(
        (OPEN, at(300), (310, Declined("alex", "voice"))), "paging", A1 + B1, 600,
        logs=("ignored",),
    ),
    "a decline by the acknowledger withdraws the ack and escalates": Scenario(
        (OPEN, (60, Acknowledged("alex", "sms")), (120, Declined("alex", "sms"))),
        "paging",
        A1 + B1,
        420,
        logs=("ack_withdrawn",),
    ),
    "escalate now from the admin page": Scenario(
        (OPEN, (30, Declined("desk-lead", "web"))), "paging", A1 + B1, 330, logs=("declined",)
    ),
    "a decline from someone never paged is refused": Scenario(
        (OPEN, (30, Declined("eve", "sms"))), "paging", A1, 300, logs=("decline_refused",)
    ),
    "voice unanswered while the SMS is delivered: the step waits": Scenario(
        (OPEN, (5, PageDelivered("0.0.alex.sms.1")), (40, PageNoAnswer("0.0.alex.voice.1"))),
        "paging", A1, 300, logs=("page_delivered", "page_no_answer"),
    ),
    "voice-only step answered by a machine: not a delivery, texted at once, the step waits":
    Scenario(
        (OPEN, (40, PageNoAnswer("0.0.alex.voice.1", "machine"))),
        "paging", ("0.0.alex.voice.1", "0.0.alex.sms.1"), 300,
        logs=("page_no_answer", "fallback"), policy=_policy(VOICE, VOICE, VOICE),
    ),
    "voice-only step busy: texted at once, the step waits": Scenario(
        (OPEN, (20, PageNoAnswer("0.0.alex.voice.1", "busy"))),
        "paging", ("0.0.alex.voice.1", "0.0.alex.sms.1"), 300,
        policy=_policy(VOICE, VOICE, VOICE),
    ),
    "voice-only step busy, and the text fails too: escalate at once": Scenario(
        (OPEN, (20, PageNoAnswer("0.0.alex.voice.1", "busy")),
         (21, PageUndelivered("0.0.alex.sms.1", 30005, False))),
        "paging", ("0.0.alex.voice.1", "0.0.alex.sms.1", "0.1.brit.voice.1"), 321,
        logs=("step_dead",), admins=1, policy=_policy(VOICE, VOICE, VOICE),
    ),
    "voice-only step answered by a human: delivered, the step waits": Scenario(
        (OPEN, (20, PageDelivered("0.0.alex.voice.1"))),
        "paging", ("0.0.alex.voice.1",), 300, policy=_policy(VOICE, VOICE, VOICE),
    ),
    "temporary failures retry after 1, 4, 15 and 40 s, then fall back to voice": Scenario(
        (OPEN,
         (1, PageFailed("0.0.alex.sms.1", 20429, True)), at(2),
         (3, PageFailed("0.0.alex.sms.2", None, True)), at(7),
         (8, PageFailed("0.0.alex.sms.3", 20503, True)), at(23),
         (24, PageFailed("0.0.alex.sms.4", None, True)), at(64),
         (65, PageFailed("0.0.alex.sms.5", None, True))),
        "paging",
        tuple(f"0.0.alex.sms.{n}" for n in range(1, 6)) + ("0.0.alex.voice.1",),
        300,
        logs=("page_retry", "page_retried", "page_failed", "fallback"),
        admins=1,  # the SMS page is given up
        policy=_policy(SMS, SMS, VOICE),
    ),
    "a permanent SMS failure falls back to voice at once, admins told": Scenario(
        (OPEN, (1, PageFailed("0.0.alex.sms.1", 21211, False))),
        "paging", ("0.0.alex.sms.1", "0.0.alex.voice.1"), 300, logs=("fallback",), admins=1,
        policy=_policy(SMS, SMS, VOICE),
    ),
    "a permanent voice failure falls back to SMS, admins told": Scenario(
        (OPEN, (1, PageFailed("0.0.alex.voice.1", 13224, False))),
        "paging", ("0.0.alex.voice.1", "0.0.alex.sms.1"), 300, logs=("fallback",), admins=1,
        policy=_policy(VOICE, VOICE, VOICE),
    ),
    "every channel failed: admins told of each page and the step, escalate at once": Scenario(
        (OPEN, (1, PageFailed("0.0.alex.sms.1", 21211, False)),
         (2, PageFailed("0.0.alex.voice.1", 13224, False))),
        "paging", A1 + B1, 302, logs=("step_dead",), admins=3,
    ),
    "sms failed and voice busy: nobody can be reached, escalate at once": Scenario(
        (OPEN, (1, PageFailed("0.0.alex.sms.1", 30006, False)),
         (30, PageNoAnswer("0.0.alex.voice.1", "busy"))),
        "paging", A1 + B1, 330, admins=1,  # the SMS; the call went out, unanswered
    ),
    "STOP from the analyst: SMS fails, voice carries on, admins told": Scenario(
        (OPEN, (10, OptedOut("alex"))), "paging", A1, 300, admins=1,
    ),
    "STOP on an SMS-only step falls back to voice": Scenario(
        (OPEN, (10, OptedOut("alex"))), "paging", ("0.0.alex.sms.1", "0.0.alex.voice.1"), 300,
        admins=1, policy=_policy(SMS, SMS, VOICE),
    ),
    "Twilio 21610 (opted out) is handled as STOP": Scenario(
        (OPEN, (1, PageFailed("0.0.alex.sms.1", 21610, False))),
        "paging", ("0.0.alex.sms.1", "0.0.alex.voice.1"), 300, admins=1,
        policy=_policy(SMS, SMS, VOICE),
    ),
    "an analyst known to have texted STOP is paged by voice and reported": Scenario(
        (OPEN,), "paging", ("0.0.alex.voice.1",), 300, logs=("fallback",), admins=1,
        policy=_policy(SMS, SMS, VOICE),
        roster={**ROSTER, TIER1: [replace(ALEX, sms_stopped=True)]},
    ),
    "an analyst with no usable number is reported and the step skipped": Scenario(
        (OPEN,), "paging", B1, 300, logs=("step_skipped",), admins=1,
        roster={**ROSTER, TIER1: [Recipient("ghost")]},
    ),
    "a callback ends everything": Scenario(
        (OPEN, (100, CallbackLogged("alex", "voice", is_reported=False)), at(300)),
        "called_back", A1, None, logs=("called_back", "ignored"),
    ),
    "a reported callback from someone never paged is refused": Scenario(
        (OPEN, (100, CallbackLogged("eve", "sms", is_reported=True))),
        "paging", A1, 300, logs=("callback_refused",),
    ),
    "resolved by an admin ends everything": Scenario(
        (OPEN, (100, Resolved("lead")), at(300), (301, Acknowledged("alex", "sms"))),
        "resolved", A1, None, logs=("resolved", "ignored"),
    ),
    "the reminder re-pages the acknowledger and warns the next step": Scenario(
        (OPEN, (60, Acknowledged("alex", "sms")), at(1200)),
        "acknowledged",
        A1 + ("reminder.alex.sms.1", "reminder.alex.voice.1",
              "warning.brit.sms.1", "warning.brit.voice.1"),
        None,
        logs=("reminder", "warned"),
    ),
    "a reminder with no next step to warn tells the admins": Scenario(
        (OPEN, at(300), at(600), (700, Acknowledged("boss", "voice")), at(1200)),
        "acknowledged",
        A1 + B1 + C1 + ("reminder.boss.voice.1",),
        None,
        admins=1,
    ),
    "the callback after a reminder ends it": Scenario(
        (OPEN, (60, Acknowledged("alex", "sms")), at(1200),
         (1300, CallbackLogged("alex", "sms", is_reported=True))),
        "called_back",
        A1 + ("reminder.alex.sms.1", "reminder.alex.voice.1",
              "warning.brit.sms.1", "warning.brit.voice.1"),
        None,
    ),
    "a zero-delay step pages the next step at the same time": Scenario(
        (OPEN,), "paging", A1 + B1, 300, policy=_policy(BOTH, BOTH, VOICE, delays=(0, 300, 600)),
    ),
    "a second Opened changes nothing": Scenario(
        (OPEN, (5, Opened())), "paging", A1, 300, logs=("ignored",)
    ),
    "events about unknown pages are logged and ignored": Scenario(
        (OPEN, (5, PageDelivered("9.9.nobody.sms.1")), (6, PageFailed("x", 1, True))),
        "paging", A1, 300, logs=("ignored",),
    ),
    "a status for an attempt already retried is stale and ignored": Scenario(
        (OPEN, (1, PageFailed("0.0.alex.sms.1", None, True)), at(6),
         (7, PageFailed("0.0.alex.sms.1", 21211, False))),
        "paging", A1 + ("0.0.alex.sms.2",), 300,
    ),
    "a retry due when the step times out still goes, then the next step": Scenario(
        (OPEN, (295, PageFailed("0.0.alex.sms.1", None, True)), at(300), at(310)),
        "paging", A1 + ("0.0.alex.sms.2",) + B1, 600, logs=("page_retried", "step_timed_out"),
    ),
    "a retry the next step supersedes is logged, not sent": Scenario(
        (OPEN, (1, PageFailed("0.0.alex.sms.1", None, True)), (1, Declined("alex", "voice")),
         at(2)),
        "paging", A1 + B1, 301, logs=("retry_superseded",),
    ),
}  # fmt: skip


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_scenario(scenario: Scenario) -> None:
    played = play(scenario.events, scenario.policy, scenario.roster, scenario.sla_minutes)
    assert played.state.status == scenario.status
    assert tuple(played.sent) == scenario.sent
    assert played.wake() == scenario.wake
    for kind in scenario.logs:
        assert kind in played.logs, f"{kind} not logged: {played.logs}"
    assert len(played.admin_reasons) == scenario.admins, played.admin_reasons
    _check_invariants(played)


def _check_invariants(played: Played) -> None:
    """Things every run must satisfy, whatever happened."""
    assert len(played.sent) == len(set(played.sent)), "a page key was sent twice"
    round_tripped = state_from_dict(json.loads(json.dumps(state_to_dict(played.state))))
    assert round_tripped == played.state
