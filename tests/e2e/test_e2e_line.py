"""The emergency line end to end: a caller on a simulated phone, the app under gunicorn,
the worker running, and the rows and pages the call leaves behind.

The directory (``tests/e2e_directory.yaml``) keeps no office hours, so every call is
after hours whenever the suite runs.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from simulator.phones import Phone
from tests.e2e_stack import (  # noqa: F401  (e2e_fixture, e2e_directory_fixture: fixtures)
    ALEX,
    CHRIS,
    LINE,
    PAT,
    STRANGER,
    EndToEnd,
    e2e_directory_fixture,
    e2e_fixture,
)
from voiceline.incidents.models import Incident, IncidentEvent
from voiceline.line.models import Call
from voiceline.sla.models import SlaClock

pytest_plugins = ["simulator.testing"]
pytestmark = pytest.mark.e2e


def event_kinds(e2e: EndToEnd, incident_id: int) -> list[str]:
    """Return the kinds of an incident's log entries, oldest first."""
    with e2e.session() as session:
        return list(
            session.scalars(
                select(IncidentEvent.kind)
                .filter_by(incident_id=incident_id)
                .order_by(IncidentEvent.id)
            )
        )


def acknowledge_by_text(analyst: Phone, contains: str) -> None:
    """Take the analyst's SMS page and call, and acknowledge by replying A."""
    page = analyst.expect_sms(contains)
    ringing = analyst.expect_call()
    page.reply("A")
    analyst.expect_sms("is yours")
    ringing.decline()  # acknowledged by text: the page call is no longer needed


def test_an_unknown_caller_is_asked_who_they_are_and_recorded(e2e: EndToEnd) -> None:
    stranger = e2e.sim.phone(STRANGER, "A stranger")
    call = stranger.dial(LINE)
    call.expect_heard("could not match the number")
    call.say("This is Dana from Mill Street Vets, our phones are down, call 503 555 0177")
    call.wait_out()
    call.expect_heard("We will call you back as soon as we can")
    assert call.is_ended
    [incident] = e2e.incidents()
    assert incident.priority == "unverified" and incident.customer_id is None
    assert incident.caller_number == STRANGER
    assert incident.next_due_at is None  # not paged: no analyst's phone rings


def test_a_covered_emergency_message_opens_an_incident_with_its_sla_clock(e2e: EndToEnd) -> None:
    pat = e2e.sim.phone(PAT, "Pat Jones")
    call = pat.dial(LINE)
    call.expect_heard("If your business is down and you need an analyst now, press 1")
    call.press("1").expect_heard("After the tone")
    call.say("The server room is flooded and nothing is reachable").wait_out()
    call.expect_heard("will call you back within 30 minutes")
    [incident] = e2e.incidents()
    assert incident.priority == "emergency"
    assert incident.summary.startswith("Emergency message from Pat Jones (Acme Dental)")
    with e2e.session() as session:
        clock = session.scalars(select(SlaClock).filter_by(incident_id=incident.id)).one()
        assert (clock.metric, clock.clock, clock.target_minutes) == ("callback", "wall", 30)
        assert clock.deadline_at - clock.started_at == timedelta(minutes=30)
        assert clock.stopped_at is None
    assert "handed_over_to_paging" in event_kinds(e2e, incident.id)
    acknowledge_by_text(e2e.sim.phone(ALEX), "#1 EMERGENCY Acme Dental")


def test_an_uncovered_caller_accepts_billable_support(e2e: EndToEnd) -> None:
    chris = e2e.sim.phone(CHRIS, "Chris Moreno")
    call = chris.dial(LINE)
    call.expect_heard("billed at 1.5x the standard rate")
    call.press("1")
    call.say("The card terminals are down, we open in an hour").wait_out()
    call.expect_heard("will call you back within 1 hour")
    [incident] = e2e.incidents()
    assert incident.priority == "billable"
    assert "billable_consent" in event_kinds(e2e, incident.id)
    with e2e.session() as session:
        stored = session.scalars(select(Call).filter_by(call_sid=call.sid)).one()
        assert stored.choice == "billable" and stored.billable_consent_at is not None
        consent = session.scalars(
            select(IncidentEvent).filter_by(incident_id=incident.id, kind="billable_consent")
        ).one()
        assert consent.actor == CHRIS and consent.detail["rate"] == "1.5x"
    acknowledge_by_text(e2e.sim.phone(ALEX), "Bayside Cafe")


def test_hanging_up_before_the_beep_still_pages_a_missed_emergency(e2e: EndToEnd) -> None:
    pat = e2e.sim.phone(PAT, "Pat Jones")
    call = pat.dial(LINE)
    call.expect_heard("press 1")
    call.hang_up()
    incident: Incident = e2e.wait_until(
        lambda session: session.scalars(select(Incident)).one_or_none(),
        what="the missed-call incident",
    )
    assert incident.priority == "emergency"
    assert incident.summary.startswith("Missed emergency call from Pat Jones (Acme Dental)")
    with e2e.session() as session:
        assert session.scalars(select(Call).filter_by(call_sid=call.sid)).one().incident_id
    acknowledge_by_text(e2e.sim.phone(ALEX), "Acme Dental")
