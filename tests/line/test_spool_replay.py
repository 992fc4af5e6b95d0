"""Replaying the spool into the database: a value nothing can store is dropped with a
note, a duplicate stored meanwhile is merged, and what still fails raises one admin
notice for as long as it is parked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from tests.conftest import EXAMPLE_DIRECTORY, LINE_NUMBER
from voiceline.admin.models import AdminNotice
from voiceline.clock import ManualClock
from voiceline.db import Database
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory
from voiceline.incidents.models import Incident, IncidentEvent, Recording
from voiceline.line.models import Call
from voiceline.line.parked import NOTICE_KIND
from voiceline.line.recovery import replay_spool
from voiceline.line.spool import Spool

PAT = "+15035550111"  # Acme Dental: 24x7 emergency cover
CALL_SID = "CA" + "5" * 32
RECORDING_SID = "RE" + "6" * 32
AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # Sunday 02:00 in Oregon


@pytest.fixture
def desk(database: Database) -> Database:
    with database.session() as session:
        load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))
    return database


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "spool", ManualClock(AT))


def message_form(**overrides: str) -> dict[str, str]:
    """The recorded action's form for Pat's emergency message, as Twilio posts it."""
    form = {
        "CallSid": CALL_SID,
        "From": PAT,
        "To": LINE_NUMBER,
        "CallStatus": "in-progress",
        "Digits": "#",
        "RecordingSid": RECORDING_SID,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Recordings/{RECORDING_SID}",
        "RecordingDuration": "14",
    }
    form.update(overrides)
    return form


def spool_message(spool: Spool, **overrides: str) -> None:
    """Spool the message the way the webhook does when its request fails."""
    spool.write("message", form=message_form(**overrides), at=AT.isoformat(), priority="emergency")


def replay(desk: Database, spool: Spool) -> list[int]:
    return replay_spool(desk, spool, ManualClock(AT))


def the_incident(desk: Database) -> tuple[Incident, Recording, dict[str, Any]]:
    with desk.session() as session:
        [incident] = session.scalars(select(Incident)).all()
        [recording] = session.scalars(select(Recording)).all()
        notes = {
            row.kind: dict(row.detail)
            for row in session.scalars(select(IncidentEvent).filter_by(incident_id=incident.id))
        }
        return incident, recording, notes


def open_notices(desk: Database) -> list[str]:
    with desk.session() as session:
        return list(
            session.scalars(
                select(AdminNotice.message).where(
                    AdminNotice.kind == NOTICE_KIND, AdminNotice.resolved_at.is_(None)
                )
            )
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("RecordingDuration", "9" * 30),  # more than any integer column holds
        ("RecordingDuration", "-14"),
        ("RecordingDuration", "86401"),  # longer than any call lasts
        ("RecordingUrl", "https://api.twilio.com/" + "r" * 600),  # longer than its column
    ],
)
def test_a_value_nothing_can_store_is_dropped_with_a_note(
    desk: Database, spool: Spool, field: str, value: str
) -> None:
    spool_message(spool, **{field: value})
    to_page = replay(desk, spool)
    assert spool.pending_files() == [] and spool.parked_files() == []
    incident, recording, notes = the_incident(desk)
    assert to_page == [incident.id] and incident.next_due_at == AT  # handed to paging
    assert (incident.priority, incident.call_sid) == ("emergency", CALL_SID)
    assert recording.recording_sid == RECORDING_SID and recording.incident_id == incident.id
    kept = message_form()
    assert recording.duration_seconds == (None if field == "RecordingDuration" else 14)
    assert recording.url == (None if field == "RecordingUrl" else kept["RecordingUrl"])
    shown = value if len(value) <= 40 else value[:39] + "…"
    assert notes["spooled_values_dropped"]["dropped"] == {field: shown}
    assert open_notices(desk) == []


def test_a_plausible_entry_is_replayed_without_a_note(desk: Database, spool: Spool) -> None:
    spool_message(spool)
    replay(desk, spool)
    incident, recording, notes = the_incident(desk)
    assert recording.duration_seconds == 14
    assert "spooled_values_dropped" not in notes


@pytest.fixture
def live_request_wins_the_race(desk: Database) -> Iterator[list[str]]:
    """Store Pat's call from another connection just before the replay inserts it.

    The web request that took the call the first time finished late: between the replay
    looking for the call and inserting it, the other process committed the same CallSid.
    """
    other = Database(desk.url)
    raced: list[str] = []

    def store_the_call_first(conn, cursor, statement: str, *args: Any) -> None:  # type: ignore[no-untyped-def]
        if raced or not statement.lstrip().upper().startswith("INSERT INTO CALLS"):
            return
        raced.append(statement)
        with other.session() as session:
            session.add(
                Call(
                    call_sid=CALL_SID,
                    direction="inbound",
                    from_number=PAT,
                    to_number=LINE_NUMBER,
                    route="emergency_menu",
                    choice="emergency",
                    started_at=AT,
                    status="in-progress",
                )
            )

    event.listen(desk.engine, "before_cursor_execute", store_the_call_first)
    yield raced
    event.remove(desk.engine, "before_cursor_execute", store_the_call_first)
    other.dispose()


def test_a_call_stored_meanwhile_is_merged_not_parked(
    desk: Database, spool: Spool, live_request_wins_the_race: list[str]
) -> None:
    spool_message(spool)
    to_page = replay(desk, spool)
    assert live_request_wins_the_race, "the other connection never stored the call"
    assert spool.parked_files() == [] and spool.pending_files() == []
    incident, recording, _ = the_incident(desk)
    assert to_page == [incident.id] and incident.next_due_at == AT
    with desk.session() as session:
        [call] = session.scalars(select(Call)).all()
        # the live request's row, completed by the replay
        assert (call.call_sid, call.choice, call.incident_id) == (
            CALL_SID,
            "emergency",
            incident.id,
        )
    assert recording.incident_id == incident.id
    assert open_notices(desk) == []


def test_a_parked_entry_raises_one_notice_until_it_is_set_aside(
    desk: Database, spool: Spool
) -> None:
    spool.write("message", form=message_form(), at="the night before", priority="emergency")
    replay(desk, spool)
    [parked] = spool.parked_files()
    assert "ValueError" in spool.reason_parked(parked)
    [notice] = open_notices(desk)
    assert parked.name in notice and CALL_SID in notice and "/admin/spool" in notice
    replay(desk, spool)  # every round checks; one notice per entry
    assert open_notices(desk) == [notice]
    spool.set_aside(parked.name)
    replay(desk, spool)
    assert open_notices(desk) == []


def test_a_notice_resolved_by_hand_returns_while_the_entry_is_parked(
    desk: Database, spool: Spool
) -> None:
    spool.write("message", form=message_form(), at="garbled", priority="emergency")
    replay(desk, spool)
    with desk.session() as session:
        for notice in session.scalars(select(AdminNotice).filter_by(kind=NOTICE_KIND)):
            notice.resolved_at = AT
    replay(desk, spool)
    assert len(open_notices(desk)) == 1
