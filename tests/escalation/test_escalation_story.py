"""End to end through the simulator: a caller's voicemail, pages, acks, the bridge back.

The app runs in-process behind the simulator's signed webhooks and talks to the
simulator's REST API over loopback; both share one manual clock. The worker's tick
(``run_due``) is called when the story moves time on, as the worker would call it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from escalation.due import run_due
from escalation.wiring import paging_for
from simulator.clock import ManualClock
from simulator.engine import Simulator
from tests.conftest import (
    LINE_NUMBER,
    PUBLIC_URL,
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    app_config,
)
from tests.escalation_helpers import (
    CASEY,
    MORGAN,
    PAT,
    SAM,
    incident,
    kinds,
    load_example,
    pages,
    quiet,
    settled,
    state,
)
from voiceline.app import create_app

pytest_plugins = ["simulator.testing"]


class Story:
    """The simulator, the app and their shared clock."""

    def __init__(self, sim: Simulator, app: Flask, clock: ManualClock) -> None:
        self.sim, self.app, self.clock = sim, app, clock

    def leave_emergency(self, number: str = PAT, words: str = "the server room is flooded") -> int:
        """Call the line, press 1, leave a message, hang up; return the incident number."""
        leg = self.sim.phone(number).dial(LINE_NUMBER)
        leg.expect_heard("press 1")
        leg.press("1").say(words).hang_up()
        incident_id = max(pages_of_any(self.app))
        settled(self.app, incident_id)
        return incident_id

    def wait(self, **parts: float) -> None:
        """Let time pass and run the worker's tick, as the worker would."""
        quiet(self.app)
        self.clock.advance(timedelta(**parts))
        run_due(paging_for(self.app))
        quiet(self.app)


def pages_of_any(app: Flask) -> list[int]:
    from voiceline import extensions
    from voiceline.incidents.models import Incident

    with extensions.database(app).session() as session:
        return [row.id for row in session.query(Incident).all()]


@pytest.fixture
def story(make_sim: Callable[..., Simulator], database_url: str, tmp_path: Path) -> Iterator[Story]:
    clock = ManualClock(datetime(2026, 11, 22, 10, 0, tzinfo=UTC))  # Sun 02:00 in Oregon
    holder: dict[str, Any] = {}

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return holder["app"](environ, start_response)

    sim = make_sim(
        wsgi,
        app_url=PUBLIC_URL,
        line=LINE_NUMBER,
        account_sid=TEST_ACCOUNT_SID,
        auth_token=TEST_AUTH_TOKEN,
        clock=clock,
    )
    config = app_config(database_url, sim.base_url, VOICELINE_SPOOL_DIR=str(tmp_path / "spool"))
    app = create_app(config, clock=clock)
    holder["app"] = app
    load_example(app)
    yield Story(sim, app, clock)
    quiet(app)


def test_voicemail_pages_tier_1_then_tier_2_whose_ack_stops_it_and_bridge_logs_callback(
    story: Story,
) -> None:
    number = story.leave_emergency()
    opened = story.clock.now()
    sam = story.sim.phone(SAM)
    sms = sam.expect_sms(contains=f"#{number} EMERGENCY Acme Dental - Pat Jones")
    assert f"Reply {number}A ack" in sms.body
    sam.expect_call(from_=LINE_NUMBER).no_answer()
    casey = story.sim.phone(CASEY)
    story.wait(minutes=4, seconds=59)
    casey.expect_no_sms()
    story.wait(seconds=1)
    casey_sms = casey.expect_sms(contains=f"#{number} EMERGENCY")
    casey_call = casey.expect_call(from_=LINE_NUMBER)
    tier2 = pages(story.app, number)["0.1.casey.sms.1"]
    assert tier2.sent_at == opened + timedelta(minutes=5)  # on time, to the second
    casey_sms.reply("A")
    assert "is yours. Call Pat Jones" in casey.expect_sms(contains=f"#{number} is yours").body
    story.wait(minutes=10)
    story.sim.phone(MORGAN).expect_no_sms()
    # The voice page still ringing reaches Casey, who is connected to the caller.
    casey_call.answer()
    casey_call.expect_heard(f"Incident {number}").expect_heard("the server room is flooded")
    casey_call.press("2")
    pat = story.sim.phone(PAT)
    bridge = pat.expect_call(from_=LINE_NUMBER)
    bridge.answer()
    bridged_at = story.clock.now()
    bridge.say("Hello, this is Casey's caller").hang_up()
    quiet(story.app)
    row = incident(story.app, number)
    assert row.callback_at == bridged_at and row.callback_kind == "bridge"
    assert state(story.app, number).status == "called_back"
    assert row.next_due_at is None
    log = kinds(story.app, number)
    for kind in ("step_started", "step_timed_out", "acknowledged", "bridge_started", "called_back"):
        assert kind in log


