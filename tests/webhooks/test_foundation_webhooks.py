"""Webhook signatures, health, and TwiML from a signed call."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from flask.testing import FlaskClient

from simulator.rest import FakeTwilioApi
from tests.conftest import PUBLIC_URL, TEST_AUTH_TOKEN, app_config, post_signed, sign
from voiceline import extensions
from voiceline.app import create_app

CALL = {
    "CallSid": "CA" + "1" * 32,
    "AccountSid": "AC" + "0" * 31 + "1",
    "From": "+15035550111",
    "To": "+15035550100",
    "CallStatus": "ringing",
    "Direction": "inbound",
}


def test_healthz_reports_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path, twilio_api: FakeTwilioApi) -> None:
    missing = tmp_path / "no-such-dir" / "voiceline.db"
    app = create_app(app_config(f"sqlite:///{missing}", twilio_api.base_url))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "degraded", "database": "unreachable"}


def test_signed_call_gets_twiml(client: FlaskClient) -> None:
    response = post_signed(client, "/twilio/voice", CALL)
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert ET.fromstring(response.data).tag == "Response"


def test_every_twilio_route_refuses_unsigned_requests(app, client: FlaskClient) -> None:
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/twilio/")]
    assert len(rules) >= 10
    for rule in rules:
        path = re.sub(r"<(?:\w+:)?(\w+)>", "1", rule.rule)  # any converter: a 1
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method, data=CALL)
            assert response.status_code == 403, f"{method} {path}"


@pytest.mark.parametrize(
    "mutation",
    [
        {"token": "another-accounts-token"},
        {"params": {**CALL, "From": "+15035550999"}},  # a parameter changed after signing
        {"url": PUBLIC_URL + "/twilio/voice?x=1"},  # a different URL was signed
        {"url": "https://attacker.example/twilio/voice"},
    ],
)
def test_forged_calls_are_refused(client: FlaskClient, mutation: dict) -> None:
    signature = sign(
        mutation.get("url", PUBLIC_URL + "/twilio/voice"),
        CALL,
        mutation.get("token", TEST_AUTH_TOKEN),
    )
    response = client.post(
        "/twilio/voice",
        data=mutation.get("params", CALL),
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 403


def test_signature_holds_behind_a_proxy_that_rewrote_https_to_http(client: FlaskClient) -> None:
    # Twilio signed https://voiceline.example.test/...; the app sees http://10.0.0.5:8000/...
    response = post_signed(client, "/twilio/voice", CALL, base="http://10.0.0.5:8000")
    assert response.status_code == 200


def test_secondary_token_is_accepted_during_rotation(database_url, twilio_api) -> None:
    app = create_app(
        app_config(database_url, twilio_api.base_url, TWILIO_SECONDARY_AUTH_TOKEN="old-token-xyz")
    )
    client = app.test_client()
    assert post_signed(client, "/twilio/voice", CALL, token="old-token-xyz").status_code == 200
    assert post_signed(client, "/twilio/voice", CALL, token="some-other").status_code == 403


def test_without_credentials_every_webhook_is_refused(database_url, twilio_api) -> None:
    config = app_config(database_url, twilio_api.base_url)
    config["TWILIO_ACCOUNT_SID"] = config["TWILIO_AUTH_TOKEN"] = ""
    app = create_app(config)
    assert extensions.telephony(app).name == "console"
    assert post_signed(app.test_client(), "/twilio/voice", CALL).status_code == 403
