"""The SLA promise end to end: a call on the real webhooks, the callback by SMS or on the
admin page, and what the live view and the report page then show.

The conftest clock starts on Sunday 2026-11-22 02:00 in Oregon: Acme Dental (Diamond) is
after hours and covered, 30 minutes on the wall clock; Diamond credits 10% of its 1500.00
monthly fee per breach.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from escalation.wiring import paging_for
from tests.admin_helpers import create_admin, csrf_token, log_in, text_of
from tests.conftest import LINE_NUMBER, post_signed
from tests.escalation_helpers import SAM, load_example, settled, wait_sent
from tests.line_helpers import CallDriver
from voiceline import extensions
from voiceline.admin.models import AuditEntry
from voiceline.clock import ManualClock
from voiceline.incidents.models import Incident, IncidentEvent
from voiceline.sla.models import SlaClock

PAT = "+15035550111"  # Acme Dental, authorized
LEE = "+12125550131"  # Harbor Law (Pro, New York)
LA = ZoneInfo("America/Los_Angeles")
_sms = itertools.count(1)


@pytest.fixture
def desk(app: Flask, client: FlaskClient) -> Flask:
    load_example(app)
    create_admin(extensions.database(app))
    log_in(client)
    return app


def leave_emergency(client: FlaskClient, clock: ManualClock) -> datetime:
    """Call as Pat, press 1, speak for 40 seconds; return when the message ended.

    Waits until the first pages are out, so no paging thread outlives the test.
    """
    call = CallDriver(client, PAT)
    call.dial()
    call.press("1")
    clock.advance(timedelta(seconds=40))
    call.leave_message()
    app = client.application
    with extensions.database(app).session() as session:
        incident_id = session.scalars(select(Incident.id)).one()
    settled(app, incident_id)
    return clock.now()


def callback_clock(app: Flask, incident_id: int) -> SlaClock:
    with extensions.database(app).session() as session:
        return session.scalars(
            select(SlaClock).filter_by(incident_id=incident_id, metric="callback")
        ).one()


def only_incident(app: Flask) -> Incident:
    with extensions.database(app).session() as session:
        return session.scalars(select(Incident)).one()


def report_callback(client: FlaskClient, app: Flask, how: str, incident_id: int) -> None:
    """Report the callback the way an analyst or admin would: SMS ``C`` or the SLA page."""
    if how == "sms":
        wait_sent(app.extensions["test.twilio_api"], "sms", SAM)
        params = {
            "MessageSid": f"SM{next(_sms):032x}",
            "From": SAM,
            "To": LINE_NUMBER,
            "Body": f"{incident_id} C",
            "NumMedia": "0",
        }
        assert post_signed(client, "/twilio/sms", params).status_code == 200
        paging_for(app).drain()
    else:
        token = csrf_token(client, "/admin/sla")
        response = client.post(
            f"/admin/sla/incidents/{incident_id}/callback", data={"csrf_token": token, "at": ""}
        )
        assert response.status_code == 302


@pytest.fixture
def paged_desk(desk: Flask, twilio_api) -> Flask:
    desk.extensions["test.twilio_api"] = twilio_api
    return desk


@pytest.mark.parametrize("how", ["sms", "web"])
def test_called_back_at_29_minutes_is_met(paged_desk, client, clock, how) -> None:
    finished = leave_emergency(client, clock)
    incident = only_incident(paged_desk)
    settled(paged_desk, incident.id)
    assert incident.deadline_at == finished + timedelta(minutes=30)
    clock.set(finished + timedelta(minutes=29))
    report_callback(client, paged_desk, how, incident.id)
    clock_row = callback_clock(paged_desk, incident.id)
    assert clock_row.stopped_at == finished + timedelta(minutes=29)
    assert (clock_row.is_met, clock_row.minutes_over, clock_row.credit) == (True, 0, {})
    assert clock_row.stop_kind == how and clock_row.is_reported is True
    assert clock_row.wall_seconds == 29 * 60
    assert only_incident(paged_desk).callback_at == clock_row.stopped_at


@pytest.mark.parametrize("how", ["sms", "web"])
def test_called_back_at_31_minutes_is_breached_with_the_credit(
    paged_desk, client, clock, how
) -> None:
    finished = leave_emergency(client, clock)
    incident = only_incident(paged_desk)
    settled(paged_desk, incident.id)
    clock.set(finished + timedelta(minutes=31))
    report_callback(client, paged_desk, how, incident.id)
    clock_row = callback_clock(paged_desk, incident.id)
    assert (clock_row.is_met, clock_row.minutes_over) == (False, 1)
    # Diamond's rule: 10% of the 1500.00 monthly fee per breach = 150.00; one breach is
    # under the monthly cap of 50% (750.00), so the month's credit is 150.00 as well.
    assert clock_row.credit["amount"] == "150.00"
    page = text_of(client.get("/admin/sla/report?month=2026-11&customer=acme-dental"))
    # (text_of leaves a space where the term's tooltip element ends)
    assert "Incidents: 1 · Credit owed : $150.00" in page
    assert f"#{incident.id} callback, emergency" in page
    assert "Sun 22 Nov 2026 02:00 PST Sun 22 Nov 2026 02:30 PST Sun 22 Nov 2026 02:31 PST" in page
    # the clock has stopped: the live view no longer lists it
    assert "No SLA clock is running." in text_of(client.get("/admin/sla"))


def test_a_business_hours_message_left_friday_1600_is_due_monday_1130(desk, client, clock) -> None:
    # Friday 20 November 16:00 in Oregon: the desk rings, nobody answers; Diamond's
    # 24x7 cover offers the emergency menu, and Pat chooses a standard message (2).
    clock.set(datetime(2026, 11, 20, 16, 0, tzinfo=LA))
    call = CallDriver(client, PAT)
    assert call.dial().has("Dial")
    assert call.post("/twilio/voice/desk", DialCallStatus="no-answer").has("Gather")
    assert call.press("2").has("Record")
    call.leave_message()
    incident = only_incident(desk)
    assert incident.priority == "standard"
    clock_row = callback_clock(desk, incident.id)
    # 4 business hours of Mon-Fri 08:00-16:30: 0:30 on Friday, 3:30 on Monday morning
    due = datetime(2026, 11, 23, 11, 30, tzinfo=LA)
    assert clock_row.deadline_at == due == incident.deadline_at
    assert (clock_row.clock, clock_row.time_zone) == ("business", "America/Los_Angeles")

    def live_row() -> str:
        response = client.get("/admin/sla")
        if response.status_code == 302:  # the clock jumped further than a login lasts
            log_in(client)
            response = client.get("/admin/sla")
        return text_of(response)

    assert "on track" in live_row() and "Mon 23 Nov 2026 11:30 PST 4 h at" in live_row()
    clock.set(datetime(2026, 11, 22, 12, 0, tzinfo=LA))  # Sunday: no business time runs
    assert "PST 3 h 30 min at" in live_row()
    clock.set(datetime(2026, 11, 23, 9, 30, tzinfo=LA))
    assert "50% used" in live_row() and "PST 2 h at" in live_row()
    clock.set(datetime(2026, 11, 23, 10, 30, tzinfo=LA))
    assert "75% used" in live_row()
    clock.set(datetime(2026, 11, 23, 11, 31, tzinfo=LA))
    assert "promise missed" in live_row() and "late by 1 min" in live_row()


def test_a_callback_reported_late_on_the_page_keeps_its_own_time(desk, client, clock) -> None:
    finished = leave_emergency(client, clock)
    incident = only_incident(desk)
    clock.set(finished + timedelta(hours=2))
    token = csrf_token(client, "/admin/sla")
    # the analyst called at 02:20 Pacific and tells the admin at 04:00
    response = client.post(
        f"/admin/sla/incidents/{incident.id}/callback",
        data={"csrf_token": token, "at": "2026-11-22T02:20"},
    )
    assert response.status_code == 302
    clock_row = callback_clock(desk, incident.id)
    assert clock_row.stopped_at == datetime(2026, 11, 22, 2, 20, tzinfo=LA)
    assert clock_row.is_met is True and clock_row.stop_kind == "web"
    settled(desk, incident.id)
    with extensions.database(desk).session() as session:
        paged = session.get(Incident, incident.id)
        # the escalation stopped at once: nothing more is due, no further step will page
        assert paged.escalation_state["status"] == "called_back"
        assert paged.next_due_at is None
        entry = session.scalars(select(AuditEntry).filter_by(action="sla_callback")).one()
        assert (entry.actor, entry.subject) == ("admin", f"incident {incident.id}")


@pytest.mark.parametrize(
    "at, message",
    [
        ("2026-11-22T09:00", "in the future"),
        ("yesterday", "cannot read the time"),
        ("2026-11-22T01:00", "before the incident"),
    ],
)
def test_a_bad_callback_time_is_refused_and_changes_nothing(desk, client, clock, at, message):
    leave_emergency(client, clock)
    incident = only_incident(desk)
    token = csrf_token(client, "/admin/sla")
    response = client.post(
        f"/admin/sla/incidents/{incident.id}/callback",
        data={"csrf_token": token, "at": at},
        follow_redirects=True,
    )
    assert message in text_of(response)
    assert callback_clock(desk, incident.id).stopped_at is None
    with extensions.database(desk).session() as session:
        assert session.scalars(select(AuditEntry).filter_by(action="sla_callback")).all() == []


def test_pause_and_resume_from_the_live_view(desk, client, clock) -> None:
    # Thames Print (Cat2) restoration is pausable: 12 h wall
    alice = "+442079460321"
    clock.set(datetime(2026, 11, 22, 12, 0, tzinfo=UTC))  # Sunday noon in London, covered
    call = CallDriver(client, alice)
    call.dial()
    call.press("1")
    call.leave_message()
    incident = only_incident(desk)
    settled(desk, incident.id)
    page = client.get("/admin/sla").get_data(as_text=True)
    assert page.count('name="reason"') == 1  # only the restoration row may pause
    token = csrf_token(client, "/admin/sla")
    url = f"/admin/sla/incidents/{incident.id}"
    refused = client.post(f"{url}/pause", data={"csrf_token": token}, follow_redirects=True)
    assert "a pause needs a reason" in text_of(refused)
    clock.advance(timedelta(hours=1))
    reason = "waiting for customer access"
    client.post(f"{url}/pause", data={"csrf_token": token, "reason": reason})
    assert "paused" in text_of(client.get("/admin/sla"))
    clock.advance(timedelta(hours=3))
    client.post(f"{url}/resume", data={"csrf_token": token})
    with extensions.database(desk).session() as session:
        restoration = session.scalars(
            select(SlaClock).filter_by(incident_id=incident.id, metric="restoration")
        ).one()
        assert restoration.deadline_at == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 12 h + 3 h
        logged = session.scalars(
            select(IncidentEvent).filter_by(incident_id=incident.id, kind="sla_paused")
        ).one()
        assert (logged.actor, logged.detail["reason"]) == ("admin", reason)
    restored = client.post(f"{url}/restored", data={"csrf_token": token, "at": ""})
    assert restored.status_code == 302
    with extensions.database(desk).session() as session:
        restoration = session.scalars(
            select(SlaClock).filter_by(incident_id=incident.id, metric="restoration")
        ).one()
        assert restoration.is_met is True and restoration.wall_seconds == 3600


def test_sla_pages_need_a_login_and_forms_need_the_token(app, client, clock) -> None:
    load_example(app)
    for path in ("/admin/sla", "/admin/sla/report", "/admin/sla/report.csv"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    create_admin(extensions.database(app))
    log_in(client)
    leave_emergency(client, clock)
    incident = only_incident(app)
    response = client.post(f"/admin/sla/incidents/{incident.id}/callback", data={})
    assert response.status_code == 400  # no CSRF token
    assert callback_clock(app, incident.id).stopped_at is None
    token = csrf_token(client, "/admin/sla")
    assert (
        client.post("/admin/sla/incidents/999/callback", data={"csrf_token": token}).status_code
        == 404
    )
    assert (
        client.post(
            f"/admin/sla/incidents/{incident.id}/close", data={"csrf_token": token}
        ).status_code
        == 404
    )


def test_report_page_errors_and_csv_download(desk, client) -> None:
    bad = client.get("/admin/sla/report?month=2026-13")
    assert bad.status_code == 400 and "a month is written YYYY-MM" in text_of(bad)
    unknown = client.get("/admin/sla/report?month=2026-11&customer=nobody")
    assert unknown.status_code == 400 and "no customer with code 'nobody'" in text_of(unknown)
    csv_response = client.get("/admin/sla/report.csv?month=2026-11&customer=acme-dental")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    assert (
        csv_response.headers["Content-Disposition"]
        == 'attachment; filename="sla-2026-11-acme-dental-targets.csv"'
    )
    lines = csv_response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("month,customer,customer_name,metric,priority")
    assert re.match(
        r"2026-11,acme-dental,Acme Dental,callback,emergency,30,wall,0,0,0,0,", lines[1]
    )
    breaches = client.get("/admin/sla/report.csv?month=2026-11&table=breaches")
    assert breaches.get_data(as_text=True).startswith("month,customer,incident,")
    assert client.get("/admin/sla/report.csv?month=2026-11&table=pivot").status_code == 400
    assert client.get("/admin/sla/report.csv?month=nope").status_code == 400
