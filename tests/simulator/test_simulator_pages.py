"""Paging an analyst through the simulator: outbound calls, AMD, bridges, SMS and callbacks.

The stand-in pager is a tiny Flask app that checks signatures, answers TwiML built with
``twilio.twiml``, and places calls and texts through the real ``twilio.rest.Client``
pointed at the simulator, as the product's telephony adapter will.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, abort, request
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Dial, VoiceResponse

from simulator.engine import Simulator

pytest_plugins = ["pytester", "simulator.testing"]

LINE = "+15035550100"
ANALYST = "+15035550111"
CUSTOMER = "+15035550123"
TOKEN = "stand-in-token"
APP = "http://voiceline.test"
Seen = list[tuple[str, dict[str, str]]]


def pager_app(seen: Seen) -> Flask:
    """Build the stand-in pager; accepted requests are appended to ``seen``."""
    app = Flask("stand_in_pager")
    validator = RequestValidator(TOKEN)

    @app.before_request
    def check_signature() -> None:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(request.url, request.form.to_dict(), signature):
            abort(403)
        seen.append((request.path, request.form.to_dict()))

    @app.post("/page")
    def page() -> Any:
        reply = VoiceResponse()
        gather = reply.gather(num_digits=1, action="/page-choice")
        gather.say("Incident 12 for Acme.")
        gather.play(app.config["RECORDING_URL"])
        gather.say("Press 1 to acknowledge, 2 to be connected to the caller.")
        return str(reply)

    @app.post("/page-choice")
    def page_choice() -> Any:
        reply = VoiceResponse()
        if request.form["Digits"] == "1":
            reply.say("Acknowledged. Goodbye.")
            return str(reply)
        reply.say("Connecting you.")
        dial = Dial(caller_id=LINE, action="/dial-done", timeout=20)
        dial.number(
            CUSTOMER,
            status_callback=f"{APP}/bridge-status",
            status_callback_event="answered completed",
        )
        reply.append(dial)
        return str(reply)

    @app.post("/dial-done")
    def dial_done() -> Any:
        reply = VoiceResponse()
        reply.say(f"The call ended: {request.form['DialCallStatus']}.")
        return str(reply)

    @app.post("/amd")
    def amd() -> Any:
        if request.form["AnsweredBy"] != "human":
            client: Client = app.config["CLIENT"]
            client.calls(request.form["CallSid"]).update(status="completed")
        return "", 204

    @app.post("/twilio/sms")
    def sms() -> Any:
        reply = MessagingResponse()
        if request.form["Body"].strip().upper() == "A":
            reply.message("Acknowledged incident 12.")
        return str(reply)

    @app.post("/call-status")
    @app.post("/bridge-status")
    @app.post("/sms-status")
    def acknowledge() -> Any:
        return "", 204

    return app


@pytest.fixture
def seen() -> Seen:
    return []


@pytest.fixture
def pager(make_sim: Callable[..., Simulator], seen: Seen) -> Simulator:
    app = pager_app(seen)
    sim = make_sim(app, auth_token=TOKEN, line=LINE)
    recording = sim.api.add_recording("CA" + "1" * 32, "server room flooded", duration=2)
    app.config["RECORDING_URL"] = sim.api.recording_url(recording.sid)
    app.config["CLIENT"] = sim.rest_client()
    return sim


def page_analyst(sim: Simulator, **options: Any) -> str:
    """Place a voice page the way the product's adapter does; return the call SID."""
    call = sim.rest_client().calls.create(
        to=ANALYST,
        from_=LINE,
        url=f"{APP}/page",
        status_callback=f"{APP}/call-status",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
        **options,
    )
    assert call.sid is not None
    return call.sid


def posts_to(seen: Seen, path: str) -> list[dict[str, str]]:
    return [form for seen_path, form in seen if seen_path == path]


def test_a_human_answers_the_page_hears_the_message_and_acknowledges(
    pager: Simulator, seen: Seen
) -> None:
    sid = page_analyst(pager, machine_detection="Enable")
    analyst = pager.phone(ANALYST, "Sam (Tier 1)")
    leg = analyst.expect_call(from_=LINE)
    assert leg.sid == sid and leg.status == "ringing"
    leg.answer()
    leg.expect_heard("incident 12 for acme").expect_heard("[recording] server room flooded")
    leg.press("1").expect_heard("acknowledged. goodbye")
    assert leg.is_ended
    [fetch] = posts_to(seen, "/page")
    assert fetch["AnsweredBy"] == "human" and fetch["Direction"] == "outbound-api"
    statuses = posts_to(seen, "/call-status")
    assert [(s["CallStatus"], s["SequenceNumber"]) for s in statuses] == [
        ("initiated", "0"),
        ("ringing", "1"),
        ("in-progress", "2"),
        ("completed", "3"),
    ]
    assert pager.rest_client().calls(sid).fetch().status == "completed"


