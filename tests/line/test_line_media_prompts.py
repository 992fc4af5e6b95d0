"""Recordings through our authenticated URL; transcriptions; per-customer prompts."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import yaml
from flask import Flask
from sqlalchemy import select

from simulator.rest import FakeTwilioApi
from tests.conftest import EXAMPLE_DIRECTORY, PUBLIC_URL
from tests.line_helpers import CallDriver
from voiceline import extensions
from voiceline.directory.checker import read_directory_text
from voiceline.directory.loader import load_directory
from voiceline.incidents.models import Incident, Recording
from voiceline.line.media import recording_url

PAT = "+15035550111"


def load(app: Flask, mutate=None) -> None:
    raw = yaml.safe_load(EXAMPLE_DIRECTORY.read_text())
    if mutate:
        mutate(raw)
    with extensions.database(app).session() as session:
        load_directory(session, read_directory_text(yaml.safe_dump(raw)))


def stored_recording(app: Flask, api: FakeTwilioApi) -> int:
    fake = api.add_recording("CA" + "3" * 32, "the phones are dead", 7)
    with extensions.database(app).session() as session:
        incident = Incident(
            priority="emergency",
            summary="x",
            opened_at=datetime.now(UTC),
            clock_started_at=datetime.now(UTC),
        )
        session.add(incident)
        session.flush()
        row = Recording(
            recording_sid=fake.sid,
            call_sid="CA" + "3" * 32,
            incident_id=incident.id,
            url=api.recording_url(fake.sid),
            created_at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        return row.id


def test_recording_is_streamed_through_a_signed_url(app, client, twilio_api) -> None:
    recording_id = stored_recording(app, twilio_api)
    url = recording_url(app, recording_id)
    assert url.startswith(PUBLIC_URL + f"/media/recordings/{recording_id}?token=")
    parts = urlsplit(url)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 200
    assert response.mimetype == "audio/mpeg"
    assert len(response.data) > 0
    # the media was fetched from the provider with the account's credentials
    fetches = twilio_api.requests_to(".mp3", method="GET")
    assert fetches and all(r.is_authorized for r in fetches)


def test_recording_without_a_valid_token_is_refused(app, client, twilio_api) -> None:
    recording_id = stored_recording(app, twilio_api)
    assert client.get(f"/media/recordings/{recording_id}").status_code == 403
    assert client.get(f"/media/recordings/{recording_id}?token=forged").status_code == 403
    other = urlsplit(recording_url(app, recording_id + 1))
    # a token for another recording does not open this one
    assert client.get(f"/media/recordings/{recording_id}?{other.query}").status_code == 403
    assert twilio_api.requests_to(".mp3", method="GET") == []


def test_transcription_is_optional_and_stored(app, client) -> None:
    load(app, lambda raw: raw["service"].update(transcribe=True))
    call = CallDriver(client, PAT)
    call.dial()
    record = call.press("1").one("Record")
    assert record.get("transcribe") == "true"
    assert record.get("transcribeCallback", "").endswith("/twilio/transcription")
    _, recording_sid = call.leave_message()
    assert (
        call.post_callback(
            "/twilio/transcription",
            RecordingSid=recording_sid,
            TranscriptionStatus="completed",
            TranscriptionText="The server room is flooded.",
        )
        == 204
    )
    with extensions.database(app).session() as session:
        row = session.scalars(select(Recording).filter_by(recording_sid=recording_sid)).one()
        assert row.transcription == "The server room is flooded."


def test_transcription_is_off_by_default(app, client) -> None:
    load(app)
    call = CallDriver(client, PAT)
    call.dial()
    assert call.press("1").one("Record").get("transcribe") == "false"


def test_customer_prompts_and_voice_override_the_defaults(app, client) -> None:
    def mutate(raw: dict) -> None:
        raw["plans"][0]["prompts"] = {"voice": "Polly.Joanna", "language": "en-US"}
        raw["customers"][0]["prompts"] = {
            "greeting": "Acme Dental's emergency line at {service}.",
            "voice": "Polly.Matthew",
        }

    load(app, mutate)
    twiml = CallDriver(client, PAT).dial()
    says = list(twiml.root.iter("Say"))
    assert says[0].text == "Acme Dental's emergency line at Cascade IT Support."
    assert {s.get("voice") for s in says} == {"Polly.Matthew"}  # customer beats plan
    assert {s.get("language") for s in says} == {"en-US"}  # from the plan


def test_a_broken_prompt_template_falls_back_to_the_default(app, client) -> None:
    load(app, lambda raw: raw["customers"][0].update(prompts={"greeting": "Hi {nonsense"}))
    twiml = CallDriver(client, PAT).dial()
    assert "Thank you for calling the Cascade IT Support emergency line." in twiml.says()
