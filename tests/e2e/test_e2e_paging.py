"""Paging end to end: the message is saved, the on-call analyst's phone gets the page from
the app or the worker, and what the analyst does decides what happens next.

Escalation steps in ``tests/e2e_directory.yaml`` wait seconds, and the worker is a real
process on the system clock, so these tests wait in real time for escalations.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from escalation.models import Acknowledgement, Page
from oncall.models import Analyst
from simulator.engine import Simulator
from tests.e2e_stack import (  # noqa: F401  (e2e_fixture, e2e_directory_fixture: fixtures)
    ALEX,
    JORDAN,
    LINE,
    PAT,
    EndToEnd,
    e2e_directory_fixture,
    e2e_fixture,
)
from voiceline.incidents.models import Incident
from voiceline.sla.models import SlaClock

pytest_plugins = ["simulator.testing"]
pytestmark = pytest.mark.e2e

STEP_SECONDS = 4  # the delay of every step in tests/e2e_directory.yaml
MESSAGE = "The server room is flooded and the phones are dead"


def report_emergency(sim: Simulator) -> None:
    """Call the line as Pat Jones of Acme Dental and leave an emergency message."""
    call = sim.phone(PAT, "Pat Jones").dial(LINE)
    call.press("1").say(MESSAGE).wait_out()
    call.expect_heard("will call you back within 30 minutes")


def acknowledger(e2e: EndToEnd) -> str:
    """Return the code of the analyst who acknowledged the incident."""
    with e2e.session() as session:
        ack = session.scalars(select(Acknowledgement)).one()
        code: str = session.get_one(Analyst, ack.analyst_id).code
        return code


def test_page_ack_and_bridge_stop_the_sla_clock_in_time(e2e: EndToEnd) -> None:
    report_emergency(e2e.sim)
    alex = e2e.sim.phone(ALEX, "Alex Rivera")
    alex.expect_sms("#1 EMERGENCY Acme Dental - Pat Jones")
    page = alex.expect_call(from_=LINE)
    page.answer()
    page.expect_heard("Emergency for Acme Dental").expect_heard(f"[recording] {MESSAGE}")
    page.press("2").expect_heard("Connecting you to Pat Jones")

    pat_phone = e2e.sim.phone(PAT)
    callback = pat_phone.expect_call(from_=LINE)  # the customer sees the support number
    callback.answer()
    assert page.waiting_for == "bridged"
    callback.say("Thanks for calling back so fast")
    page.expect_heard("Thanks for calling back so fast")
    page.hang_up()

    clock: SlaClock = e2e.wait_until(
        lambda s: s.scalars(select(SlaClock).where(SlaClock.stopped_at.is_not(None))).first(),
        what="the callback to stop the SLA clock",
    )
    assert clock.metric == "callback" and clock.is_met is True
    assert clock.wall_seconds is not None and clock.wall_seconds < 60
    assert clock.stopped_at is not None and clock.stopped_at <= clock.deadline_at
    [incident] = e2e.incidents()
    assert incident.acknowledged_at is not None and incident.callback_at is not None
    assert acknowledger(e2e) == "alex"

    # The acknowledgement ended the escalation: Tier 2 is never paged.
    time.sleep(STEP_SECONDS + 1.5)
    jordan = e2e.sim.phone(JORDAN)
    jordan.expect_no_sms()
    assert not jordan.calls


def test_no_ack_escalates_to_tier_2_who_acknowledges(e2e: EndToEnd) -> None:
    report_emergency(e2e.sim)
    alex = e2e.sim.phone(ALEX, "Alex Rivera")
    alex.expect_sms("#1 EMERGENCY")
    alex.expect_call(from_=LINE).decline()
    paged_tier_1 = time.monotonic()

    jordan = e2e.sim.phone(JORDAN, "Jordan Lee")
    jordan.expect_sms("#1 EMERGENCY Acme Dental", timeout=STEP_SECONDS + 6)
    assert time.monotonic() - paged_tier_1 >= STEP_SECONDS - 1.5  # the step's delay held
    page = jordan.expect_call(from_=LINE)
    page.answer().press("1")
    page.expect_heard("acknowledged")

    e2e.wait_until(
        lambda s: s.scalars(select(Acknowledgement)).first(), what="Jordan's acknowledgement"
    )
    assert acknowledger(e2e) == "jordan"
    [incident] = e2e.incidents()
    assert incident.acknowledged_at is not None and incident.callback_at is None
    with e2e.session() as session:
        clock = session.scalars(select(SlaClock)).one()
        assert clock.stopped_at is None  # acknowledged is not called back


def test_a_voicemail_box_answering_the_page_is_not_an_acknowledgement(e2e: EndToEnd) -> None:
    report_emergency(e2e.sim)
    alex = e2e.sim.phone(ALEX, "Alex Rivera")
    alex.expect_sms("#1 EMERGENCY")
    voicemail = alex.expect_call(from_=LINE).answer_by_machine("machine_end_beep")

    page: Page = e2e.wait_until(
        lambda s: s.scalars(
            select(Page).filter_by(channel="voice", to_number=ALEX, answered_by="machine_end_beep")
        ).first(),
        what="the answering-machine report on Alex's voice page",
    )
    assert page.status not in ("delivered", "acknowledged")

    jordan = e2e.sim.phone(JORDAN, "Jordan Lee")
    text = jordan.expect_sms("#1 EMERGENCY", timeout=STEP_SECONDS + 6)
    with e2e.session() as session:
        assert session.scalars(select(Incident)).one().acknowledged_at is None
        assert session.scalars(select(Acknowledgement)).first() is None
    ringing = jordan.expect_call(from_=LINE)
    text.reply("1A")
    jordan.expect_sms("is yours")
    ringing.decline()
    voicemail.hang_up()

    e2e.wait_until(
        lambda s: s.scalars(select(Acknowledgement)).first(), what="Jordan's acknowledgement"
    )
    assert acknowledger(e2e) == "jordan"
