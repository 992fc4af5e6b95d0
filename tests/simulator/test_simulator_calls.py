"""A caller on the emergency line, driven through the simulator against a stand-in app.

The stand-in is a tiny Flask app that checks every signature with ``RequestValidator`` and
answers TwiML built with ``twilio.twiml.voice_response``: a menu, a recorded message, a
callback-number fallback. The tests check what the caller hears and what the app receives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from simulator.engine import Simulator
from simulator.serving import BackgroundServer
from simulator.twiml import APPLICATION_ERROR
from simulator.webhooks import HttpTransport

pytest_plugins = ["simulator.testing"]

LINE = "+15035550100"
CUSTOMER = "+15035550123"
TOKEN = "stand-in-token"


def line_app(seen: list[tuple[str, dict[str, str]]]) -> Flask:
    """Build the stand-in emergency line; every request it accepts is appended to ``seen``."""
    app = Flask("stand_in_line")
    validator = RequestValidator(TOKEN)

    @app.before_request
    def check_signature() -> None:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(request.url, request.form.to_dict(), signature):
            abort(403)
        seen.append((request.path, request.form.to_dict()))

    @app.post("/twilio/voice")
    def voice() -> Any:
        reply = VoiceResponse()
        gather = reply.gather(num_digits=1, action="/menu", timeout=5)
        gather.say("Acme support. Press 1 if your business is down.")
        reply.say("We did not get a choice. Goodbye.")
        return str(reply)

    @app.post("/menu")
    def menu() -> Any:
        reply = VoiceResponse()
        if request.form["Digits"] == "1":
            reply.say("Leave your message after the tone.")
            reply.record(
                action="/recorded",
                timeout=5,
                recording_status_callback="/recording-status",
                recording_status_callback_event="completed absent",
                transcribe=True,
                transcribe_callback="/transcribed",
            )
            reply.say("We did not hear a message.")
            reply.gather(num_digits=10, action="/callback-number").say("Key in your number.")
        elif request.form["Digits"] == "9":
            reply.redirect("/twilio/voice")
        else:
            reply.say("That is not a choice.")
            reply.hangup()
        return str(reply)

    @app.post("/recorded")
    def recorded() -> Any:
        reply = VoiceResponse()
        reply.say("Thank you. An analyst will call you back within 30 minutes.")
        reply.hangup()
        return str(reply)

    @app.post("/callback-number")
    def callback_number() -> Any:
        reply = VoiceResponse()
        reply.say(f"We will call {request.form['Digits']}.")
        return str(reply)

    @app.post("/recording-status")
    @app.post("/transcribed")
    @app.post("/call-status")
    def acknowledge() -> Any:
        return "", 204

    @app.post("/broken")
    def broken() -> Any:
        return "<Response><Say>unclosed", 200

    return app


@pytest.fixture
def seen() -> list[tuple[str, dict[str, str]]]:
    return []


@pytest.fixture
def line_sim(make_sim: Callable[..., Simulator], seen: list[tuple[str, dict[str, str]]]):
    sim = make_sim(line_app(seen), auth_token=TOKEN)
    sim.add_number(
        LINE,
        voice_url="http://voiceline.test/twilio/voice",
        status_callback="http://voiceline.test/call-status",
    )
    return sim


def posts_to(seen: list[tuple[str, dict[str, str]]], path: str) -> list[dict[str, str]]:
    return [form for seen_path, form in seen if seen_path == path]


def test_caller_presses_1_records_and_hangs_up_after_the_thanks(
    line_sim: Simulator, seen: list[tuple[str, dict[str, str]]]
) -> None:
    caller = line_sim.phone(CUSTOMER, "Dana at Acme")
    call = caller.dial(LINE)
    assert call.waiting_for == "gathering"
    call.expect_heard("press 1 if your business is down")
    call.press("1").say("server room flooded, all phones down").wait_out()
    call.expect_heard("[beep]").expect_heard("within 30 minutes")
    assert call.is_ended and call.status == "completed"

    [first] = posts_to(seen, "/twilio/voice")
    assert first["CallStatus"] == "ringing" and first["Direction"] == "inbound"
    assert (first["From"], first["To"]) == (CUSTOMER, LINE)
    assert first["AccountSid"] == line_sim.account_sid and first["ApiVersion"] == "2010-04-01"
    assert posts_to(seen, "/menu")[0]["Digits"] == "1"
    [recorded] = posts_to(seen, "/recorded")
    assert recorded["CallStatus"] == "in-progress" and "Digits" not in recorded
    recording = line_sim.api.recordings[recorded["RecordingSid"]]
    assert recording.text == "server room flooded, all phones down"
    assert recorded["RecordingDuration"] == str(recording.duration) == "3"
    assert recorded["RecordingUrl"] == line_sim.api.recording_url(recording.sid)
    [status] = posts_to(seen, "/recording-status")
    assert status["RecordingStatus"] == "completed"
    assert status["RecordingSid"] == recording.sid and status["CallSid"] == call.sid
    [transcription] = posts_to(seen, "/transcribed")
    assert transcription["TranscriptionText"] == recording.text
    [completed] = posts_to(seen, "/call-status")
    assert completed["CallStatus"] == "completed" and completed["SequenceNumber"] == "0"
    assert int(completed["CallDuration"]) >= 3


def test_the_chained_dsl_reads_like_the_story(
    line_sim: Simulator, seen: list[tuple[str, dict[str, str]]]
) -> None:
    call = line_sim.phone(CUSTOMER).dial(LINE).press("1").say("server room flooded").hang_up()
    assert call.is_ended
    [recorded] = posts_to(seen, "/recorded")
    assert recorded["Digits"] == "hangup" and recorded["CallStatus"] == "completed"
    assert posts_to(seen, "/recording-status")[0]["RecordingStatus"] == "completed"


def test_a_key_ends_the_recording_and_is_posted_as_digits(
    line_sim: Simulator, seen: list[tuple[str, dict[str, str]]]
) -> None:
    line_sim.phone(CUSTOMER).dial(LINE).press("1").say("router on fire").press("#").expect_heard(
        "within 30 minutes"
    )
    assert posts_to(seen, "/recorded")[0]["Digits"] == "#"


def test_no_input_falls_through_to_the_next_verb(
    line_sim: Simulator, seen: list[tuple[str, dict[str, str]]]
) -> None:
    call = line_sim.phone(CUSTOMER).dial(LINE).no_input()
    call.expect_heard("we did not get a choice")
    assert call.is_ended and posts_to(seen, "/menu") == []


def test_an_empty_recording_skips_the_action_and_reports_absent(
    line_sim: Simulator, seen: list[tuple[str, dict[str, str]]]
) -> None:
    call = line_sim.phone(CUSTOMER).dial(LINE).press("1").wait_out()
    call.expect_heard("we did not hear a message").expect_heard("key in your number")
    assert call.waiting_for == "gathering"
    call.press("5035550199")
    call.expect_heard("we will call 5035550199")
    assert posts_to(seen, "/recorded") == []
    [absent] = posts_to(seen, "/recording-status")
    assert absent["RecordingStatus"] == "absent" and absent["RecordingDuration"] == "0"
    assert line_sim.api.recordings == {}


def test_hanging_up_before_the_beep_leaves_no_message(
    line_sim: Simulator, seen: list[tuple[str, dict[str, str]]]
) -> None:
    call = line_sim.phone(CUSTOMER).dial(LINE, hang_up_after="after the tone")
    assert call.waiting_for == "gathering"
    call.press("1")
    assert call.is_ended
    assert "[beep]" not in call.transcript
    assert posts_to(seen, "/recorded") == [] and posts_to(seen, "/recording-status") == []
    assert posts_to(seen, "/call-status")[0]["CallStatus"] == "completed"


def test_hanging_up_on_an_empty_recording_reports_absent_without_action(
    line_sim: Simulator, seen: list[tuple[str, dict[str, str]]]
) -> None:
    line_sim.phone(CUSTOMER).dial(LINE).press("1").hang_up()
    assert posts_to(seen, "/recorded") == []
    assert posts_to(seen, "/recording-status")[0]["RecordingStatus"] == "absent"


def test_redirect_fetches_the_new_document(
    line_sim: Simulator, seen: list[tuple[str, dict[str, str]]]
) -> None:
    call = line_sim.phone(CUSTOMER).dial(LINE).press("9")
    assert len(posts_to(seen, "/twilio/voice")) == 2
    assert posts_to(seen, "/twilio/voice")[1]["CallStatus"] == "in-progress"
    assert call.transcript.lower().count("press 1 if your business is down") == 2
    call.hang_up()


def test_keys_typed_ahead_reach_the_next_gather(
    line_sim: Simulator, seen: list[tuple[str, dict[str, str]]]
) -> None:
    call = line_sim.phone(CUSTOMER).dial(LINE).press("2")
    call.expect_heard("that is not a choice")
    assert call.is_ended


def test_pressing_keys_when_nothing_listens_is_a_clear_error(line_sim: Simulator) -> None:
    call = line_sim.phone(CUSTOMER).dial(LINE).press("2")
    with pytest.raises(ValueError, match="already ended|nothing is listening|no call"):
        call.press("1")


def test_a_bad_signature_is_refused_and_the_caller_hears_the_application_error(
    make_sim: Callable[..., Simulator], seen: list[tuple[str, dict[str, str]]]
) -> None:
    sim = make_sim(line_app(seen), auth_token="a-different-token", line=LINE)
    sim.allow_unexpected()
    call = sim.phone(CUSTOMER).dial(LINE)
    assert call.is_ended and APPLICATION_ERROR in call.transcript
    assert seen == []
    assert any("403" in error for error in sim.errors)
    assert "webhook error" in " ".join(sim.unexpected())


def test_broken_twiml_is_an_application_error(
    make_sim: Callable[..., Simulator], seen: list[tuple[str, dict[str, str]]]
) -> None:
    sim = make_sim(line_app(seen), auth_token=TOKEN)
    sim.add_number(LINE, voice_url="http://voiceline.test/broken")
    sim.allow_unexpected()
    call = sim.phone(CUSTOMER).dial(LINE)
    assert call.is_ended and APPLICATION_ERROR in call.transcript
    assert any("12100" in error for error in sim.errors)


def test_the_same_story_over_real_http(
    make_sim: Callable[..., Simulator], seen: list[tuple[str, dict[str, str]]]
) -> None:
    server = BackgroundServer(line_app(seen), name="stand-in line")
    server.start()
    try:
        sim = make_sim(transport=HttpTransport(), auth_token=TOKEN, app_url=server.url, line=LINE)
        call = sim.phone(CUSTOMER).dial(LINE).press("1").say("server room flooded").hang_up()
        assert call.is_ended
        [recorded] = posts_to(seen, "/recorded")
        assert recorded["RecordingUrl"].startswith(sim.base_url)
    finally:
        server.stop()