def test_a_voicemail_box_answering_the_page_does_not_stop_the_escalation(
    story: Story,
) -> None:
    number = story.leave_emergency()
    sam = story.sim.phone(SAM)
    sam.expect_sms(contains="EMERGENCY")
    voicemail = sam.expect_call().answer_by_machine("machine_end_beep")
    voicemail.wait_out()  # the readout runs into the box; the next document is the message
    voicemail.expect_heard(f"Emergency incident {number}, for Acme Dental, needs an analyst now")
    assert voicemail.is_ended
    quiet(story.app)
    assert pages(story.app, number)["0.0.sam.voice.1"].answered_by == "machine_end_beep"
    page = state(story.app, number).find_page("0.0.sam.voice.1")
    assert page is not None and page.status == "no_answer"  # the engine heard it was a machine
    assert "page_machine" in kinds(story.app, number)
    assert state(story.app, number).status == "paging"
    story.wait(minutes=5)
    story.sim.phone(CASEY).expect_sms(contains="EMERGENCY")
    story.sim.phone(CASEY).expect_call()


def test_an_ack_hangs_up_the_other_pages_still_ringing(story: Story) -> None:
    number = story.leave_emergency()
    sam = story.sim.phone(SAM)
    sam.expect_sms(contains="EMERGENCY").reply("E")  # Sam cannot take it: Tier 2 now
    sam.expect_sms(contains="paging the next tier")
    sam_call = sam.expect_call()
    casey = story.sim.phone(CASEY)
    casey.expect_sms(contains=f"#{number} EMERGENCY").reply("A")
    casey.expect_sms(contains="is yours")
    casey_call = casey.expect_call()
    quiet(story.app)
    story.sim.pump()
    assert sam_call.status == "canceled"  # hung up while ringing: Casey has it
    assert casey_call.waiting_for == "ringing"  # the acknowledger's own page is left alone
    casey_call.decline()


def test_an_ack_from_a_phone_that_was_not_paged_is_refused(story: Story) -> None:
    number = story.leave_emergency()
    story.sim.phone(SAM).expect_sms(contains="EMERGENCY")
    story.sim.phone(SAM).expect_call()
    casey = story.sim.phone(CASEY)
    casey.send_sms(LINE_NUMBER, f"{number}A")
    assert casey.expect_sms(contains="not paged").from_ == LINE_NUMBER
    assert state(story.app, number).status == "paging"


def test_stop_then_a_page_goes_by_voice_only(story: Story) -> None:
    sam = story.sim.phone(SAM)
    sam.send_sms(LINE_NUMBER, "STOP")
    sam.expect_no_sms()  # Twilio answers STOP itself; we stay silent
    number = story.leave_emergency()
    sam.expect_call().answer().press("1")
    sam.expect_no_sms()
    assert state(story.app, number).acknowledged_by == "sam"
    assert "sam" in state(story.app, number).sms_stopped


def test_twilio_500_then_success(story: Story) -> None:
    story.sim.fail_next("sms", to=SAM, status=500, code=20500)
    number = story.leave_emergency()
    sam = story.sim.phone(SAM)
    sam.expect_call()
    sam.expect_no_sms()
    story.wait(seconds=5)
    sam.expect_sms(contains=f"#{number} EMERGENCY")
    sam.expect_no_sms()


def test_duplicate_status_callbacks_change_nothing(story: Story) -> None:
    story.sim.duplicate_callbacks = True
    number = story.leave_emergency()
    sam = story.sim.phone(SAM)
    sam.expect_sms(contains="EMERGENCY")
    sam.expect_call().busy()
    quiet(story.app)
    log = kinds(story.app, number)
    assert log.count("page_delivered") == 1 and log.count("page_no_answer") == 1
    assert pages(story.app, number)["0.0.sam.sms.1"].status == "delivered"
