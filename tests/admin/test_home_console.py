"""The admin home: open incidents by urgency, alarms, who is on call, and its live sections.

Incidents are opened the way Twilio opens them (signed webhooks on the example desk at
Sunday 02:00 in Oregon, Sam on call for Tier 1) and acted on through the admin pages.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.admin_helpers import create_admin, log_in, post_form, text_of
from tests.escalation_helpers import emergency, load_example, quiet
from tests.line_helpers import CallDriver
from voiceline import extensions
from voiceline.admin.models import AdminNotice
from voiceline.clock import ManualClock

ALICE = "+442079460321"  # Thames Print (Cat2: emergencies covered 07:00-23:00 London)
LEE = "+12125550131"  # Harbor Law (Pro: business hours only, so a message)


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    load_example(app)
    create_admin(extensions.database(app))
    assert log_in(client).status_code == 302
    return client


def _incident_order(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr class="[^"]*" data-incident="(\d+)"', html)]


def _row(html: str, incident_id: int) -> str:
    found = re.search(rf'data-incident="{incident_id}".*?</tr>', html, re.S)
    assert found, f"incident {incident_id} is not listed"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split())


def _act(client: FlaskClient, incident_id: int, action: str, **form: str) -> None:
    page = f"/admin/incidents/{incident_id}"
    response = post_form(client, f"{page}/{action}", form, page=page)
    assert response.status_code == 302


def _message_for_next_business_day(client: FlaskClient) -> None:
    call = CallDriver(client, LEE)
    call.dial()
    call.leave_message()


def test_open_incidents_are_listed_most_urgent_first(
    admin: FlaskClient, app: Flask, clock: ManualClock
) -> None:
    acme = emergency(admin, app)  # Acme Dental, 30-minute callback
    clock.advance(timedelta(minutes=2))
    thames = emergency(admin, app, ALICE)  # Thames Print, 4-hour callback
    clock.advance(timedelta(minutes=1))
    _message_for_next_business_day(admin)
    harbor = acme + 2
    _act(admin, acme, "acknowledge", analyst="sam")
    _act(admin, thames, "escalate")
    quiet(app)

    html = admin.get("/admin/").get_data(as_text=True)
    # Thames Print is escalating and nobody has it, so it comes before Acme Dental,
    # whose callback is sooner but which Sam has taken on; the message comes last.
    assert _incident_order(html) == [thames, acme, harbor]

    thames_row = _row(html, thames)
    assert "Thames Print Ltd" in thames_row and "emergency" in thames_row
    assert "Escalating: step 2 of 3" in thames_row
    assert "Casey Nguyen (SMS" in thames_row  # Tier 2's analyst is being paged now
    assert "Sam Okafor" not in thames_row
    assert "callback: 3 h 59 min left" in thames_row
    assert f'href="/admin/incidents/{thames}"' in html

    acme_row = _row(html, acme)
    assert "Acknowledged by Sam Okafor, callback to come" in acme_row
    assert "callback: 27 min left" in acme_row
    assert "Nobody is paged" in _row(html, harbor)

    page = text_of(admin.get("/admin/"))
    assert "Open incidents (3, 1 not acknowledged)" in page
    assert page.startswith("(1) Home")  # the tab title counts who is waiting


def test_a_paging_emergency_names_its_step_and_who_is_paged(
    admin: FlaskClient, app: Flask, clock: ManualClock
) -> None:
    incident_id = emergency(admin, app)
    clock.advance(timedelta(minutes=31))
    row = _row(admin.get("/admin/").get_data(as_text=True), incident_id)
    assert "Acme Dental" in row
    assert "Escalating: step 1 of 3" in row
    assert re.search(r"Sam Okafor \(SMS \w+, call \w+\)", row), row
    assert "callback: overdue by 1 min" in row


def test_no_open_incidents_says_so(admin: FlaskClient) -> None:
    page = text_of(admin.get("/admin/"))
    assert "No open incidents." in page
    assert page.startswith("Home")


def test_unresolved_alarms_are_shown_with_their_incident(
    admin: FlaskClient, app: Flask, clock: ManualClock
) -> None:
    incident_id = emergency(admin, app)
    now = clock.now()
    with extensions.database(app).session() as session:
        session.add_all(
            [
                AdminNotice(
                    at=now - timedelta(minutes=3),
                    incident_id=incident_id,
                    kind="unpageable",
                    message="Twilio refused the page to Sam Okafor (21211)",
                ),
                AdminNotice(
                    at=now - timedelta(minutes=1),
                    kind="spool_parked",
                    message="A message from +15035550111 could not be replayed",
                ),
                AdminNotice(
                    at=now - timedelta(hours=2),
                    kind="unpageable",
                    message="An old alarm somebody dealt with",
                    resolved_at=now - timedelta(hours=1),
                ),
            ]
        )
    html = admin.get("/admin/").get_data(as_text=True)
    alarms = html.split('id="alarms"')[1].split("</section>")[0]
    text = " ".join(re.sub(r"<[^>]+>", " ", alarms).split())
    assert (
        "Message parked in the spool: A message from +15035550111 could not be replayed (1 min ago)"
        in text
    )
    assert (
        f"Cannot page: #{incident_id} Twilio refused the page to Sam Okafor (21211) (3 min ago)"
        in text
    )
    assert text.index("Message parked") < text.index("Cannot page")  # newest first
    assert f'href="/admin/incidents/{incident_id}"' in alarms
    assert "dealt with" not in text.replace("Mark alarms as dealt with", "")


def test_a_coverage_gap_is_an_alarm(admin: FlaskClient) -> None:
    data = {
        "code": "network",
        "name": "Network on call",
        "time_zone": "Europe/London",
        "shift": "1d",
        "handoff": "2026-11-23T09:00",
        "hours": "",
    }
    assert post_form(admin, "/admin/rotations/new", data).status_code == 302
    html = admin.get("/admin/").get_data(as_text=True)
    alarms = " ".join(re.sub(r"<[^>]+>", " ", html.split('id="alarms"')[1]).split())
    assert "Network on call : nobody is on call" in alarms


def test_the_rota_shows_who_is_on_call_with_the_override(admin: FlaskClient) -> None:
    data = {
        "analyst": "jordan",
        "replaces": "",
        "start": "2026-11-22T00:00",
        "end": "2026-11-23T00:00",
        "note": "",
    }
    tier1 = "/admin/rotations/tier1"
    assert post_form(admin, f"{tier1}/overrides", data, page=tier1).status_code == 302
    html = admin.get("/admin/").get_data(as_text=True)
    row = re.search(r'data-rotation="tier1".*?</tr>', html, re.S)
    assert row
    text = " ".join(re.sub(r"<[^>]+>", " ", row.group(0)).split())
    assert "Jordan Lee (override)" in text
    assert "Mon 23 Nov 2026 00:00 PST → Sam Okafor" in text  # back to Sam's turn at midnight PST


def test_the_live_sections_follow_the_database(
    admin: FlaskClient, app: Flask, client: FlaskClient
) -> None:
    before = admin.get("/admin/home/live")
    assert before.status_code == 200
    assert before.headers["Cache-Control"] == "no-store"
    body = before.get_data(as_text=True)
    assert "<html" not in body and "No open incidents." in body
    for section in ("live-now", "open-incidents", "alarms", "rota"):
        assert re.search(rf'id="{section}"[^>]*data-live-section', body), section

    incident_id = emergency(admin, app)
    after = admin.get("/admin/home/live").get_data(as_text=True)
    assert _incident_order(after) == [incident_id]
    assert 'data-unacknowledged="1"' in after


def test_the_live_sections_need_a_login(app: Flask) -> None:
    load_example(app)
    stranger = app.test_client()
    response = stranger.get("/admin/home/live")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")
    assert "Acme" not in response.get_data(as_text=True)


def test_the_home_page_loads_its_script_and_works_without_it(admin: FlaskClient) -> None:
    html = admin.get("/admin/").get_data(as_text=True)
    assert '<script src="/static/admin/live.js" defer></script>' in html
    assert 'data-live-url="/admin/home/live"' in html
    assert "<noscript>" in html
    # No inline script or style: the admin pages' policy forbids both.
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    assert " style=" not in html and "<style" not in html
    script = admin.get("/static/admin/live.js")
    assert script.status_code == 200 and b"data-live-url" in script.data
