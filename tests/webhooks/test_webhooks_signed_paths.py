"""A signature covers the URL exactly as Twilio requested it, percent-encoding and all.

Twilio signs the callback URL we gave it, character for character; our URLs are built
by werkzeug, which percent-encodes what a path segment cannot hold (``%20``, ``%C3%A9``).
The server decodes the path before the app sees it, so the URL that was signed has to be
rebuilt from the request target as it arrived, not from the decoded path.
"""

from __future__ import annotations

from flask.testing import FlaskClient

from simulator.rest import FakeTwilioApi
from tests.conftest import PUBLIC_URL, app_config, post_signed, sign
from tests.line_helpers import TwiML
from voiceline.app import create_app
from voiceline.urls import callback_urls

STATUS = {"CallSid": "CA" + "4" * 32, "CallStatus": "busy", "SequenceNumber": "3"}


def test_our_own_callback_urls_percent_encode_a_page_key() -> None:
    url = callback_urls(PUBLIC_URL)("twilio.page_status", incident_id=1, page_key="a b.é")
    assert url == PUBLIC_URL + "/twilio/status/page/1/a%20b.%C3%A9"


def test_a_status_callback_to_a_percent_encoded_path_is_accepted(client: FlaskClient) -> None:
    response = post_signed(client, "/twilio/status/page/1/a%20b.%C3%A9", STATUS)
    assert response.status_code == 204  # signed, and no such page: nothing to do


def test_a_page_call_to_a_percent_encoded_path_gets_its_twiml(client: FlaskClient) -> None:
    response = post_signed(client, "/twilio/page/1/%C3%A9?round=2", STATUS)
    assert response.status_code == 200
    assert TwiML.parse(response.data).says() == "This Voiceline page is no longer valid. Goodbye."


def test_a_signature_over_the_decoded_path_is_refused(client: FlaskClient) -> None:
    # Twilio requested (and signed) ".../a%20b"; a signature over ".../a b" is not its.
    signature = sign(PUBLIC_URL + "/twilio/status/page/1/a b", STATUS)
    response = client.post(
        "/twilio/status/page/1/a%20b", data=STATUS, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403


def test_a_server_that_keeps_no_raw_target_falls_back_to_our_encoding(
    client: FlaskClient,
) -> None:
    # Not every WSGI server passes RAW_URI or REQUEST_URI; our URLs use werkzeug's
    # encoding, so re-encoding the decoded path the same way gives the signed URL.
    path = "/twilio/status/page/1/a%20b.%C3%A9"
    response = client.post(
        path,
        data=STATUS,
        headers={"X-Twilio-Signature": sign(PUBLIC_URL + path, STATUS)},
        environ_overrides={"RAW_URI": "", "REQUEST_URI": ""},
    )
    assert response.status_code == 204


def test_an_app_mounted_under_a_prefix_checks_the_public_url_with_it(
    database_url: str, twilio_api: FakeTwilioApi
) -> None:
    public = PUBLIC_URL + "/voiceline"
    app = create_app(app_config(database_url, twilio_api.base_url, VOICELINE_PUBLIC_URL=public))
    client = app.test_client()
    path = "/twilio/status/page/1/a%20b"
    headers = {"X-Twilio-Signature": sign(public + path, STATUS)}
    mounted = "http://10.0.0.5:8000/voiceline"  # behind a proxy that speaks http
    # werkzeug's test server leaves the mount point out of the raw target, gunicorn keeps it
    for raw in (path, "/voiceline" + path):
        response = client.post(
            path,
            data=STATUS,
            headers=headers,
            base_url=mounted,
            environ_overrides={"RAW_URI": raw, "REQUEST_URI": raw},
        )
        assert response.status_code == 204, raw
    forged = client.post(
        path,
        data=STATUS,
        headers={"X-Twilio-Signature": sign(PUBLIC_URL + path, STATUS)},
        base_url=mounted,
    )
    assert forged.status_code == 403
