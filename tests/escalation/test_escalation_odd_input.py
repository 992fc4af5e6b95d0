"""Odd but signed input on the paging webhooks and SMS replies: handled, never a 500.

A sequence number or error code no column can hold, an incident number in the URL past
any row, a digit from another script: each reads as "not given" (or "no such page"), and
the rest of the report still counts.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import LINE_NUMBER, post_signed
from tests.escalation_helpers import SAM, emergency, incident, kinds, load_example, pages, quiet
from tests.line_helpers import TwiML

VOICE = "0.0.sam.voice.1"
SMS = "0.0.sam.sms.1"
TWO_TO_THE_63 = "9223372036854775808"


@pytest.fixture
def paged(app: Flask, client: FlaskClient) -> Flask:
    """An emergency from Acme Dental has paged Sam (Tier 1) by SMS and voice."""
    load_example(app)
    emergency(client, app)
    return app


def call_sid(app: Flask) -> str:
    sid = pages(app)[VOICE].provider_sid
    assert sid is not None
    return sid


def voice(client: FlaskClient, app: Flask, path: str, **extra: str) -> TwiML:
    params = {"CallSid": call_sid(app), "From": LINE_NUMBER, "To": SAM, "CallStatus": "in-progress"}
    response = post_signed(client, path, {**params, **extra})
    assert response.status_code == 200 and response.mimetype == "text/xml"
    return TwiML.parse(response.data)


def sms_reply(client: FlaskClient, body: str) -> str:
    params = {"MessageSid": "SM" + "e" * 32, "From": SAM, "To": LINE_NUMBER, "Body": body}
    response = post_signed(client, "/twilio/sms", params)
    assert response.status_code == 200 and response.mimetype == "text/xml"
    return " ".join(el.text or "" for el in TwiML.parse(response.data).root.iter("Message"))


def test_a_sequence_number_past_any_column_still_applies_the_status(
    paged: Flask, client: FlaskClient
) -> None:
    busy = {"CallSid": call_sid(paged), "CallStatus": "busy", "SequenceNumber": TWO_TO_THE_63}
    assert post_signed(client, f"/twilio/status/page/1/{VOICE}", busy).status_code == 204
    row = pages(paged)[VOICE]
    assert row.status == "busy" and row.last_sequence is None
    assert kinds(paged).count("page_no_answer") == 1


def test_an_error_code_past_any_column_still_fails_the_text(
    paged: Flask, client: FlaskClient
) -> None:
    sid = pages(paged)[SMS].provider_sid or ""
    failed = {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": TWO_TO_THE_63}
    assert post_signed(client, f"/twilio/status/page/1/{SMS}", failed).status_code == 204
    row = pages(paged)[SMS]
    assert row.status == "failed" and row.error_code is None
    quiet(paged)


@pytest.mark.parametrize("path", ["/twilio/status/page/{n}/{key}", "/twilio/page/{n}/{key}/amd"])
def test_an_incident_number_past_any_row_is_no_page(
    paged: Flask, client: FlaskClient, path: str
) -> None:
    before = kinds(paged)
    report = {"CallSid": call_sid(paged), "CallStatus": "busy", "AnsweredBy": "machine_start"}
    url = path.format(n="99999999999999999999", key=VOICE)
    assert post_signed(client, url, report).status_code == 204
    assert kinds(paged) == before


def test_a_page_call_for_an_incident_past_any_row_is_no_longer_valid(
    paged: Flask, client: FlaskClient
) -> None:
    twiml = voice(client, paged, f"/twilio/page/99999999999999999999/{VOICE}")
    assert twiml.says() == "This Voiceline page is no longer valid. Goodbye."


@pytest.mark.parametrize("rounds", ["%C2%B2", TWO_TO_THE_63])
def test_a_round_that_is_not_an_ascii_count_reads_as_the_first(
    paged: Flask, client: FlaskClient, rounds: str
) -> None:
    twiml = voice(client, paged, f"/twilio/page/1/{VOICE}?round={rounds}")
    assert "Press 1 to acknowledge" in twiml.says()
    assert twiml.one("Redirect").text == (
        f"https://voiceline.example.test/twilio/page/1/{VOICE}?round=2"
    )


@pytest.mark.parametrize("digits", ["²", "١", "1²"])
def test_a_key_that_is_not_a_keypad_key_acknowledges_nothing(
    paged: Flask, client: FlaskClient, digits: str
) -> None:
    twiml = voice(client, paged, f"/twilio/page/1/{VOICE}/keys", Digits=digits)
    assert "Sorry, that is not one of the choices." in twiml.says()
    assert incident(paged).acknowledged_by_id is None


def test_an_incident_number_in_another_script_is_no_reply(
    paged: Flask, client: FlaskClient
) -> None:
    quiet(paged)
    text = sms_reply(client, "A١")  # Arabic-Indic one: not how anyone types "1"
    assert text.startswith("Voiceline paging: reply A to acknowledge")
    assert incident(paged).acknowledged_by_id is None


@pytest.mark.parametrize("body", ["ACK 99999999999999999999", "99999999999999999999A"])
def test_an_incident_number_past_any_row_gets_the_help_text(
    paged: Flask, client: FlaskClient, body: str
) -> None:
    quiet(paged)
    assert sms_reply(client, body).startswith("Voiceline paging: reply A to acknowledge")
    assert incident(paged).acknowledged_by_id is None
