"""The incidents pages: the timeline, acting by hand, notices and test pages."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from escalation.due import run_due
from escalation.wiring import paging_for
from simulator.rest import FakeTwilioApi
from tests.admin_helpers import create_admin, csrf_token, log_in, post_form, text_of
from tests.conftest import post_signed
from tests.escalation_helpers import (
    CASEY,
    SAM,
    emergency,
    incident,
    kinds,
    load_example,
    notices,
    pages,
    quiet,
    sent,
    state,
)
from voiceline import extensions
from voiceline.admin.models import AdminNotice, AuditEntry
from voiceline.clock import ManualClock
from voiceline.sla.clocks import stop_callback

PAGE = "/admin/incidents/1"
ACTIONS = ("acknowledge", "escalate", "callback", "resolve")


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    """An emergency has paged Sam, and an admin is logged in."""
    load_example(app)
    emergency(client, app)
    create_admin(extensions.database(app))
    assert log_in(client).status_code == 302
    return client


def act(client: FlaskClient, action: str, **form: str) -> None:
    response = post_form(client, f"{PAGE}/{action}", form, page=PAGE)
    assert response.status_code == 302 and response.headers["Location"].endswith(PAGE)


def audit_actions(app: Flask) -> list[str]:
    with extensions.database(app).session() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_the_pages_need_a_login(app: Flask, client: FlaskClient) -> None:
    load_example(app)
    for path in ("/admin/incidents", PAGE):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert client.post(f"{PAGE}/resolve").status_code in (302, 400)


def test_the_incident_page_shows_pages_and_the_timeline(admin: FlaskClient, app: Flask) -> None:
    sid = pages(app)["0.0.sam.sms.1"].provider_sid or ""
    post_signed(
        admin,
        "/twilio/status/page/1/0.0.sam.sms.1",
        {"MessageSid": sid, "MessageStatus": "delivered"},
    )
    listing = text_of(admin.get("/admin/incidents"))
    assert "#1 Paging" in listing and "Acme Dental" in listing
    page = text_of(admin.get(PAGE))
    assert (
        "Paging: paging order “Tier 1, then Tier 2, then management”, step 1 of 3, round 1 of 2"
        in page
    )
    assert "callback due Sun 22 Nov 2026 02:30 PST" in page
    assert "next step Sun 22 Nov 2026 02:05 PST" in page
    assert 'value="sam" selected' in admin.get(PAGE).get_data(as_text=True)
    assert "Sam Okafor Text +1 503-555-0202 delivered" in page
    assert "Sam Okafor Call +1 503-555-0202 sent" in page
    for line in (
        "Pat Jones left a message (14 s)",
        "Paging started, following “Tier 1, then Tier 2, then management”",
        "Sam Okafor was texted",
        "The text reached Sam Okafor",
    ):
        assert line in page


def test_acknowledge_by_hand_stops_the_escalation(
    admin: FlaskClient, app: Flask, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    act(admin, "acknowledge", analyst="sam")
    quiet(app)
    assert state(app).acknowledged_by == "sam" and incident(app).status == "acknowledged"
    assert "incident_acknowledge" in audit_actions(app)
    clock.advance(timedelta(minutes=5))
    run_due(paging_for(app))
    assert sent(twilio_api, "sms", CASEY) == []
    assert "Acknowledged by Sam Okafor" in text_of(admin.get(PAGE))


def test_escalate_now_pages_the_next_tier(
    admin: FlaskClient, app: Flask, twilio_api: FakeTwilioApi
) -> None:
    act(admin, "escalate")
    quiet(app)
    assert len(sent(twilio_api, "sms", CASEY)) == 1
    assert state(app).step == 1


def test_a_callback_logged_by_hand_ends_it_and_resolve_closes(
    admin: FlaskClient, app: Flask, clock: ManualClock
) -> None:
    clock.advance(timedelta(minutes=20))
    act(admin, "callback", analyst="sam")
    quiet(app)
    row = incident(app)
    assert row.callback_at == clock.now() and row.callback_kind == "web"
    assert state(app).status == "called_back"
    html = admin.get(PAGE).get_data(as_text=True)
    for action in ACTIONS:  # nothing left to do
        assert f"{PAGE}/{action}" not in html


def test_resolve_closes_the_incident(admin: FlaskClient, app: Flask) -> None:
    act(admin, "resolve")
    quiet(app)
    assert incident(app).status == "closed" and state(app).status == "resolved"


def test_an_action_without_the_csrf_token_is_refused(admin: FlaskClient, app: Flask) -> None:
    assert admin.post(f"{PAGE}/acknowledge", data={"analyst": "sam"}).status_code == 400
    assert state(app).status == "paging"


def test_acknowledging_needs_a_known_analyst(admin: FlaskClient, app: Flask) -> None:
    act(admin, "acknowledge", analyst="nobody")
    assert "Choose the analyst who has it." in text_of(admin.get(PAGE))
    assert state(app).status == "paging"


def test_a_callback_recorded_on_the_sla_page_stops_paging(
    admin: FlaskClient, app: Flask, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    clock.advance(timedelta(minutes=3))
    with extensions.database(app).session() as session:
        row = session.get(type(incident(app)), 1)
        assert row is not None
        stop_callback(session, row, clock.now(), "web", True, actor="admin")
    clock.advance(timedelta(minutes=2))
    run_due(paging_for(app))
    assert sent(twilio_api, "sms", CASEY) == []
    assert state(app).status == "called_back"


def test_test_pages_reach_the_analyst(
    admin: FlaskClient, app: Flask, twilio_api: FakeTwilioApi
) -> None:
    token = csrf_token(admin, "/admin/incidents")
    for channel in ("sms", "voice"):
        response = admin.post(
            "/admin/analysts/sam/test-page", data={"csrf_token": token, "channel": channel}
        )
        assert response.status_code == 302
    sms = sent(twilio_api, "sms", SAM)[-1]
    assert (sms.get("Body") or "").startswith("Voiceline test page for Sam Okafor")
    call = sent(twilio_api, "call", SAM)[-1]
    assert (call.get("Url") or "").endswith("/twilio/test-page")
    assert audit_actions(app).count("test_page") == 2
    twiml = post_signed(admin, "/twilio/test-page", {"CallSid": "CA" + "9" * 32})
    assert b"Voice pages reach this phone" in twiml.data
    assert "Test voice page sent to Sam Okafor" in text_of(admin.get("/admin/incidents"))


def test_notices_are_shown_until_dealt_with(admin: FlaskClient, app: Flask) -> None:
    reply = {"MessageSid": "SM" + "7" * 32, "From": SAM, "Body": "STOP"}
    post_signed(admin, "/twilio/sms", reply)
    quiet(app)
    assert any("texted STOP" in n for n in notices(app))
    listing = text_of(admin.get("/admin/incidents"))
    assert "texted STOP" in listing and "Needs a person" in listing
    with extensions.database(app).session() as session:
        notice_ids = list(session.scalars(select(AdminNotice.id)))
    for notice_id in notice_ids:
        post_form(admin, f"/admin/notices/{notice_id}/resolve", {}, page="/admin/incidents")
    assert "Needs a person" not in text_of(admin.get("/admin/incidents"))


def _flashes(client: FlaskClient, category: str) -> list[str]:
    """Return the messages of ``category`` the next admin page shows (and so clears)."""
    html = client.get("/admin/").get_data(as_text=True)
    found = re.findall(rf'<p class="flash flash-{category}" role="status">([^<]*)</p>', html)
    return [unescape(m) for m in found]


@pytest.mark.parametrize("action", ACTIONS)
def test_acting_on_an_ended_escalation_is_refused_and_changes_nothing(
    admin: FlaskClient, app: Flask, action: str
) -> None:
    act(admin, "resolve")
    quiet(app)
    _flashes(admin, "ok")
    audit, log, ended = audit_actions(app), kinds(app), state(app)
    act(admin, action, analyst="sam")
    quiet(app)
    [error] = _flashes(admin, "error")
    assert error.startswith("Incident 1: not done") and "ended (resolved)" in error
    assert (audit_actions(app), kinds(app), state(app)) == (audit, log, ended)


def test_acknowledging_for_another_when_taken_is_refused_and_changes_nothing(
    admin: FlaskClient, app: Flask
) -> None:
    act(admin, "acknowledge", analyst="sam")
    quiet(app)
    _flashes(admin, "ok")
    audit, log, taken = audit_actions(app), kinds(app), state(app)
    act(admin, "acknowledge", analyst="casey")
    quiet(app)
    [error] = _flashes(admin, "error")
    assert "already acknowledged by sam" in error
    assert _flashes(admin, "ok") == []
    assert (audit_actions(app), kinds(app), state(app)) == (audit, log, taken)
    assert taken.acknowledged_by == "sam"
