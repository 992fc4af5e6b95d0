"""The emergency line, walked branch by branch with signed webhooks.

Each test asserts what the caller hears (the TwiML) and the rows the call leaves.
The example directory is loaded: Acme Dental (Diamond, 24x7 cover, Oregon), Harbor Law
(Pro, business hours only, New York), Thames Print (Cat2, cover 07:00-23:00, London) and
Bayside Cafe (ad hoc, billable, California).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from line_desk import ALICE, CHRIS, LA, LEE, LONDON, PAT, STRANGER, count, events, incidents
from sqlalchemy import select

from escalation.wiring import settle
from voiceline import extensions
from voiceline.clock import ManualClock
from voiceline.incidents.models import IncidentEvent, Recording
from voiceline.line.models import Call

# --- covered, after hours --------------------------------------------------------------


def test_covered_emergency_after_hours(line, caller, clock: ManualClock) -> None:
    call = caller(PAT)
    menu = call.dial()
    assert "If your business is down" in menu.says() and "press 1" in menu.says()
    assert menu.verbs() == ["Say", "Gather", "Redirect"]
    record = call.press("1")
    assert "After the tone, please describe the problem" in record.says()
    rec = record.one("Record")
    assert rec.get("maxLength") == "300"
    assert rec.get("recordingStatusCallbackEvent") == "completed absent"
    assert "priority=emergency" in rec.get("action", "")
    assert record.verbs()[-1] == "Redirect"  # an empty recording falls through to it
    clock.advance(timedelta(seconds=40))
    finished = clock.now()
    thanks, recording_sid = call.leave_message()
    assert "will call you back within 30 minutes" in thanks.says()
    assert thanks.verbs()[-1] == "Hangup"
    # Paging starts on a thread of its own once the message is committed: let it run.
    assert settle(line)
    [incident] = incidents(line)
    assert incident.priority == "emergency"
    assert incident.call_sid == call.call_sid
    assert incident.clock_started_at == finished
    assert incident.deadline_at == finished + timedelta(minutes=30)
    assert (incident.target_minutes, incident.target_clock) == (30, "wall")
    # Paged at once: handed over as the message was saved, and its escalation began with
    # the clock still there, so no timer had to pass (its log says so, below).
    with extensions.database(line).session() as session:
        handed_over = session.scalars(
            select(IncidentEvent.at).filter_by(
                incident_id=incident.id, kind="handed_over_to_paging"
            )
        ).one()
    assert handed_over == finished
    logged = events(line, incident.id)
    assert logged[:4] == [
        "opened",
        "message_recorded",
        "handed_over_to_paging",
        "escalation_started",
    ]
    assert count(line, Recording) == 1


def test_covered_caller_chooses_next_business_day(line, caller) -> None:
    call = caller(PAT)
    call.dial()
    prompt = call.press("2")
    assert "We will call you back tomorrow morning at 8:00." in prompt.says()
    thanks, _ = call.leave_message()
    assert "We will call you back" in thanks.says()
    [incident] = incidents(line)
    assert incident.priority == "standard"
    assert incident.next_due_at is None  # not paged at night
    assert (incident.target_minutes, incident.target_clock) == (240, "business")
    # Sunday 02:00 PST + 4 business hours (Mon-Fri 08:00-16:30) = Monday 12:00 PST
    assert incident.deadline_at == datetime(2026, 11, 23, 12, 0, tzinfo=LA).astimezone(UTC)


def test_no_input_repeats_the_menu_once_then_takes_a_message(line, caller) -> None:
    call = caller(PAT)
    call.dial()
    again = call.no_input()
    assert "Sorry, I did not get that" in again.says()
    assert "attempt=2" in again.one("Gather").get("action", "")
    message = call.no_input()
    assert message.has("Record")
    assert "priority=emergency" in message.one("Record").get("action", "")
    assert not message.has("Hangup")


def test_an_invalid_key_counts_as_an_attempt(line, caller) -> None:
    call = caller(PAT)
    call.dial()
    assert "Sorry" in call.press("7").says()


# --- not covered ----------------------------------------------------------------------


def test_uncovered_plan_without_billable_takes_a_next_business_day_message(line, caller) -> None:
    call = caller(LEE)  # Pro plan, New York, Sunday 05:00 EST
    twiml = call.dial()
    assert not twiml.has("Gather")
    assert "We will call you back tomorrow morning at 8:00." in twiml.says()
    call.leave_message()
    [incident] = incidents(line)
    assert incident.priority == "standard" and incident.next_due_at is None


def test_uncovered_caller_accepts_billable_support(line, caller, clock) -> None:
    call = caller(CHRIS)  # ad hoc plan, California
    menu = call.dial()
    assert "billed at 1.5x the standard rate" in menu.says()
    consent_at = clock.now()
    call.press("1")
    thanks, _ = call.leave_message()
    assert "will call you back within 1 hour" in thanks.says()
    [incident] = incidents(line)
    assert incident.priority == "billable"
    assert incident.next_due_at is not None  # a billable emergency is paged
    assert "billable_consent" in events(line, incident.id)
    with extensions.database(line).session() as session:
        stored = session.scalars(select(Call).filter_by(call_sid=call.call_sid)).one()
        assert stored.billable_consent_at == consent_at
        assert stored.choice == "billable"
        consent = session.scalars(
            select(IncidentEvent).filter_by(incident_id=incident.id, kind="billable_consent")
        ).one()
        assert consent.actor == CHRIS and consent.detail["rate"] == "1.5x"


def test_uncovered_caller_declines_billable_support(line, caller) -> None:
    call = caller(CHRIS)
    call.dial()
    call.press("2")
    call.leave_message()
    [incident] = incidents(line)
    assert incident.priority == "standard" and incident.next_due_at is None


# --- business hours, DST, holidays ------------------------------------------------------


def test_business_hours_put_the_caller_through_to_the_desk(line, caller, clock) -> None:
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=LA))  # Monday 10:00
    call = caller(PAT)
    twiml = call.dial()
    assert "Connecting you to the support desk" in twiml.says()
    dial = twiml.one("Dial")
    assert dial.find("Number").text == "+15035550199"
    # nobody answers: a 24x7-covered customer still gets the emergency menu
    missed = call.post("/twilio/voice/desk", DialCallStatus="no-answer")
    assert "could not take your call" in missed.says()
    assert "If your business is down" in missed.says()
    call.press("1")
    call.leave_message()
    [incident] = incidents(line)
    assert incident.priority == "emergency"


def test_a_busy_desk_takes_a_message_for_a_plan_without_cover(line, caller, clock) -> None:
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("America/New_York")))
    call = caller(LEE)  # Pro: business hours only
    assert call.dial().has("Dial")
    missed = call.post("/twilio/voice/desk", DialCallStatus="no-answer")
    assert "could not take your call" in missed.says()
    assert missed.has("Record") and not missed.has("Gather")
    call.leave_message()
    [incident] = incidents(line)
    assert incident.priority == "standard"


def test_desk_missed_and_caller_hung_up_before_the_beep(line, caller, clock) -> None:
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=LA))
    call = caller(PAT)
    call.dial()
    call.post("/twilio/voice/desk", DialCallStatus="busy")
    assert call.hang_up() == 204
    [incident] = incidents(line)
    assert incident.priority == "standard"
    assert incident.summary.startswith("Missed next-business-day call from Pat Jones")


def test_desk_answered_ends_the_call_without_an_incident(line, caller, clock) -> None:
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=LA))
    call = caller(PAT)
    call.dial()
    done = call.post("/twilio/voice/desk", DialCallStatus="completed", DialCallDuration="300")
    assert done.verbs() == ["Hangup"]
    call.hang_up()
    assert incidents(line) == []


@pytest.mark.parametrize(
    "when, expect_desk",
    [
        # Monday after US spring-forward: 15:00 UTC is 08:00 PDT, the desk is open
        (datetime(2026, 3, 9, 15, 0, tzinfo=UTC), True),
        # the Monday before: 15:00 UTC is 07:00 PST, still after hours
        (datetime(2026, 3, 2, 15, 0, tzinfo=UTC), False),
        # the fall-back night, 01:30 PDT and 01:30 PST: both after hours
        (datetime(2026, 11, 1, 8, 30, tzinfo=UTC), False),
        (datetime(2026, 11, 1, 9, 30, tzinfo=UTC), False),
        # Thanksgiving 10:00 is a holiday: after hours, the emergency menu
        (datetime(2026, 11, 26, 10, 0, tzinfo=LA), False),
        # the Friday after Thanksgiving is not an Oregon or federal holiday: desk
        (datetime(2026, 11, 27, 10, 0, tzinfo=LA), True),
    ],
)
def test_the_moment_decides_in_the_customers_zone(line, caller, clock, when, expect_desk):
    clock.set(when)
    twiml = caller(PAT).dial()
    assert twiml.has("Dial") is expect_desk
    assert twiml.has("Gather") is not expect_desk


@pytest.mark.parametrize(
    "local, menu",
    [
        (datetime(2026, 10, 25, 6, 30, tzinfo=LONDON), "billable"),  # before cover, GMT day
        (datetime(2026, 10, 25, 7, 0, tzinfo=LONDON), "emergency"),  # cover starts 07:00 GMT
        (datetime(2026, 10, 25, 22, 59, tzinfo=LONDON), "emergency"),
        (datetime(2026, 10, 25, 23, 1, tzinfo=LONDON), "billable"),
        (datetime(2026, 12, 28, 12, 0, tzinfo=LONDON), "emergency"),  # Boxing Day substitute
    ],
)
def test_a_london_customer_on_a_07_to_23_plan(line, caller, clock, local, menu) -> None:
    clock.set(local)
    twiml = caller(ALICE).dial()
    assert twiml.has("Gather")
    expected = "If your business is down" if menu == "emergency" else "billed at 1.5x"
    assert expected in twiml.says()


# --- unknown and withheld callers -------------------------------------------------------


@pytest.mark.parametrize("number", [STRANGER, "Anonymous", "+266696687", "", "12ab"])
def test_unknown_or_withheld_callers_are_asked_who_they_are(line, caller, number) -> None:
    call = caller(number)
    twiml = call.dial()
    assert "could not match the number" in twiml.says()
    assert "your company" in twiml.says()
    assert "priority=unverified" in twiml.one("Record").get("action", "")
    thanks, _ = call.leave_message()
    assert "We will call you back as soon as we can" in thanks.says()
    [incident] = incidents(line)
    assert incident.priority == "unverified" and incident.customer_id is None
    assert incident.caller_number == (STRANGER if number == STRANGER else None)
    assert incident.next_due_at is None  # unverified callers are not paged by default


@pytest.mark.parametrize(
    "raw", ["(503) 555-0111", "+1 (503) 555-0111", "503.555.0111", "+15035550111"]
)
def test_caller_id_formats_are_matched(line, caller, raw: str) -> None:
    twiml = caller(raw).dial()
    assert "If your business is down" in twiml.says()
