"""Voice pages and page status callbacks, posted signed as Twilio posts them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from escalation.due import run_due
from escalation.wiring import paging_for
from simulator.rest import FakeTwilioApi
from tests.conftest import LINE_NUMBER, post_signed
from tests.escalation_helpers import (
    CASEY,
    SAM,
    emergency,
    events,
    incident,
    kinds,
    load_example,
    pages,
    quiet,
    sent,
    state,
)
from tests.line_helpers import TwiML, path_of
from voiceline import extensions
from voiceline.clock import ManualClock
from voiceline.incidents.models import Incident

VOICE = "0.0.sam.voice.1"
SMS = "0.0.sam.sms.1"


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


def answer(client: FlaskClient, app: Flask, path: str | None = None, **extra: str) -> TwiML:
    """Post what Twilio posts when the page call is answered (or redirected)."""
    params = {"CallSid": call_sid(app), "From": LINE_NUMBER, "To": SAM, "CallStatus": "in-progress"}
    params.update(extra)
    response = post_signed(client, path or f"/twilio/page/1/{VOICE}", params)
    assert response.status_code == 200 and response.mimetype == "text/xml"
    return TwiML.parse(response.data)


def press(client: FlaskClient, app: Flask, digits: str) -> TwiML:
    return answer(client, app, f"/twilio/page/1/{VOICE}/keys", Digits=digits)


def status(client: FlaskClient, key: str, **params: str) -> int:
    return post_signed(client, f"/twilio/status/page/1/{key}", params).status_code


def test_a_person_hears_the_incident_the_message_and_the_keys(
    paged: Flask, client: FlaskClient
) -> None:
    twiml = answer(client, paged)
    gather = twiml.one("Gather")
    assert gather.get("numDigits") == "1"
    assert path_of(gather.get("action", "")) == f"/twilio/page/1/{VOICE}/keys"
    said = twiml.says()
    assert "Incident 1. Emergency for Acme Dental. The callback is due at 02:30 PST." in said
    assert "Pat Jones called on 1 5 0 3 5 5 5 0 1 1 1" in said
    assert "Press 1 to acknowledge. Press 2 to be connected to the caller now." in said
    play = twiml.one("Play").text or ""
    assert path_of(play).startswith("/media/recordings/1?token=")
    assert path_of(twiml.one("Redirect").text or "") == f"/twilio/page/1/{VOICE}?round=2"
    assert answer(client, paged, f"/twilio/page/1/{VOICE}?round=4").verbs() == ["Say", "Hangup"]


def test_a_voicemail_box_is_neither_a_delivery_nor_an_ack(
    paged: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    amd = {"CallSid": call_sid(paged), "AnsweredBy": "machine_end_beep"}
    assert post_signed(client, f"/twilio/page/1/{VOICE}/amd", amd).status_code == 204
    twiml = answer(client, paged, f"/twilio/page/1/{VOICE}?round=2")
    assert twiml.verbs() == ["Say", "Hangup"]
    assert "Emergency incident 1, for Acme Dental, needs an analyst now" in twiml.says()
    page = state(paged).find_page(VOICE)
    assert page is not None and page.status == "no_answer"
    assert state(paged).status == "paging" and incident(paged).acknowledged_by_id is None
    assert "page_machine" in kinds(paged)
    quiet(paged)
    clock.advance(timedelta(minutes=5))
    run_due(paging_for(paged))
    assert len(sent(twilio_api, "sms", CASEY)) == 1


def test_a_machine_detected_before_the_twiml_gets_the_short_message(
    paged: Flask, client: FlaskClient
) -> None:
    twiml = answer(client, paged, AnsweredBy="machine_start")
    assert twiml.verbs() == ["Say", "Hangup"] and not twiml.has("Gather")
    assert pages(paged)[VOICE].answered_by == "machine_start"


def test_key_1_acknowledges(paged: Flask, client: FlaskClient) -> None:
    twiml = press(client, paged, "1")
    assert "Incident 1 is acknowledged" in twiml.says() and twiml.verbs()[-1] == "Hangup"
    assert state(paged).acknowledged_by == "sam"
    assert pages(paged)[VOICE].answered_by == "human"
    assert state(paged).find_page(VOICE).status == "delivered"  # type: ignore[union-attr]


def test_key_3_escalates_now(paged: Flask, client: FlaskClient, twilio_api: FakeTwilioApi) -> None:
    assert "paging the next tier" in press(client, paged, "3").says()
    quiet(paged)
    assert len(sent(twilio_api, "call", CASEY)) == 1


def test_star_repeats_and_other_keys_are_refused(paged: Flask, client: FlaskClient) -> None:
    assert press(client, paged, "*").verbs() == ["Redirect"]
    wrong = press(client, paged, "9")
    assert "not one of the choices" in wrong.says() and wrong.verbs() == ["Say", "Redirect"]
    assert state(paged).status == "paging"


def test_key_2_bridges_to_the_caller_and_the_answer_is_the_callback(
    paged: Flask, client: FlaskClient, clock: ManualClock
) -> None:
    twiml = press(client, paged, "2")
    dial = twiml.one("Dial")
    assert dial.get("callerId") == LINE_NUMBER
    number = twiml.one("Number")
    assert number.text == "+15035550111"
    assert number.get("statusCallbackEvent") == "answered completed"
    assert state(paged).acknowledged_by == "sam"
    clock.advance(timedelta(seconds=40))
    leg = {"CallSid": "CA" + "b" * 32, "CallStatus": "in-progress", "SequenceNumber": "2"}
    bridge = path_of(number.get("statusCallback", ""))
    assert post_signed(client, bridge, leg).status_code == 204
    assert post_signed(client, bridge, leg).status_code == 204  # a retry changes nothing
    row = incident(paged)
    assert row.callback_at == clock.now() and row.callback_kind == "bridge"
    assert state(paged).status == "called_back" and row.next_due_at is None
    done = answer(client, paged, path_of(dial.get("action", "")), DialCallStatus="completed")
    assert done.verbs() == ["Say", "Hangup"]


def test_a_page_answered_after_someone_else_took_the_incident_says_so(
    paged: Flask, client: FlaskClient
) -> None:
    for digits in ("3",):  # Sam declines; Casey is paged and acknowledges by SMS
        press(client, paged, digits)
    quiet(paged)
    reply = {"MessageSid": "SM" + "c" * 32, "From": CASEY, "To": LINE_NUMBER, "Body": "A"}
    post_signed(client, "/twilio/sms", reply)
    twiml = answer(client, paged)
    assert "already taken by Casey Nguyen" in twiml.says()
    assert twiml.verbs() == ["Say", "Hangup"]


def test_duplicate_and_late_sms_status_callbacks_change_nothing(
    paged: Flask, client: FlaskClient
) -> None:
    sid = pages(paged)[SMS].provider_sid or ""
    delivered = {"MessageSid": sid, "MessageStatus": "delivered", "To": SAM}
    assert status(client, SMS, **delivered) == 204
    assert status(client, SMS, **delivered) == 204
    assert status(client, SMS, **{**delivered, "MessageStatus": "sent"}) == 204  # out of order
    assert pages(paged)[SMS].status == "delivered"
    assert kinds(paged).count("page_delivered") == 1
    assert [k for k in kinds(paged) if k == "ignored"] == []


def test_undelivered_sms_is_retried_then_falls_back(
    paged: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    sid = pages(paged)[SMS].provider_sid or ""
    failed = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert status(client, SMS, **failed) == 204
    assert pages(paged)[SMS].error_code == 30003
    assert incident(paged).next_due_at == clock.now() + timedelta(seconds=1)
    quiet(paged)
    clock.advance(timedelta(seconds=1))
    run_due(paging_for(paged))
    assert len(sent(twilio_api, "sms", SAM)) == 1  # the phone's rate: 3 s between texts
    clock.advance(timedelta(seconds=2))
    run_due(paging_for(paged))
    assert len(sent(twilio_api, "sms", SAM)) == 2


def test_call_status_callbacks_dedupe_on_sequence_and_busy_is_no_answer(
    paged: Flask, client: FlaskClient
) -> None:
    sid = call_sid(paged)
    ringing = {"CallSid": sid, "CallStatus": "ringing", "SequenceNumber": "1"}
    busy = {"CallSid": sid, "CallStatus": "busy", "SequenceNumber": "2"}
    assert status(client, VOICE, **busy) == 204
    assert status(client, VOICE, **busy) == 204
    assert status(client, VOICE, **ringing) == 204  # late: a final status stays final
    row = pages(paged)[VOICE]
    assert row.status == "busy" and row.last_sequence == 2
    assert [d for k, d in events(paged) if k == "page_no_answer"] != []
    assert kinds(paged).count("page_no_answer") == 1


def test_a_page_whose_details_cannot_be_loaded_still_says_what_to_do(
    paged: Flask, client: FlaskClient
) -> None:
    with extensions.database(paged).session() as session:
        session.execute(update(Incident).values(escalation_state={"version": 99}))
    twiml = answer(client, paged)
    assert "cannot be loaded right now. To try again, press any key." in twiml.says()
    assert "Please check your text messages, or call the emergency line" in twiml.says()
    assert twiml.verbs() == ["Gather", "Say", "Hangup"]
    retry = path_of(twiml.one("Gather").get("action", ""))
    assert retry == f"/twilio/page/1/{VOICE}?round=2"
    # Still broken on the last round: no more retries, just what to do instead.
    last = answer(client, paged, f"/twilio/page/1/{VOICE}?round=3")
    assert last.verbs() == ["Say", "Hangup"]
    assert "cannot be loaded right now. Please check your text messages" in last.says()


def test_a_late_unknown_detection_does_not_undo_a_key_press(
    paged: Flask, client: FlaskClient
) -> None:
    press(client, paged, "1")
    done = {"CallSid": call_sid(paged), "CallStatus": "completed", "SequenceNumber": "4"}
    assert status(client, VOICE, **done, AnsweredBy="unknown") == 204
    row = pages(paged)[VOICE]
    assert row.answered_by == "human" and row.status == "completed"
    assert "page_no_answer" not in kinds(paged)
