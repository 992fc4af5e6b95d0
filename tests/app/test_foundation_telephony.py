"""The telephony adapter against the fake Twilio HTTP API on loopback."""

from __future__ import annotations

import pytest

from simulator.rest import FakeTwilioApi
from tests.conftest import LINE_NUMBER, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from voiceline.telephony import OutboundCall, TelephonyError, TwilioTelephony


@pytest.fixture
def telephony(twilio_api: FakeTwilioApi) -> TwilioTelephony:
    return TwilioTelephony(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, twilio_api.base_url, LINE_NUMBER)


def test_sms_is_posted_form_encoded_with_status_callback(telephony, twilio_api) -> None:
    sent = telephony.send_sms("+15035550201", "Acme: server down. Reply A", "https://x.test/s")
    assert sent.sid.startswith("SM") and sent.status == "queued"
    [request] = twilio_api.requests_to("Messages.json")
    assert request.get("To") == "+15035550201"
    assert request.get("From") == LINE_NUMBER
    assert request.get("Body") == "Acme: server down. Reply A"
    assert request.get("StatusCallback") == "https://x.test/s"


def test_call_asks_for_answering_machine_detection_and_all_status_events(telephony, twilio_api):
    sent = telephony.place_call(
        OutboundCall(
            to="+15035550201",
            url="https://x.test/page",
            status_callback="https://x.test/status",
            amd_callback="https://x.test/amd",
        )
    )
    assert sent.sid.startswith("CA")
    [request] = twilio_api.requests_to("Calls.json")
    assert request.get("MachineDetection") == "DetectMessageEnd"
    assert request.get("AsyncAmd") == "true"
    assert request.get("AsyncAmdStatusCallback") == "https://x.test/amd"
    assert request.getlist("StatusCallbackEvent") == [
        "initiated",
        "ringing",
        "answered",
        "completed",
    ]


@pytest.mark.parametrize(
    "status, code, temporary",
    [(400, 21211, False), (400, 21610, False), (429, 20429, True), (500, 20500, True)],
)
def test_errors_are_classified(telephony, twilio_api, status, code, temporary) -> None:
    twilio_api.fail_next("sms", status=status, code=code)
    with pytest.raises(TelephonyError) as caught:
        telephony.send_sms("+15035550201", "x")
    assert caught.value.code == code
    assert caught.value.status == status
    assert caught.value.is_temporary is temporary


def test_unreachable_api_is_a_temporary_error() -> None:
    telephony = TwilioTelephony(
        TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, "http://127.0.0.1:9", LINE_NUMBER
    )
    with pytest.raises(TelephonyError) as caught:
        telephony.send_sms("+15035550201", "x")
    assert caught.value.is_temporary


def test_recording_is_fetched_with_credentials(telephony, twilio_api) -> None:
    recording = twilio_api.add_recording("CA" + "2" * 32, "server room flooded", 12)
    data, content_type = telephony.fetch_recording(twilio_api.recording_url(recording.sid))
    assert content_type == "audio/mpeg"
    assert len(data) > 0
    [request] = twilio_api.requests_to(".mp3", method="GET")
    assert request.path.endswith(f"/Recordings/{recording.sid}.mp3")


def test_recording_urls_on_other_hosts_are_refused(telephony) -> None:
    with pytest.raises(TelephonyError, match="refusing to send credentials"):
        telephony.fetch_recording("https://evil.example/Recordings/RE1")


def test_a_page_call_can_be_ended(telephony, twilio_api) -> None:
    sent = telephony.place_call(
        OutboundCall(
            to="+15035550201", url="https://x.test/page", status_callback="https://x.test/s"
        )
    )
    telephony.cancel_call(sent.sid)
    [update] = [r for r in twilio_api.requests if r.path.endswith(f"/Calls/{sent.sid}.json")]
    assert update.method == "POST" and update.get("Status") == "completed"


def test_ending_an_unknown_call_is_a_permanent_error(telephony) -> None:
    with pytest.raises(TelephonyError) as caught:
        telephony.cancel_call("CA" + "f" * 32)
    assert caught.value.status == 404 and not caught.value.is_temporary