def test_voicemail_answering_with_async_amd_is_reported_and_hung_up_by_the_app(
    pager: Simulator, seen: Seen
) -> None:
    page_analyst(
        pager,
        machine_detection="DetectMessageEnd",
        async_amd="true",
        async_amd_status_callback=f"{APP}/amd",
    )
    leg = pager.phone(ANALYST).expect_call().answer_by_machine()
    assert leg.is_ended
    assert "AnsweredBy" not in posts_to(seen, "/page")[0]
    assert posts_to(seen, "/amd")[0]["AnsweredBy"] == "machine_end_beep"
    completed = posts_to(seen, "/call-status")[-1]
    assert completed["CallStatus"] == "completed"
    assert completed["AnsweredBy"] == "machine_end_beep"


@pytest.mark.parametrize("outcome", ["busy", "no-answer", "failed"])
def test_a_page_that_is_not_answered_reports_why(
    pager: Simulator, seen: Seen, outcome: str
) -> None:
    sid = page_analyst(pager)
    leg = pager.phone(ANALYST).expect_call()
    {"busy": leg.decline, "no-answer": leg.no_answer, "failed": leg.fail}[outcome]()
    assert posts_to(seen, "/page") == []
    assert posts_to(seen, "/call-status")[-1]["CallStatus"] == outcome
    assert pager.rest_client().calls(sid).fetch().status == outcome


def test_pressing_2_bridges_the_analyst_to_the_caller(pager: Simulator, seen: Seen) -> None:
    page_analyst(pager)
    analyst_leg = pager.phone(ANALYST).expect_call().answer().press("2")
    assert analyst_leg.waiting_for == "dialing"
    customer_leg = pager.phone(CUSTOMER).expect_call(from_=LINE).answer()
    assert analyst_leg.waiting_for == "bridged"
    analyst_leg.say("Hello, this is Acme support calling you back.")
    customer_leg.say("Thanks, the server room is flooded.")
    customer_leg.expect_heard("calling you back")
    analyst_leg.expect_heard("the server room is flooded")
    customer_leg.hang_up()
    analyst_leg.expect_heard("the call ended: completed")
    [done] = posts_to(seen, "/dial-done")
    assert done["DialCallStatus"] == "completed" and int(done["DialCallDuration"]) >= 1
    assert done["DialCallSid"] == customer_leg.sid
    bridge = posts_to(seen, "/bridge-status")
    assert [b["CallStatus"] for b in bridge] == ["in-progress", "completed"]
    assert {b["ParentCallSid"] for b in bridge} == {analyst_leg.sid}
    assert customer_leg.record.direction == "outbound-dial"


@pytest.mark.parametrize("outcome", ["busy", "no-answer"])
def test_a_bridge_the_caller_does_not_pick_up_reports_dial_call_status(
    pager: Simulator, seen: Seen, outcome: str
) -> None:
    page_analyst(pager)
    analyst_leg = pager.phone(ANALYST).expect_call().answer().press("2")
    customer_leg = pager.phone(CUSTOMER).expect_call()
    if outcome == "busy":
        customer_leg.decline()
    else:
        analyst_leg.wait_out()
    analyst_leg.expect_heard(f"the call ended: {outcome}")
    assert posts_to(seen, "/dial-done")[0]["DialCallStatus"] == outcome
    assert customer_leg.status == outcome


def test_the_analyst_hanging_up_mid_bridge_ends_both_legs(pager: Simulator, seen: Seen) -> None:
    page_analyst(pager)
    analyst_leg = pager.phone(ANALYST).expect_call().answer().press("2")
    customer_leg = pager.phone(CUSTOMER).expect_call().answer()
    analyst_leg.hang_up()
    assert customer_leg.is_ended and customer_leg.status == "completed"
    assert posts_to(seen, "/dial-done")[0]["DialCallStatus"] == "completed"


