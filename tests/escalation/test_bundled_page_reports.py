"""Twilio's reports about a bundled SMS reach every incident the bundle named."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from escalation.due import run_due
from escalation.throttle import SMS_LIMITS
from escalation.wiring import paging_for
from simulator.rest import FakeTwilioApi
from tests.conftest import post_signed
from tests.escalation.test_bundled_pages import burst  # noqa: F401 (a fixture)
from tests.escalation_helpers import events, pages, quiet
from tests.escalation_helpers import state as state_of
from voiceline.clock import ManualClock


def bundle_page(app: Flask, incident_id: int) -> tuple[str, str]:
    """Return the key of the incident's SMS page to Sam and the SID of its message."""
    [(key, row)] = [(k, p) for k, p in pages(app, incident_id).items() if p.channel == "sms"]
    [sid] = [d["sid"] for kind, d in events(app, incident_id) if kind == "page_sent"]
    assert row.status == "accepted"
    return key, str(sid)


def report(client: FlaskClient, incident_id: int, key: str, **params: str) -> int:
    """Post an SMS status callback to the URL the message was sent with."""
    return post_signed(client, f"/twilio/status/page/{incident_id}/{key}", params).status_code


def sent_bundle(app: Flask, clock: ManualClock, paged: list[int]) -> tuple[list[int], str, str]:
    """Send the bundle after the first page; return its incidents, lead key and SID."""
    clock.advance(SMS_LIMITS.min_gap)
    run_due(paging_for(app))
    rest = paged[1:]
    key, sid = bundle_page(app, rest[0])
    assert all(bundle_page(app, i)[1] == sid for i in rest)
    return rest, key, sid


def voice_pages_to_sam(app: Flask, incident_id: int) -> list[str]:
    """Return the keys of the voice pages the incident's escalation sent Sam."""
    state = state_of(app, incident_id)
    return [p.key for p in state.pages if p.analyst == "sam" and p.channel == "voice"]


def test_an_undelivered_bundle_falls_back_to_voice_for_every_incident_it_named(
    app: Flask,
    client: FlaskClient,
    burst: list[int],  # noqa: F811
    twilio_api: FakeTwilioApi,
    clock: ManualClock,
) -> None:
    rest, key, sid = sent_bundle(app, clock, burst)
    failed = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert report(client, rest[0], key, **failed) == 204
    assert report(client, rest[0], key, **failed) == 204  # Twilio retries: applied once
    quiet(app)
    for incident_id in rest:
        [row] = [p for p in pages(app, incident_id).values() if p.channel == "sms"]
        assert (row.status, row.error_code) == ("undelivered", 30003)
        assert len(voice_pages_to_sam(app, incident_id)) == 1, incident_id
        reports = [d for kind, d in events(app, incident_id) if kind == "page_status"]
        assert [(d["status"], d["code"]) for d in reports] == [("undelivered", 30003)]
    assert voice_pages_to_sam(app, burst[0]) == []  # its own text was not the bundle
    assert {p.status for p in pages(app, burst[0]).values()} == {"accepted"}


def test_a_delivered_bundle_marks_every_bundled_page_delivered(
    app: Flask,
    client: FlaskClient,
    burst: list[int],  # noqa: F811
    twilio_api: FakeTwilioApi,
    clock: ManualClock,
) -> None:
    rest, key, sid = sent_bundle(app, clock, burst)
    for status in ("sent", "delivered", "delivered", "sent"):
        assert report(client, rest[0], key, MessageSid=sid, MessageStatus=status) == 204
    quiet(app)
    for incident_id in rest:
        assert {p.status for p in pages(app, incident_id).values()} == {"delivered"}
        state = state_of(app, incident_id)
        assert [p.status for p in state.pages if p.analyst == "sam"] == ["delivered"]
        assert voice_pages_to_sam(app, incident_id) == []
