"""The bundled page's own webhook (the next bridge of key 2) always answers valid TwiML."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import LINE_NUMBER, post_signed
from tests.escalation.test_escalation_page_outage import (
    VOICE,
    call_sid,
    timed,
    with_product_deadline,
    writes_blocked,
)
from tests.escalation_helpers import emergency, load_example, quiet
from tests.line_helpers import TwiML
from webhooks.deadline import wait_for_late_work


@pytest.fixture
def paged(app: Flask, client: FlaskClient) -> Flask:
    """An emergency from Acme Dental has paged Sam (Tier 1) by SMS and voice."""
    with_product_deadline(app)  # these tests are about the deadline
    load_example(app)
    emergency(client, app)
    quiet(app)
    return app


def test_the_next_bridge_while_the_database_is_locked_says_the_incidents_are_yours(
    paged: Flask, client: FlaskClient, database_url: str
) -> None:
    ended = {"CallSid": call_sid(paged), "From": LINE_NUMBER, "DialCallStatus": "no-answer"}
    path = f"/twilio/page/1/{VOICE}/bundle-bridge?after=1"
    with writes_blocked(database_url):
        response = timed(lambda: post_signed(client, path, ended))
    assert response.status_code == 200 and response.mimetype == "text/xml"
    twiml = TwiML.parse(response.data)
    assert twiml.verbs() == ["Say", "Hangup"]
    assert "could not connect the next caller right now" in twiml.says()
    assert wait_for_late_work(timeout=20)


def test_a_next_bridge_for_no_such_page_or_position_ends_the_call_cleanly(
    paged: Flask, client: FlaskClient
) -> None:
    ended = {"CallSid": call_sid(paged), "From": LINE_NUMBER, "DialCallStatus": "completed"}
    gone = post_signed(client, "/twilio/page/99/0.0.nobody.voice.1/bundle-bridge?after=1", ended)
    assert TwiML.parse(gone.data).verbs() == ["Say", "Hangup"]
    assert "no longer valid" in TwiML.parse(gone.data).says()
    odd = post_signed(client, f"/twilio/page/1/{VOICE}/bundle-bridge?after=x%00", ended)
    assert odd.status_code == 200
    assert TwiML.parse(odd.data).verbs()[-1] == "Hangup"
