"""A storm paging one analyst by voice, end to end through the simulator.

Several customers leave emergencies at the same moment. The first is paged at once in a
call of its own; the rest ride one bundled call when the phone's rate allows. That call
reads each incident in turn and offers 1 (take them all), 2 (take them all and be
connected to the callers one after another) and 3 (escalate them all). The app runs
in-process behind the simulator's signed webhooks; a manual clock is shared by both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from escalation.dispatch import handle
from escalation.due import run_due
from escalation.events import Acknowledged
from escalation.models import Acknowledgement, Page
from escalation.throttle import VOICE_LIMITS
from escalation.wiring import paging_for
from simulator.clock import ManualClock
from simulator.engine import Simulator
from simulator.phones import CallLeg
from tests.conftest import LINE_NUMBER, PUBLIC_URL, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, app_config
from tests.escalation_helpers import CASEY, SAM, desk, events, incident, load_text, quiet, state
from voiceline import extensions
from voiceline.app import create_app
from voiceline.incidents.models import Incident

pytest_plugins = ["simulator.testing"]

VOICE_ONLY = """\
      - {targets: [{on_call: tier1}], channels: voice, delay: 5m}
      - {targets: [{on_call: tier2}], channels: voice, delay: 5m}"""
CALLERS = ["+15035550111", "+15035550112", "+15035550113", "+15035550114"]
NAMES = ["Pat Jones", "Caller 2", "Caller 3", "Caller 4"]
CUSTOMERS = ["Acme Dental", "Customer 2", "Customer 3", "Customer 4"]
MORE_CUSTOMERS = "".join(
    f"""  - code: c{n}
    name: Customer {n}
    time_zone: America/Los_Angeles
    plan: diamond
    escalation_policy: standard
    contacts:
      - {{name: Caller {n}, phone: "{number}", role: primary}}
"""
    for n, number in enumerate(CALLERS[1:], start=2)
)


class Storm:
    """The simulator, the app, their clock and the incidents of one burst."""

    def __init__(self, sim: Simulator, app: Any, clock: ManualClock) -> None:
        self.sim, self.app, self.clock = sim, app, clock
        self.incidents: list[int] = []

    def burst(self) -> list[int]:
        """Every caller leaves an emergency at the same moment; return the incidents."""
        for number, name in zip(CALLERS, NAMES, strict=True):
            leg = self.sim.phone(number).dial(LINE_NUMBER)
            leg.expect_heard("press 1")
            leg.press("1").say(f"{name}: our network is down").hang_up()
            quiet(self.app)
        with extensions.database(self.app).session() as session:
            self.incidents = list(session.scalars(select(Incident.id).order_by(Incident.id)))
        assert len(self.incidents) == len(CALLERS)
        return self.incidents

    def wait(self, **parts: float) -> None:
        """Let time pass and run the worker's tick, as the worker would."""
        quiet(self.app)
        self.clock.advance(timedelta(**parts))
        run_due(paging_for(self.app))
        quiet(self.app)

    def first_call_taken(self) -> None:
        """Sam takes the first incident's own call (it went with no added delay)."""
        call = self.sim.phone(SAM).expect_call(from_=LINE_NUMBER).answer()
        call.expect_heard(f"Incident {self.incidents[0]}")
        call.press("1").expect_heard("is acknowledged")
        quiet(self.app)

    def bundled_call(self) -> CallLeg:
        """Return Sam's bundled call for the rest, answered, once the rate allows it."""
        self.wait(seconds=VOICE_LIMITS.min_gap.total_seconds())
        return self.sim.phone(SAM).expect_call(from_=LINE_NUMBER).answer()


@pytest.fixture
def storm(make_sim: Callable[..., Simulator], database_url: str, tmp_path: Path) -> Iterator[Storm]:
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
    load_text(app, desk(VOICE_ONLY) + MORE_CUSTOMERS)
    yield Storm(sim, app, clock)
    quiet(app)


def voice_pages_of(storm: Storm, incident_id: int) -> list[Page]:
    with extensions.database(storm.app).session() as session:
        found = list(session.scalars(select(Page).filter_by(incident_id=incident_id)))
        session.expunge_all()
        return found


def test_one_bundled_call_reads_each_incident_and_1_acknowledges_them_all(storm: Storm) -> None:
    first, *rest = storm.burst()
    storm.first_call_taken()
    call = storm.bundled_call()
    call.expect_heard(f"{len(rest)} emergencies")
    for n, incident_id in enumerate(rest, start=1):
        call.expect_heard(f"Incident {incident_id}, for {CUSTOMERS[n]}")
        call.expect_heard(f"{NAMES[n]} called")
        call.expect_heard(f"[recording] {NAMES[n]}: our network is down")
    call.expect_heard(f"Press 1 to acknowledge all {len(rest)}")
    call.press("1")
    call.expect_heard(f"All {len(rest)} are acknowledged")
    quiet(storm.app)

    lead = voice_pages_of(storm, rest[0])[0]
    for incident_id in rest:
        assert state(storm.app, incident_id).acknowledged_by == "sam"
        assert incident(storm.app, incident_id).next_due_at is None or (
            state(storm.app, incident_id).status == "acknowledged"
        )
        [reached] = [d for k, d in events(storm.app, incident_id) if k == "bundle_acknowledged"]
        assert reached["call"] == lead.provider_sid and reached["bundle"] == rest
        [page] = voice_pages_of(storm, incident_id)
        assert reached["key"] == page.page_key and page.answered_by == "human"
    with extensions.database(storm.app).session() as session:
        acks = list(session.scalars(select(Acknowledgement)))
        assert sorted(a.incident_id for a in acks) == [first, *rest]
        assert {a.via for a in acks} == {"voice"}
    for ack in acks:  # each names the page that reached it: its own call, or the bundle's row
        [page] = voice_pages_of(storm, ack.incident_id)
        assert ack.page_id == page.id
    storm.wait(minutes=5, seconds=1)
    assert storm.sim.phone(CASEY).calls == []  # every named escalation stopped
    storm.wait(minutes=10)
    assert storm.sim.phone(CASEY).calls == []