def test_a_rest_update_replaces_the_twiml_of_a_live_call(pager: Simulator) -> None:
    sid = page_analyst(pager)
    leg = pager.phone(ANALYST).expect_call().answer()
    pager.rest_client().calls(sid).update(twiml="<Response><Say>Page withdrawn.</Say></Response>")
    pager.pump()
    leg.expect_heard("page withdrawn")
    assert leg.is_ended


def test_an_sms_page_is_delivered_acknowledged_and_answered(pager: Simulator, seen: Seen) -> None:
    pager.rest_client().messages.create(
        to=ANALYST, from_=LINE, body="Acme: server room flooded. Reply A to ack.",
        status_callback=f"{APP}/sms-status",
    )  # fmt: skip
    analyst = pager.phone(ANALYST)
    analyst.expect_sms(contains="Acme", from_=LINE).reply("A").expect_sms("Acknowledged")
    statuses = posts_to(seen, "/sms-status")
    assert [s["MessageStatus"] for s in statuses] == ["sent", "delivered"]
    [inbound] = posts_to(seen, "/twilio/sms")
    assert (inbound["From"], inbound["To"], inbound["Body"]) == (ANALYST, LINE, "A")
    assert inbound["MessageSid"].startswith("SM") and len(inbound["MessageSid"]) == 34


def test_an_unreachable_phone_gets_undelivered_with_error_30003(
    pager: Simulator, seen: Seen
) -> None:
    pager.phone(ANALYST).is_unreachable = True
    message = pager.rest_client().messages.create(
        to=ANALYST, from_=LINE, body="page", status_callback=f"{APP}/sms-status"
    )
    pager.pump()
    final = posts_to(seen, "/sms-status")[-1]
    assert (final["MessageStatus"], final["ErrorCode"]) == ("undelivered", "30003")
    assert pager.rest_client().messages(message.sid).fetch().error_code == 30003


def test_stop_opts_a_phone_out_until_start(pager: Simulator) -> None:
    analyst = pager.phone(ANALYST)
    analyst.send_sms(LINE, "STOP")
    with pytest.raises(TwilioRestException) as raised:
        pager.rest_client().messages.create(to=ANALYST, from_=LINE, body="page")
    assert raised.value.code == 21610
    analyst.send_sms(LINE, "start")
    pager.rest_client().messages.create(to=ANALYST, from_=LINE, body="page")
    analyst.expect_sms("page")


def test_duplicate_callbacks_deliver_every_status_twice(pager: Simulator, seen: Seen) -> None:
    pager.duplicate_callbacks = True
    pager.rest_client().messages.create(
        to=ANALYST, from_=LINE, body="page", status_callback=f"{APP}/sms-status"
    )
    pager.phone(ANALYST).expect_sms("page")
    statuses = [s["MessageStatus"] for s in posts_to(seen, "/sms-status")]
    assert statuses == ["sent", "sent", "delivered", "delivered"]


def test_held_status_callbacks_can_arrive_in_reverse_order(pager: Simulator, seen: Seen) -> None:
    pager.hold_status_callbacks()
    page_analyst(pager)
    pager.phone(ANALYST).expect_call().answer().press("1")
    assert posts_to(seen, "/call-status") == []
    assert pager.release_status_callbacks(order="reverse") == 4
    numbers = [s["SequenceNumber"] for s in posts_to(seen, "/call-status")]
    assert numbers == ["3", "2", "1", "0"]


def test_texting_a_number_the_account_does_not_own_is_a_clear_error(pager: Simulator) -> None:
    with pytest.raises(ValueError, match="not a Twilio number"):
        pager.phone(ANALYST).send_sms("+15035550999", "hello")


def test_a_message_nobody_expected_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        pytest_plugins = ["simulator.testing"]

        def test_forgets_the_page(sim):
            sim.rest_client().messages.create(to="+15035550111", from_="+15035550100", body="hi")
            sim.pump()
        """
    )
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*SMS to +15035550111 from +15035550100: 'hi'*"])


def test_ending_the_page_while_the_bridge_rings_cancels_the_dialled_leg(
    pager: Simulator, seen: Seen
) -> None:
    sid = page_analyst(pager)
    analyst_leg = pager.phone(ANALYST).expect_call().answer().press("2")
    customer_leg = pager.phone(CUSTOMER).expect_call()
    pager.rest_client().calls(sid).update(status="completed")
    pager.pump()
    assert analyst_leg.is_ended and analyst_leg.status == "completed"
    assert customer_leg.is_ended and customer_leg.status == "canceled"
    assert posts_to(seen, "/bridge-status")[-1]["CallStatus"] == "canceled"
