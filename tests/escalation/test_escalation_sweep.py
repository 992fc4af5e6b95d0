"""The sweep hands over an open emergency nobody handed to paging, once, and leaves
alone what was handed over, what does not page and what is closed."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from escalation.due import run_due
from escalation.sweep import sweep_unpaged
from escalation.wiring import paging_for
from simulator.rest import FakeTwilioApi
from tests.escalation_helpers import SAM, incident, kinds, load_example, sent
from voiceline import extensions
from voiceline.clock import ManualClock
from voiceline.db import Database
from voiceline.incidents.handover import mark_for_paging
from voiceline.incidents.models import Incident
from voiceline.line.calls import view_of
from voiceline.line.incidents import open_incident

PAT = "+15035550111"


def open_unpaged(database: Database, now: datetime, priority: str = "emergency") -> int:
    """Commit an incident without its paging mark, as the savepoint defect left one."""
    with database.session() as session:
        caller = view_of(session, PAT, now).caller
        row, _ = open_incident(
            session,
            call_sid=f"CA{priority[:2]}{now.timestamp():030.0f}",
            caller=caller,
            priority=priority,
            clock_started_at=now,
            now=now,
        )
        return row.id


def test_an_emergency_never_handed_over_is_handed_over_and_paged(
    app: Flask, clock: ManualClock, twilio_api: FakeTwilioApi
) -> None:
    load_example(app)
    database = extensions.database(app)
    incident_id = open_unpaged(database, clock.now())
    assert sweep_unpaged(database, clock.now()) == [incident_id]
    assert kinds(app, incident_id) == ["opened", "found_unpaged", "handed_over_to_paging"]
    assert incident(app, incident_id).next_due_at == clock.now()
    run_due(paging_for(app))  # the worker's next tick
    assert sent(twilio_api, "sms", SAM), "the on-call analyst was not paged"
    assert incident(app, incident_id).escalation_state is not None
    assert sweep_unpaged(database, clock.now()) == []  # handed over once


def test_an_incident_handed_over_is_left_alone_even_when_paging_gave_up(
    app: Flask, clock: ManualClock
) -> None:
    load_example(app)
    database = extensions.database(app)
    now = clock.now()
    with database.session() as session:
        caller = view_of(session, PAT, now).caller
        row, _ = open_incident(
            session,
            call_sid="CA" + "3" * 32,
            caller=caller,
            priority="emergency",
            clock_started_at=now,
            now=now,
        )
        mark_for_paging(session, row, now)
        incident_id = row.id
    with database.session() as session:
        given_up = session.get(Incident, incident_id)
        assert given_up is not None
        given_up.next_due_at = None  # what paging leaves when no policy applies
    assert sweep_unpaged(database, now) == []
    assert kinds(app, incident_id) == ["opened", "handed_over_to_paging"]


def test_messages_for_the_next_business_day_and_closed_incidents_are_not_swept(
    app: Flask, clock: ManualClock
) -> None:
    load_example(app)
    database = extensions.database(app)
    standard = open_unpaged(database, clock.now(), priority="standard")
    closed = open_unpaged(database, clock.now(), priority="billable")
    with database.session() as session:
        row = session.get(Incident, closed)
        assert row is not None
        row.status = "closed"
    assert sweep_unpaged(database, clock.now()) == []
    assert kinds(app, standard) == ["opened"] and kinds(app, closed) == ["opened"]
