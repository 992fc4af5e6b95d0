"""Odd but signed input on the emergency line: the caller's message is still taken.

Twilio signs whatever it posts, and it posts what the URL and the call give it: a digit
from another script in a query value, a count no column can hold. Each must read as
"not given", never as an error, so the caller hears the normal path and no message waits
in the spool for a replay that would fail the same way.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import EXAMPLE_DIRECTORY
from tests.line_helpers import CallDriver, new_sid
from voiceline import extensions
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory
from voiceline.incidents.models import Incident, Recording

PAT = "+15035550111"  # Acme Dental: Diamond, 24x7 cover
TWO_TO_THE_63 = "9223372036854775808"
EMERGENCY_THANKS = "The on-call analyst has been alerted"


@pytest.fixture
def line(app: Flask) -> Flask:
    with extensions.database(app).session() as session:
        load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))
    return app


def recordings(app: Flask) -> list[tuple[str | None, int | None, int | None]]:
    """Return (sid, duration, incident) of every stored recording."""
    with extensions.database(app).session() as session:
        rows = session.scalars(select(Recording).order_by(Recording.id))
        return [(r.recording_sid, r.duration_seconds, r.incident_id) for r in rows]


def priorities(app: Flask) -> list[str]:
    with extensions.database(app).session() as session:
        return list(session.scalars(select(Incident.priority).order_by(Incident.id)))


def recording(duration: str) -> dict[str, str]:
    sid = new_sid("RE")
    return {
        "RecordingSid": sid,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 31}1/Recordings/{sid}",
        "RecordingDuration": duration,
    }


@pytest.mark.parametrize("attempt", ["%C2%B2", "%D9%A1", TWO_TO_THE_63])  # ², Arabic-Indic 1
def test_a_menu_attempt_that_is_not_an_ascii_count_reads_as_the_first(
    line: Flask, client: FlaskClient, attempt: str
) -> None:
    call = CallDriver(client, PAT)
    call.dial()
    twiml = call.post(f"/twilio/voice/menu?kind=emergency&attempt={attempt}")  # no key pressed
    assert "Sorry, I did not get that." in twiml.says()
    assert "attempt=2" in twiml.one("Gather").get("action", "")  # one more try, as on attempt 1


@pytest.mark.parametrize("digits", ["²", "١", "1²", "12345678901234567890123456789012345"])
def test_a_key_that_is_not_a_keypad_key_is_no_choice(
    line: Flask, client: FlaskClient, digits: str
) -> None:
    call = CallDriver(client, PAT)
    call.dial()
    twiml = call.press(digits)
    assert "Sorry, I did not get that." in twiml.says()
    assert twiml.has("Gather") and not twiml.has("Record")


def test_a_recording_duration_past_any_column_still_opens_the_emergency(
    line: Flask, client: FlaskClient
) -> None:
    call = CallDriver(client, PAT)
    call.dial()
    call.press("1")
    action, status = call.record()
    message = recording(TWO_TO_THE_63)
    twiml = call.post(action, Digits="#", **message)
    assert EMERGENCY_THANKS in twiml.says()
    assert call.post_callback(status, RecordingStatus="completed", **message) == 204
    assert recordings(line) == [(message["RecordingSid"], None, 1)]
    assert priorities(line) == ["emergency"]


def test_a_recording_status_with_an_impossible_duration_is_stored_without_it(
    line: Flask, client: FlaskClient
) -> None:
    call = CallDriver(client, PAT)
    call.dial()
    call.press("1")
    _, status = call.record()
    message = recording("9" * 5000)  # longer than int() converts by default
    assert call.post_callback(status, RecordingStatus="completed", **message) == 204
    assert recordings(line) == [(message["RecordingSid"], None, 1)]


@pytest.mark.parametrize("incident", ["99999999999999999999", "%C2%B2", "0"])
def test_an_addendum_naming_no_possible_incident_is_taken_as_a_new_message(
    line: Flask, client: FlaskClient, incident: str
) -> None:
    call = CallDriver(client, PAT)
    call.dial()
    call.press("1")
    action, _ = call.record()
    odd = f"/twilio/voice/recorded?priority=addendum&incident={incident}"
    assert action == "/twilio/voice/recorded?priority=emergency"
    message = recording("12")
    twiml = call.post(odd, Digits="#", **message)
    # Decided afresh for the moment of the call: Pat's plan covers 2 a.m.
    assert EMERGENCY_THANKS in twiml.says()
    assert recordings(line) == [(message["RecordingSid"], 12, 1)]
    assert priorities(line) == ["emergency"]


def test_a_caller_address_longer_than_a_phone_number_still_leaves_the_message(
    line: Flask, client: FlaskClient
) -> None:
    # A SIP or client caller's address does not fit the 32-character number columns
    # (PostgreSQL refuses it, so this failed there; SQLite stores anything).
    call = CallDriver(client, "sip:someone.with.a.long.name@voip.example.com")
    twiml = call.dial()
    assert "please say your name, your company" in twiml.says()
    thanks, recording_sid = call.leave_message()
    assert "We will call you back as soon as we can" in thanks.says()
    assert recordings(line) == [(recording_sid, 14, 1)]
    assert priorities(line) == ["unverified"]