def test_2_connects_the_analyst_to_each_caller_in_turn_skipping_one_who_does_not_answer(
    storm: Storm,
) -> None:
    _, *rest = storm.burst()
    storm.first_call_taken()
    call = storm.bundled_call()
    call.press("2")
    call.expect_heard(f"All {len(rest)} are acknowledged")
    call.expect_heard(f"Connecting you to {NAMES[1]}")

    answered = storm.sim.phone(CALLERS[1]).expect_call(from_=LINE_NUMBER).answer()
    first_bridge_at = storm.clock.now()
    assert call.waiting_for == "bridged"
    answered.say("Thanks for calling back").hang_up()
    quiet(storm.app)
    call.expect_heard(f"Connecting you to {NAMES[2]}")

    storm.sim.phone(CALLERS[2]).expect_call(from_=LINE_NUMBER).no_answer()
    quiet(storm.app)
    call.expect_heard(f"{NAMES[2]} did not answer")
    call.expect_heard(f"Connecting you to {NAMES[3]}")

    storm.clock.advance(timedelta(seconds=40))
    last = storm.sim.phone(CALLERS[3]).expect_call(from_=LINE_NUMBER).answer()
    last_bridge_at = storm.clock.now()
    last.say("We are back up, thanks").hang_up()
    quiet(storm.app)
    call.expect_heard("That was the last caller")
    call.expect_heard(f"Please call {NAMES[2]} back")

    one, skipped, other = rest
    assert incident(storm.app, one).callback_at == first_bridge_at
    assert incident(storm.app, other).callback_at == last_bridge_at
    assert incident(storm.app, one).callback_kind == "bridge"
    assert state(storm.app, one).status == "called_back"
    assert incident(storm.app, skipped).callback_at is None
    assert state(storm.app, skipped).acknowledged_by == "sam"
    assert "bridge_failed" in [k for k, _ in events(storm.app, skipped)]
    for incident_id in rest:
        assert "bridge_started" in [k for k, _ in events(storm.app, incident_id)]


def test_an_incident_another_analyst_took_is_not_acknowledged_again_and_the_call_says_so(
    storm: Storm,
) -> None:
    _, *rest = storm.burst()
    storm.first_call_taken()
    call = storm.bundled_call()
    call.expect_heard(f"Press 1 to acknowledge all {len(rest)}")
    taken = rest[1]
    # While Sam listens, Casey takes one by phone and an admin records it.
    handle(paging_for(storm.app), taken, Acknowledged("casey", "web"))
    quiet(storm.app)
    call.press("1")
    call.expect_heard(f"{len(rest) - 1} are acknowledged")
    call.expect_heard(f"Incident {taken} was already taken by Casey Nguyen")
    quiet(storm.app)
    assert state(storm.app, taken).acknowledged_by == "casey"
    assert "bundle_acknowledged" not in [k for k, _ in events(storm.app, taken)]
    for incident_id in set(rest) - {taken}:
        assert state(storm.app, incident_id).acknowledged_by == "sam"
    with extensions.database(storm.app).session() as session:
        takers = session.scalars(select(Acknowledgement.analyst_id).filter_by(incident_id=taken))
        assert len(list(takers)) == 1


def test_a_call_answered_after_one_was_taken_reads_only_the_others(storm: Storm) -> None:
    _, *rest = storm.burst()
    storm.first_call_taken()
    taken = rest[0]
    storm.wait(seconds=VOICE_LIMITS.min_gap.total_seconds())
    ringing = storm.sim.phone(SAM).expect_call(from_=LINE_NUMBER)
    handle(paging_for(storm.app), taken, Acknowledged("casey", "web"))
    quiet(storm.app)
    ringing.answer()
    ringing.expect_heard(f"Incident {taken} is already taken by Casey Nguyen")
    ringing.expect_heard(f"Press 1 to acknowledge all {len(rest) - 1}")
    assert f"[recording] {NAMES[1]}" not in ringing.transcript
    ringing.press("1").expect_heard(f"{len(rest) - 1} are acknowledged")
    ringing.expect_heard(f"Incident {taken} was already taken by Casey Nguyen")
    quiet(storm.app)
    assert state(storm.app, taken).acknowledged_by == "casey"


def test_3_escalates_every_incident_read_that_nobody_took(storm: Storm) -> None:
    _, *rest = storm.burst()
    storm.first_call_taken()
    call = storm.bundled_call()
    call.press("3")
    call.expect_heard(f"paging the next tier for incidents {rest[0]}, {rest[1]} and {rest[2]}")
    quiet(storm.app)
    for incident_id in rest:
        assert state(storm.app, incident_id).acknowledged_by is None
        assert "declined" in [k for k, _ in events(storm.app, incident_id)]
    casey = storm.sim.phone(CASEY)
    casey.expect_call(from_=LINE_NUMBER).answer().expect_heard(f"Incident {rest[0]}")
    storm.wait(seconds=VOICE_LIMITS.min_gap.total_seconds())
    bundled = casey.expect_call(from_=LINE_NUMBER).answer()
    bundled.expect_heard(f"Press 1 to acknowledge all {len(rest) - 1}")
