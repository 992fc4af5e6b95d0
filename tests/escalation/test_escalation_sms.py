"""Analysts' SMS replies to /twilio/sms, signed the way Twilio signs them."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from escalation.due import run_due
from escalation.models import Acknowledgement
from escalation.wiring import paging_for
from oncall.models import ContactMethod
from simulator.rest import FakeTwilioApi
from tests.conftest import LINE_NUMBER, post_signed
from tests.escalation_helpers import (
    CASEY,
    SAM,
    STRANGER,
    emergency,
    incident,
    kinds,
    load_example,
    notices,
    quiet,
    sent,
    state,
)
from voiceline import extensions
from voiceline.clock import ManualClock
from voiceline.sla.models import SlaClock

_sids = itertools.count(1)


def text(client: FlaskClient, sender: str, body: str) -> str:
    """Text ``body`` to the line from ``sender``; return our reply ('' for none)."""
    params = {
        "MessageSid": f"SM{next(_sids):032x}",
        "From": sender,
        "To": LINE_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    response = post_signed(client, "/twilio/sms", params)
    assert response.status_code == 200 and response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return " ".join("".join(m.itertext()) for m in root.iter("Message"))


@pytest.fixture
def paged(app: Flask, client: FlaskClient) -> Flask:
    """An emergency from Acme Dental has paged Sam (Tier 1)."""
    load_example(app)
    emergency(client, app)
    return app


@pytest.mark.parametrize("body", ["A", "ack", "1 A", "A1", "ACK 1", "1a.", "#1 A"])
def test_acknowledgement_in_every_form_stops_the_escalation(
    paged: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock, body: str
) -> None:
    reply = text(client, SAM, body)
    assert reply == "#1 is yours. Call Pat Jones +1 503-555-0111. Reply 1C once called back"
    row = incident(paged)
    assert row.status == "acknowledged" and row.acknowledged_at == clock.now()
    assert state(paged).acknowledged_by == "sam"
    with extensions.database(paged).session() as session:
        [ack] = session.scalars(select(Acknowledgement))
        assert ack.via == "sms"
    quiet(paged)
    clock.advance(timedelta(minutes=5))
    run_due(paging_for(paged))
    assert sent(twilio_api, "sms", CASEY) == []


def test_a_phone_that_was_not_paged_cannot_acknowledge(paged: Flask, client: FlaskClient) -> None:
    assert text(client, CASEY, "1A").startswith("This phone was not paged for that incident.")
    assert text(client, STRANGER, "A").startswith("This phone was not paged")
    assert state(paged).status == "paging"
    assert incident(paged).acknowledged_by_id is None


def test_help_replies_are_rate_limited(paged: Flask, client: FlaskClient) -> None:
    replies = [text(client, STRANGER, "hello?") for _ in range(4)]
    assert all(r.startswith("Voiceline paging: reply A to acknowledge") for r in replies[:3])
    assert replies[3] == ""  # an auto-responder cannot keep us talking


def test_e_escalates_at_once(paged: Flask, client: FlaskClient, twilio_api: FakeTwilioApi) -> None:
    assert text(client, SAM, "E") == "#1: OK, paging the next tier now."
    quiet(paged)
    assert len(sent(twilio_api, "sms", CASEY)) == 1
    assert len(sent(twilio_api, "call", CASEY)) == 1
    assert "declined" in kinds(paged)


def test_c_logs_the_callback_and_stops_the_sla_clock(
    paged: Flask, client: FlaskClient, clock: ManualClock
) -> None:
    clock.advance(timedelta(minutes=12))
    assert text(client, SAM, "1C") == "#1: callback logged, thank you."
    row = incident(paged)
    assert row.callback_at == clock.now() and row.callback_kind == "sms"
    assert row.next_due_at is None and state(paged).status == "called_back"
    with extensions.database(paged).session() as session:
        clock_row = session.scalars(select(SlaClock).filter_by(metric="callback")).one()
        assert clock_row.is_met is True and clock_row.is_reported is True
    assert text(client, SAM, "A") == "#1 is already closed. Nothing to do."


def test_a_reply_without_number_is_about_the_latest_incident_that_paged_the_phone(
    paged: Flask, client: FlaskClient
) -> None:
    second = emergency(client, paged, "+442079460321")  # Thames Print pages Sam too
    assert text(client, SAM, "A").startswith(f"#{second} is yours.")
    assert state(paged, second).acknowledged_by == "sam"
    assert state(paged, 1).status == "paging"
    assert text(client, SAM, "1 ACK").startswith("#1 is yours.")
    assert state(paged, 1).acknowledged_by == "sam"


def test_stop_moves_pages_to_voice_and_tells_the_admins(
    paged: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    assert text(client, SAM, "STOP") == ""  # Twilio confirms the opt-out itself
    quiet(paged)
    with extensions.database(paged).session() as session:
        method = session.scalars(select(ContactMethod).filter_by(address=SAM, kind="sms")).one()
        assert method.is_opted_out and method.opted_out_at is not None
    assert "sam" in state(paged).sms_stopped
    assert any("texted STOP" in n for n in notices(paged))
    second = emergency(client, paged, "+442079460321")  # the next page after STOP
    clock.advance(timedelta(seconds=20))  # the throttle spaces calls to one phone
    run_due(paging_for(paged))
    assert len(sent(twilio_api, "sms", SAM)) == 1  # only the first incident's
    assert len(sent(twilio_api, "call", SAM)) == 2
    assert "sam" in state(paged, second).sms_stopped
    assert text(client, SAM, "START") == ""
    with extensions.database(paged).session() as session:
        method = session.scalars(select(ContactMethod).filter_by(address=SAM, kind="sms")).one()
        assert not method.is_opted_out
