"""Helpers for the incident pages' tests: a message the fake Twilio really holds, and many
incidents written at once.

``leave_message`` walks the emergency line with signed webhooks, as Twilio would, but
stores the audio in the fake Twilio API first, so the page's signed link can fetch it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from simulator.rest import FakeTwilioApi
from tests.line_helpers import CallDriver
from voiceline import extensions
from voiceline.customers.models import Contact, Customer
from voiceline.db import Database
from voiceline.incidents.models import Incident
from voiceline.sla.models import SlaClock


def leave_message(
    client: FlaskClient,
    api: FakeTwilioApi,
    number: str,
    *,
    said: str = "The server room is flooded and nobody can log in.",
    seconds: int = 8,
    press: str = "1",
    transcript: str | None = None,
) -> CallDriver:
    """Call the line as ``number``, press ``press`` and leave a message the fake Twilio holds."""
    call = CallDriver(client, number)
    call.dial()
    call.press(press)
    action, status = call.record()
    recording = api.add_recording(call.call_sid, said, seconds)
    fields = {
        "RecordingSid": recording.sid,
        "RecordingUrl": api.recording_url(recording.sid),
        "RecordingDuration": str(seconds),
    }
    call.post(action, Digits="#", **fields)
    assert call.post_callback(status, RecordingStatus="completed", **fields) == 204
    if transcript is not None:
        assert (
            call.post_callback(
                "/twilio/transcription",
                RecordingSid=recording.sid,
                TranscriptionStatus="completed",
                TranscriptionText=transcript,
            )
            == 204
        )
    return call


def latest_incident_id(app: Flask) -> int:
    """Return the id of the newest incident."""
    with extensions.database(app).session() as session:
        found = session.scalar(select(Incident.id).order_by(Incident.id.desc()).limit(1))
    assert found is not None
    return found


def many_incidents(
    database: Database,
    count: int,
    *,
    newest: datetime = datetime(2026, 11, 22, 10, 0, tzinfo=UTC),
    spacing: timedelta = timedelta(minutes=7),
    seed: int = 7,
    batch: int = 5000,
    with_clocks: bool = False,
) -> None:
    """Write ``count`` incidents, newest at ``newest``, with bulk Core inserts.

    Customers and callers come from the loaded directory; a few share an opening time
    (as two calls in the same second would) so the cursor's tie-break on id is used.
    ``with_clocks`` gives each a callback SLA clock: one in twenty called back late.
    """
    pick = random.Random(seed)
    with database.session() as session:
        customers = list(session.scalars(select(Customer)))
        contacts = list(session.scalars(select(Contact)))
        assert customers and contacts, "load the directory first"

        def rows() -> Iterator[dict[str, object]]:
            for n in range(count):
                opened = newest - spacing * (n // 3 * 3)  # threes share a time
                contact = pick.choice(contacts)
                closed = pick.random() < 0.9
                late = closed and pick.random() < 0.05
                yield {
                    "customer_id": contact.customer_id,
                    "contact_id": contact.id,
                    "caller_number": contact.phone,
                    "priority": "emergency",
                    "status": "closed" if closed else pick.choice(["open", "acknowledged"]),
                    "summary": f"Emergency message {n}",
                    "opened_at": opened,
                    "clock_started_at": opened,
                    "deadline_at": opened + timedelta(minutes=30),
                    "callback_at": opened + timedelta(minutes=45 if late else 12)
                    if closed
                    else None,
                    "callback_kind": "bridge" if closed else None,
                    "closed_at": opened + timedelta(hours=1) if closed else None,
                }

        chunk: list[dict[str, object]] = []
        for row in rows():
            chunk.append(row)
            if len(chunk) == batch:
                session.execute(insert(Incident), chunk)
                chunk = []
        if chunk:
            session.execute(insert(Incident), chunk)
        if with_clocks:
            _clocks(session, batch)


def _clocks(session: Session, batch: int) -> None:
    """Give every incident its callback clock, met or missed as its callback time says."""
    found = session.execute(
        select(Incident.id, Incident.opened_at, Incident.deadline_at, Incident.callback_at)
    )
    chunk: list[dict[str, object]] = []
    for row in found:
        stopped = row.callback_at
        chunk.append(
            {
                "incident_id": row.id,
                "metric": "callback",
                "priority": "emergency",
                "target_minutes": 30,
                "clock": "wall",
                "time_zone": "America/Los_Angeles",
                "started_at": row.opened_at,
                "deadline_at": row.deadline_at,
                "stopped_at": stopped,
                "is_met": None if stopped is None else stopped <= row.deadline_at,
                "minutes_over": None
                if stopped is None
                else max(0, (stopped - row.deadline_at) // timedelta(minutes=1)),
                "credit": {},
                "pauses": [],
                "paused_seconds": 0,
            }
        )
        if len(chunk) == batch:
            session.execute(insert(SlaClock), chunk)
            chunk = []
    if chunk:
        session.execute(insert(SlaClock), chunk)
