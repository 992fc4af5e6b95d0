"""An emergency is committed with its paging mark or not at all, whatever fails later in
the request; what the caller left still becomes a paged incident."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from escalation.due import run_due
from escalation.wiring import paging_for
from simulator.rest import FakeTwilioApi
from tests.escalation_helpers import SAM, load_example, sent, wait_for
from tests.line_helpers import CallDriver, new_sid
from voiceline import extensions
from voiceline.incidents.log import OPEN_STATUSES
from voiceline.incidents.models import Incident, Recording
from voiceline.line.incidents import PAGED_PRIORITIES
from voiceline.line.recovery import replay_spool
from voiceline.line.spool import Spool

PAT = "+15035550111"
ABSURD_SECONDS = "9" * 30  # more than any integer column holds


def unpaged_emergencies(app: Flask) -> list[int]:
    """Return open incidents of a paged priority with neither a due mark nor a state."""
    with extensions.database(app).session() as session:
        return list(
            session.scalars(
                select(Incident.id).where(
                    Incident.status.in_(OPEN_STATUSES),
                    Incident.priority.in_(PAGED_PRIORITIES),
                    Incident.next_due_at.is_(None),
                    Incident.escalation_state.is_(None),
                )
            )
        )


def test_a_message_request_that_fails_late_leaves_no_unpaged_emergency(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi
) -> None:
    load_example(app)
    call = CallDriver(client, PAT)
    call.dial()
    call.press("1")
    action, status_callback = call.record()
    recording_sid = new_sid("RE")
    recording = {
        "RecordingSid": recording_sid,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Recordings/{recording_sid}",
        "RecordingDuration": ABSURD_SECONDS,
    }

    thanks = call.post(action, Digits="#", **recording)  # valid TwiML, checked by post()
    assert thanks.verbs()[-1] == "Hangup"
    assert unpaged_emergencies(app) == []
    assert call.post_callback(status_callback, RecordingStatus="completed", **recording) == 204
    assert unpaged_emergencies(app) == []

    # What the requests could not store waits in the spool; the worker replays it.
    spool = Spool(extensions.services(app).settings.spool_dir)
    replay_spool(extensions.database(app), spool, extensions.clock(app))
    assert unpaged_emergencies(app) == []
    assert spool.pending_files() == [] and spool.parked_files() == []
    with extensions.database(app).session() as session:
        [incident] = session.scalars(select(Incident)).all()
        assert (incident.call_sid, incident.priority) == (call.call_sid, "emergency")
        [stored] = session.scalars(select(Recording)).all()
        assert stored.recording_sid == recording_sid and stored.incident_id == incident.id
        assert stored.duration_seconds is None or 0 <= stored.duration_seconds <= 86_400

    run_due(paging_for(app))  # the worker's tick
    wait_for(lambda: sent(twilio_api, "sms", SAM))  # the on-call analyst is paged
