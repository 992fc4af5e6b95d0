"""The admins see open alarms on every admin page and mark them dealt with at /admin/alarms."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from simulator.rest import FakeTwilioApi
from tests.admin_helpers import create_admin, log_in, post_form, text_of
from tests.alarms.alarm_helpers import alarms, health
from tests.escalation_helpers import SAM, desk, emergency, load_text
from voiceline import extensions
from voiceline.admin.models import AdminNotice, AuditEntry
from voiceline.alarms import raise_alarm
from voiceline.clock import ManualClock

SMS_ONLY = "      - {targets: [{on_call: tier1}], channels: [sms], delay: 5m}"
MESSAGE = "incident 1: the sms page to sam failed: Twilio error 21211 (invalid 'To' phone number)"


@pytest.fixture
def admin(app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi) -> FlaskClient:
    """Sam's SMS number is wrong, so paging raised an alarm; an admin is logged in."""
    load_text(app, desk(SMS_ONLY))
    twilio_api.fail_next("sms", to=SAM, status=400, code=21211)
    emergency(client, app)
    create_admin(extensions.database(app))
    assert log_in(client).status_code == 302
    return client


def notice_id(app: Flask) -> int:
    with extensions.database(app).session() as session:
        found = session.scalar(select(AdminNotice.id))
        assert found is not None
        return found


def test_open_alarms_are_flagged_on_every_admin_page(admin: FlaskClient) -> None:
    for page in ("/admin/", "/admin/incidents", "/admin/audit"):
        text = text_of(admin.get(page))
        assert "Alarms (1)" in text and "1 open alarm: paging needs a person." in text
    listing = text_of(admin.get("/admin/alarms"))
    assert "Open (1)" in listing and f"page_failed #1 {MESSAGE}" in listing


def test_an_alarm_dealt_with_is_audited_and_health_recovers(admin: FlaskClient, app: Flask) -> None:
    assert health(admin)["status"] == "degraded"
    alarm = notice_id(app)
    response = post_form(admin, f"/admin/alarms/{alarm}/resolve", {}, page="/admin/alarms")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/alarms")
    listing = text_of(admin.get("/admin/alarms"))
    assert "Alarm marked as dealt with." in listing and "No open alarms" in listing
    assert "Dealt with lately" in listing and MESSAGE in listing
    assert "Alarms (1)" not in listing and "open alarm:" not in listing
    assert [a.is_open for a in alarms(app)] == [False]
    with extensions.database(app).session() as session:
        entry = session.scalars(select(AuditEntry).filter_by(action="alarm_resolved")).one()
        assert entry.actor == "admin" and entry.detail["message"] == MESSAGE
    assert health(admin) == {"status": "ok", "database": "ok"}
    again = post_form(admin, f"/admin/alarms/{alarm}/resolve", {}, page="/admin/alarms")
    assert again.status_code == 302
    assert "already dealt with" in text_of(admin.get("/admin/alarms"))
    with extensions.database(app).session() as session:
        assert (
            len(list(session.scalars(select(AuditEntry).filter_by(action="alarm_resolved")))) == 1
        )


def test_resolving_needs_a_login_and_a_csrf_token(admin: FlaskClient, app: Flask) -> None:
    alarm = notice_id(app)
    assert admin.post(f"/admin/alarms/{alarm}/resolve").status_code == 400  # no token
    anonymous = app.test_client()
    response = anonymous.get("/admin/alarms")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert alarms(app)[0].is_open


def test_an_unknown_alarm_changes_nothing(admin: FlaskClient, app: Flask) -> None:
    response = post_form(admin, "/admin/alarms/999/resolve", {}, page="/admin/alarms")
    assert response.status_code == 302
    assert "There is no alarm 999." in text_of(admin.get("/admin/alarms"))
    assert alarms(app)[0].is_open


def test_alarm_text_is_escaped(admin: FlaskClient, app: Flask, clock: ManualClock) -> None:
    with extensions.database(app).session() as session:
        raise_alarm(session, "escalation", "<script>x()</script>", now=clock.now())
    page = admin.get("/admin/alarms").get_data(as_text=True)
    assert "<script>x()" not in page and "&lt;script&gt;x()&lt;/script&gt;" in page
