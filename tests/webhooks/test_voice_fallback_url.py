"""Twilio's fallback URL records the caller without the database, and the call is not lost."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import post_signed
from voiceline import extensions
from voiceline.line.recovery import replay_spool
from voiceline.line.spool import Spool

FORM = {
    "CallSid": "CA" + "f" * 32,
    "From": "+15035550111",
    "To": "+15035550100",
    "CallStatus": "ringing",
    "AccountSid": "AC00000000000000000000000000000001",
}


def test_the_fallback_url_answers_with_the_recorder_and_spools_the_call(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    # The database is gone: the fallback must not need it.
    extensions.database(app).engine.dispose()
    extensions.database(app).engine.url = extensions.database(app).engine.url.set(
        database=str(tmp_path / "missing" / "no.db")
    )
    response = post_signed(client, "/twilio/voice/fallback", FORM)
    assert response.status_code == 200
    root = ET.fromstring(response.data)
    [record] = list(root.iter("Record"))
    assert "/twilio/voice/recorded" in record.attrib["action"]
    spool = Spool(app.config["VOICELINE"].spool_dir)
    [entry] = spool.pending_files()
    assert FORM["CallSid"] in entry.read_text()
    for path in spool.pending_files():  # the app fixture fails a test that left a spool behind
        path.unlink()


def test_a_call_spooled_by_the_fallback_url_becomes_an_incident(
    app: Flask, client: FlaskClient
) -> None:
    from tests.conftest import EXAMPLE_DIRECTORY
    from voiceline.directory.checker import read_directory_file
    from voiceline.directory.loader import load_directory
    from voiceline.incidents.models import Incident

    database = extensions.database(app)
    with database.session() as session:
        load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))
    assert post_signed(client, "/twilio/voice/fallback", FORM).status_code == 200
    spool = Spool(app.config["VOICELINE"].spool_dir)
    replay_spool(database, spool, extensions.clock(app))
    assert spool.pending_files() == []
    with database.session() as session:
        [incident] = session.query(Incident).all()
        assert incident.call_sid == FORM["CallSid"]


def test_every_callback_url_is_routed_by_its_one_rule(app: Flask) -> None:
    from voiceline.urls import CALLBACK_RULES, MEDIA_PREFIX, TWILIO_PREFIX

    routed = {r.endpoint: r.rule for r in app.url_map.iter_rules() if r.endpoint in CALLBACK_RULES}
    expected = {
        endpoint: (TWILIO_PREFIX if endpoint.startswith("twilio.") else MEDIA_PREFIX) + rule
        for endpoint, rule in CALLBACK_RULES.items()
    }
    assert routed == expected
    twilio_views = {
        r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("twilio.")
    }
    assert twilio_views <= set(CALLBACK_RULES)  # no Twilio route outside the one table
