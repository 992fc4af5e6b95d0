"""The fake REST API, driven through the real twilio-python client the product uses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from simulator.media import silent_mp3, silent_wav, transcript_of
from simulator.rest import FakeTwilioApi, SimulatorError

SUPPORT_LINE = "+15035550100"
ANALYST = "+15035550111"


@pytest.fixture
def api() -> Iterator[FakeTwilioApi]:
    with FakeTwilioApi() as running:
        yield running


@pytest.fixture
def client(api: FakeTwilioApi) -> Client:
    twilio = Client(api.account_sid, api.auth_token)
    twilio.api.base_url = api.base_url
    return twilio


def test_sends_an_sms_and_answers_with_twilios_message_shape(
    api: FakeTwilioApi, client: Client
) -> None:
    message = client.messages.create(
        to=ANALYST,
        from_=SUPPORT_LINE,
        body="Acme: server room flooded",
        status_callback="http://127.0.0.1:9/twilio/sms-status",
    )
    assert message.sid is not None and message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    assert (message.to, message.from_, message.body) == (
        ANALYST,
        SUPPORT_LINE,
        "Acme: server room flooded",
    )
    assert message.account_sid == api.account_sid
    [sent] = api.requests_to("Messages.json")
    assert sent.get("StatusCallback") == "http://127.0.0.1:9/twilio/sms-status"
    assert sent.status == 201 and sent.is_authorized
    [event] = api.take_events()
    assert (event.kind, event.sid) == ("message_created", message.sid)
    assert api.take_events() == []
    fetched = client.messages(message.sid).fetch()
    assert fetched.body == "Acme: server room flooded" and fetched.status == "queued"


def test_places_a_call_keeping_repeated_status_callback_events_and_amd_settings(
    api: FakeTwilioApi, client: Client
) -> None:
    call = client.calls.create(
        to=ANALYST,
        from_=SUPPORT_LINE,
        url="http://127.0.0.1:9/twilio/page",
        status_callback="http://127.0.0.1:9/twilio/call-status",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
        machine_detection="DetectMessageEnd",
        async_amd="true",
        async_amd_status_callback="http://127.0.0.1:9/twilio/amd",
        timeout=25,
    )
    assert call.sid is not None and call.sid.startswith("CA") and len(call.sid) == 34
    assert call.status == "queued" and call.direction == "outbound-api"
    [placed] = api.requests_to("Calls.json")
    assert placed.getlist("StatusCallbackEvent") == [
        "initiated",
        "ringing",
        "answered",
        "completed",
    ]
    record = api.calls[call.sid]
    assert record.status_callback_events == ("initiated", "ringing", "answered", "completed")
    assert record.machine_detection == "DetectMessageEnd" and record.async_amd
    assert record.async_amd_status_callback == "http://127.0.0.1:9/twilio/amd"
    assert record.timeout == 25 and record.url == "http://127.0.0.1:9/twilio/page"
    assert [e.kind for e in api.take_events()] == ["call_created"]
    assert client.calls(call.sid).fetch().to == ANALYST


def test_a_call_without_status_callback_events_reports_completed_only(
    api: FakeTwilioApi, client: Client
) -> None:
    call = client.calls.create(to=ANALYST, from_=SUPPORT_LINE, twiml="<Response/>")
    assert call.sid is not None
    assert api.calls[call.sid].status_callback_events == ("completed",)
    assert api.calls[call.sid].twiml == "<Response/>"


def test_updating_a_live_call_is_handed_to_the_engine(api: FakeTwilioApi, client: Client) -> None:
    call = client.calls.create(to=ANALYST, from_=SUPPORT_LINE, url="http://127.0.0.1:9/x")
    assert call.sid is not None
    api.take_events()
    client.calls(call.sid).update(twiml="<Response><Hangup/></Response>")
    [event] = api.take_events()
    assert (event.kind, event.sid) == ("call_updated", call.sid)
    assert event.params == {"Twiml": "<Response><Hangup/></Response>"}


def test_updating_an_ended_call_fails_like_twilio(api: FakeTwilioApi, client: Client) -> None:
    call = client.calls.create(to=ANALYST, from_=SUPPORT_LINE, url="http://127.0.0.1:9/x")
    assert call.sid is not None
    api.update_call(call.sid, status="completed")
    with pytest.raises(TwilioRestException) as raised:
        client.calls(call.sid).update(status="completed")
    assert (raised.value.status, raised.value.code) == (400, 21220)


def test_fetching_an_unknown_call_is_a_twilio_404(client: Client) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client.calls("CA" + "0" * 32).fetch()
    assert (raised.value.status, raised.value.code) == (404, 20404)


def test_wrong_credentials_are_refused_with_twilios_401_and_change_nothing(
    api: FakeTwilioApi,
) -> None:
    intruder = Client(api.account_sid, "not-the-token")
    intruder.api.base_url = api.base_url
    with pytest.raises(TwilioRestException) as raised:
        intruder.messages.create(to=ANALYST, from_=SUPPORT_LINE, body="hello")
    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert api.messages == {} and api.take_events() == []
    [refused] = api.requests
    assert not refused.is_authorized and refused.status == 401
    bare = requests.post(f"{api.account_url}/Messages.json", data={"To": ANALYST}, timeout=5)
    assert bare.status_code == 401
    assert bare.headers["WWW-Authenticate"].startswith("Basic")
    assert bare.json()["code"] == 20003


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"From": SUPPORT_LINE, "Body": "x"}, 21604),
        ({"To": ANALYST, "Body": "x"}, 21603),
        ({"To": ANALYST, "From": SUPPORT_LINE}, 21602),
        ({"To": "555-0111", "From": SUPPORT_LINE, "Body": "x"}, 21211),
    ],
)
def test_invalid_messages_get_twilios_error_codes(
    api: FakeTwilioApi, params: dict[str, str], code: int
) -> None:
    answer = requests.post(
        f"{api.account_url}/Messages.json",
        data=params,
        auth=(api.account_sid, api.auth_token),
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "code": code,
        "message": answer.json()["message"],
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": 400,
    }
    assert api.messages == {}


def test_scripted_failures_hit_only_the_matching_destination_and_only_n_times(
    api: FakeTwilioApi, client: Client
) -> None:
    api.fail_next("sms", to=ANALYST, status=400, code=21610)
    other = client.messages.create(to="+15035550122", from_=SUPPORT_LINE, body="first")
    assert other.status == "queued"
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=ANALYST, from_=SUPPORT_LINE, body="second")
    assert raised.value.code == 21610
    assert "unsubscribed" in raised.value.msg
    assert client.messages.create(to=ANALYST, from_=SUPPORT_LINE, body="third").status == "queued"
    assert len(api.messages) == 2


def test_rate_limit_failures_on_calls_repeat_as_scripted(
    api: FakeTwilioApi, client: Client
) -> None:
    api.fail_next("call", status=429, code=20429, times=2)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as raised:
            client.calls.create(to=ANALYST, from_=SUPPORT_LINE, url="http://127.0.0.1:9/x")
        assert (raised.value.status, raised.value.code) == (429, 20429)
    assert client.calls.create(to=ANALYST, from_=SUPPORT_LINE, url="http://127.0.0.1:9/x").sid
    assert [r.status for r in api.requests_to("Calls.json")] == [429, 429, 201]


def test_fail_next_refuses_nonsense(api: FakeTwilioApi) -> None:
    with pytest.raises(SimulatorError):
        api.fail_next("fax", code=21211)  # type: ignore[arg-type]
    with pytest.raises(SimulatorError):
        api.fail_next("sms", status=200)
    with pytest.raises(SimulatorError):
        api.fail_next("sms", times=0)


def test_recordings_are_served_only_with_basic_auth_and_carry_the_words(
    api: FakeTwilioApi,
) -> None:
    recording = api.add_recording("CA" + "1" * 32, "server room flooded", duration=3)
    url = api.recording_url(recording.sid)
    auth = (api.account_sid, api.auth_token)
    assert requests.get(url, timeout=5).status_code == 401
    wav = requests.get(url, auth=auth, timeout=5)
    assert wav.status_code == 200 and wav.headers["Content-Type"] == "audio/x-wav"
    assert transcript_of(wav.content) == "server room flooded"
    mp3 = requests.get(url + ".mp3", auth=auth, timeout=5)
    assert mp3.headers["Content-Type"] == "audio/mpeg"
    assert transcript_of(mp3.content) == "server room flooded"
    meta = requests.get(url + ".json", auth=auth, timeout=5).json()
    assert meta["sid"] == recording.sid and meta["duration"] == "3"
    assert meta["call_sid"] == "CA" + "1" * 32 and meta["status"] == "completed"
    texts = requests.get(url + "/Transcriptions.json", auth=auth, timeout=5).json()
    assert texts["transcriptions"][0]["transcription_text"] == "server room flooded"
    assert requests.get(url[:-4] + "dead", auth=auth, timeout=5).status_code == 404


def test_media_files_round_trip_any_text_and_reject_foreign_files() -> None:
    for text in ["", "a", "ünïcødé words", "odd length!"]:
        assert transcript_of(silent_wav(text, 1.5)) == text
        assert transcript_of(silent_mp3(text)) == text
    assert transcript_of(b"not audio at all") is None


def test_other_accounts_and_paths_are_not_found(api: FakeTwilioApi) -> None:
    auth = (api.account_sid, api.auth_token)
    other = api.account_url.replace(api.account_sid, "AC" + "f" * 32)
    assert requests.get(f"{other}/Calls.json", auth=auth, timeout=5).status_code == 404
    answer = requests.delete(f"{api.account_url}/Calls.json", auth=auth, timeout=5)
    assert answer.status_code == 405


def test_base_url_before_start_is_a_clear_error() -> None:
    with pytest.raises(SimulatorError, match="not running"):
        _ = FakeTwilioApi().base_url
