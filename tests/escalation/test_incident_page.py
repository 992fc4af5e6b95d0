"""One incident's page: the message plays, the caller and promise in one card, the story
in sentences in the customer's zone and in order, notes, and the actions behind CSRF.

Everything arrives the way it would in production: signed Twilio webhooks for the call
and the pages, the fake Twilio API holding the audio, the admin's forms with their token.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from escalation.due import run_due
from escalation.wiring import paging_for
from simulator.rest import FakeTwilioApi
from tests.admin_helpers import create_admin, csrf_token, log_in, post_form, text_of
from tests.conftest import EXAMPLE_DIRECTORY, post_signed
from tests.escalation_helpers import PAT, load_text, pages, quiet, settled
from tests.incident_pages_helpers import latest_incident_id, leave_message
from tests.line_helpers import CallDriver
from voiceline import extensions
from voiceline.admin.models import AuditEntry
from voiceline.clock import ManualClock
from voiceline.incidents.models import IncidentEvent

CHRIS = "+14155550144"  # Bayside Cafe: no after-hours cover, may buy it at 1.5x
SAID = "Our server room is flooded and the phones are dead."


def directory(**service: str) -> str:
    """Return the example directory, with extra service settings."""
    raw = yaml.safe_load(EXAMPLE_DIRECTORY.read_text())
    raw["service"].update(service)
    return yaml.safe_dump(raw)


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    """The example desk is loaded and an admin is logged in."""
    load_text(app, directory())
    create_admin(extensions.database(app))
    assert log_in(client).status_code == 302
    return client


def emergency(client: FlaskClient, app: Flask, api: FakeTwilioApi, **kw: object) -> int:
    """Pat leaves an emergency message; return the incident once its first pages went out."""
    leave_message(client, api, PAT, said=SAID, **kw)  # type: ignore[arg-type]
    incident_id = latest_incident_id(app)
    settled(app, incident_id)
    return incident_id


def sentences(page_html: str) -> list[str]:
    """Return the timeline's sentences in the order the page shows them."""
    found = re.findall(r'<span class="sentence">(.*?)</span>', page_html, flags=re.S)
    return [html.unescape(s) for s in found]


def times(page_html: str) -> list[str]:
    """Return the machine-readable times of the timeline's lines, in page order."""
    story = page_html.split('<ol class="story">', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'<li class="[^"]*" data-kind="[^"]*">\s*<time datetime="([^"]+)"', story)


def in_order(found: list[str], wanted: list[str]) -> bool:
    """Tell whether ``wanted`` appear in ``found`` in this order (others may come between)."""
    rest = iter(found)
    return all(any(line == w for line in rest) for w in wanted)


def status(client: FlaskClient, incident_id: int, key: str, **form: str) -> None:
    """Post a signed status callback for one of the incident's pages."""
    response = post_signed(client, f"/twilio/status/page/{incident_id}/{key}", form)
    assert response.status_code in (200, 204), response.data


def test_the_message_plays_through_the_signed_link_with_its_transcript(
    admin: FlaskClient, app: Flask, twilio_api: FakeTwilioApi
) -> None:
    incident_id = emergency(admin, app, twilio_api, transcript=SAID, seconds=8)
    page = admin.get(f"/admin/incidents/{incident_id}").get_data(as_text=True)

    audio = re.search(r'<audio controls preload="none" src="([^"]+)">', page)
    assert audio, "the page has no audio element"
    src = html.unescape(audio.group(1))
    assert re.fullmatch(r"/media/recordings/\d+\?token=[\w.-]+", src), src
    before = len(twilio_api.requests_to(".mp3", method="GET"))
    played = admin.get(src)
    assert played.status_code == 200 and played.mimetype == "audio/mpeg"
    assert len(played.data) > 100
    fetched = twilio_api.requests_to(".mp3", method="GET")[before:]
    assert len(fetched) == 1 and fetched[0].is_authorized  # with the account's credentials
    assert admin.get(src.replace("token=", "token=x")).status_code == 403

    assert f'<blockquote class="transcript"><p>{SAID}</p></blockquote>' in page
    text = text_of(admin.get(f"/admin/incidents/{incident_id}"))
    assert "Message, 8 s, left Sun 22 Nov 2026 02:00 PST" in text
    assert "recording_sid:" not in text and "duration_seconds:" not in text


def test_a_message_without_a_transcript_says_so(
    admin: FlaskClient, app: Flask, twilio_api: FakeTwilioApi
) -> None:
    incident_id = emergency(admin, app, twilio_api)
    text = text_of(admin.get(f"/admin/incidents/{incident_id}"))
    assert "No transcript." in text and SAID not in text


def test_caller_customer_plan_and_promise_are_in_one_card(
    admin: FlaskClient, app: Flask, twilio_api: FakeTwilioApi
) -> None:
    incident_id = emergency(admin, app, twilio_api)
    page = admin.get(f"/admin/incidents/{incident_id}").get_data(as_text=True)
    card = page.split('<section class="card caller"', 1)[1].split("</section>", 1)[0]
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", card)).split())
    assert "Caller Pat Jones (primary contact) +1 503-555-0111" in text
    assert "Customer Acme Dental, time zone America/Los_Angeles (PST)" in text
    assert "Plan Diamond (24x7 emergency cover), $1,500.00 a month" in text
    assert (
        "Call back promised within 30 min, round the clock ; "
        "callback due Sun 22 Nov 2026 02:30 PST . Due in 30 min" in text
    )
    # Plain words on the page, the SLA's own terms in the tooltip.
    assert '<span class="term" title="SLA deadline">callback due</span>' in card
    assert '<span class="term" title="wall-clock SLA target">round the clock</span>' in card
    assert '<time datetime="2026-11-22T10:30:00Z"' in card


def test_a_missed_promise_shows_the_credit_in_the_service_currency(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_text(app, directory(currency="EUR"))
    create_admin(extensions.database(app))
    log_in(client)
    incident_id = emergency(client, app, twilio_api)
    clock.advance(timedelta(minutes=45))
    path = f"/admin/incidents/{incident_id}"
    post_form(client, f"{path}/callback", {"analyst": "sam"}, page=path)
    quiet(app)
    text = text_of(client.get(path))
    # Diamond credits 10% of the 1,500.00 monthly fee for each missed callback.
    assert "Called back after 45 min, 15 min late promise missed credit owed : €150.00" in text
    assert (
        "Sam Okafor called back logged by hand 45 min after the message, 15 min late; "
        "credit owed €150.00 promise missed" in text
    )


def test_the_timeline_tells_the_escalation_in_sentences_in_the_customer_zone(
    admin: FlaskClient, app: Flask, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    incident_id = emergency(admin, app, twilio_api)
    sent = pages(app, incident_id)
    status(admin, incident_id, "0.0.sam.sms.1", MessageSid=sent["0.0.sam.sms.1"].provider_sid or "", MessageStatus="delivered")  # fmt: skip
    status(admin, incident_id, "0.0.sam.voice.1", CallSid=sent["0.0.sam.voice.1"].provider_sid or "", CallStatus="busy")  # fmt: skip
    quiet(app)
    clock.advance(timedelta(minutes=5))
    run_due(paging_for(app))
    quiet(app)
    sent = pages(app, incident_id)
    status(admin, incident_id, "0.1.casey.voice.1", CallSid=sent["0.1.casey.voice.1"].provider_sid or "", CallStatus="no-answer")  # fmt: skip
    clock.advance(timedelta(seconds=40))
    path = f"/admin/incidents/{incident_id}"
    post_form(admin, f"{path}/acknowledge", {"analyst": "casey"}, page=path)
    quiet(app)

    page = admin.get(path).get_data(as_text=True)
    story = sentences(page)
    assert in_order(
        story,
        [
            "Pat Jones called the emergency line",
            "Pat Jones left a message (8 s)",
            "Paging started, following “Tier 1, then Tier 2, then management”",
            "Step 1: paging Sam Okafor by text and call",
            "Sam Okafor was texted",
            "Sam Okafor was called",
            "The text reached Sam Okafor",
            "Sam Okafor did not answer the call (busy)",
            "Nobody acknowledged step 1 in time",
            "Step 2: paging Casey Nguyen by text and call",
            "Casey Nguyen was texted",
            "Casey Nguyen was called",
            "Casey Nguyen did not answer the call (no answer)",
            "Casey Nguyen acknowledged on the admin page",
        ],
    ), story
    # The raw dump is folded into each line's details, not in the sentences.
    assert not any(re.search(r"\b(key|missed|sid):", s) for s in story)
    stamps = times(page)
    assert stamps == sorted(stamps) and len(stamps) == len(story)
    text = text_of(admin.get(path))
    assert "Sun 22 Nov 2026 02:05:00 PST Nobody acknowledged step 1 in time" in text
    assert "Sun 22 Nov 2026 02:05:40 PST Casey Nguyen acknowledged on the admin page" in text
    assert "a reminder goes out Sun 22 Nov 2026 02:20 PST if nobody has called back" in text


def test_a_line_logged_late_with_an_earlier_time_stands_where_it_happened(
    admin: FlaskClient, app: Flask, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    # Chris agrees to pay at 02:00 and finishes his message at 02:02: the consent is
    # written after the incident opens, stamped with when he pressed 1.
    driver = CallDriver(admin, CHRIS)
    driver.dial()
    driver.press("1")
    clock.advance(timedelta(minutes=2))
    action, status_path = driver.record()
    recording = twilio_api.add_recording(driver.call_sid, "The till is down.", 6)
    fields = {
        "RecordingSid": recording.sid,
        "RecordingUrl": twilio_api.recording_url(recording.sid),
        "RecordingDuration": "6",
    }
    driver.post(action, Digits="#", **fields)
    driver.post_callback(status_path, RecordingStatus="completed", **fields)
    incident_id = latest_incident_id(app)
    settled(app, incident_id)
    with extensions.database(app).session() as session:
        logged = list(
            session.scalars(
                select(IncidentEvent.kind)
                .filter_by(incident_id=incident_id)
                .order_by(IncidentEvent.id)
            )
        )
    assert logged.index("opened") < logged.index("billable_consent")  # written late

    page = admin.get(f"/admin/incidents/{incident_id}").get_data(as_text=True)
    story = sentences(page)
    assert story[:3] == [
        "Chris Moreno agreed to pay for emergency support (1.5x the standard rate)",
        "Chris Moreno called and asked for billable emergency support",
        "Chris Moreno left a message (6 s)",
    ]
    stamps = times(page)
    assert stamps == sorted(stamps)
    assert stamps[0] == "2026-11-22T10:00:00Z" and stamps[1] == "2026-11-22T10:02:00Z"
    text = text_of(admin.get(f"/admin/incidents/{incident_id}"))
    assert "Times in America/Los_Angeles (PST)" in text  # Bayside Cafe is in California


def test_technical_lines_are_folded_until_asked_for(
    admin: FlaskClient, app: Flask, twilio_api: FakeTwilioApi
) -> None:
    incident_id = emergency(admin, app, twilio_api)
    path = f"/admin/incidents/{incident_id}"
    short = sentences(admin.get(path).get_data(as_text=True))
    full = sentences(admin.get(f"{path}?all=1").get_data(as_text=True))
    assert "A text to Sam Okafor was queued" not in short
    assert "A text to Sam Okafor was queued" in full
    assert "Handed over for paging" in full and "Handed over for paging" not in short
    hidden = len(full) - len(short)
    assert hidden > 0
    assert f"Show the {hidden} technical lines too" in text_of(admin.get(path))
    # Each line keeps its raw detail, folded.
    page = admin.get(path).get_data(as_text=True)
    assert '<dt>key</dt><dd class="mono">0.0.sam.sms.1</dd>' in page


def test_a_note_is_kept_in_the_log_and_the_audit_log(
    admin: FlaskClient, app: Flask, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    incident_id = emergency(admin, app, twilio_api)
    path = f"/admin/incidents/{incident_id}"
    clock.advance(timedelta(minutes=3))
    note = "Spoke to Pat: <b>the building</b> is closed until 6."
    response = post_form(admin, f"{path}/note", {"text": f"  {note}  "}, page=path)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{path}#notes")

    with extensions.database(app).session() as session:
        event = session.scalars(select(IncidentEvent).filter_by(kind="note")).one()
        assert (event.actor, event.detail, event.at) == ("admin admin", {"text": note}, clock.now())
        entry = session.scalars(select(AuditEntry).filter_by(action="incident_note")).one()
        assert (entry.actor, entry.subject) == ("admin", f"incident {incident_id}")
        assert entry.detail == {"text": note}
    page = admin.get(path).get_data(as_text=True)
    assert "&lt;b&gt;the building&lt;/b&gt;" in page and "<b>the building" not in page
    text = text_of(admin.get(path))
    assert f"Notes Admin admin added a note, Sun 22 Nov 2026 02:03 PST {note}" in text
    assert "Admin admin added a note" in sentences(page)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("   ", "Write the note before adding it."),
        ("x" * 2001, "A note is at most 2000 characters; this one has 2001."),
    ],
)
def test_a_bad_note_is_refused_and_changes_nothing(
    admin: FlaskClient, app: Flask, twilio_api: FakeTwilioApi, text: str, message: str
) -> None:
    incident_id = emergency(admin, app, twilio_api)
    path = f"/admin/incidents/{incident_id}"
    post_form(admin, f"{path}/note", {"text": text}, page=path)
    assert message in text_of(admin.get(path))
    with extensions.database(app).session() as session:
        assert session.scalars(select(IncidentEvent).filter_by(kind="note")).first() is None
        assert session.scalars(select(AuditEntry).filter_by(action="incident_note")).first() is None


@pytest.mark.parametrize(
    ("action", "form"),
    [
        ("note", {"text": "hello"}),
        ("acknowledge", {"analyst": "sam"}),
        ("escalate", {}),
        ("callback", {"analyst": "sam"}),
        ("resolve", {}),
    ],
)
def test_every_form_needs_the_csrf_token(
    admin: FlaskClient, app: Flask, twilio_api: FakeTwilioApi, action: str, form: dict[str, str]
) -> None:
    incident_id = emergency(admin, app, twilio_api)
    path = f"/admin/incidents/{incident_id}"

    def log() -> list[tuple[str, datetime]]:
        with extensions.database(app).session() as session:
            rows = session.execute(
                select(IncidentEvent.kind, IncidentEvent.at).filter_by(incident_id=incident_id)
            )
            return [(kind, at) for kind, at in rows]

    before = log()
    assert admin.post(f"{path}/{action}", data=form).status_code == 400
    forged = {**form, "csrf_token": csrf_token(admin, path)[:-4] + "AAAA"}
    assert admin.post(f"{path}/{action}", data=forged).status_code == 400
    quiet(app)
    assert log() == before


def test_the_page_needs_a_login_and_an_existing_incident(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi
) -> None:
    load_text(app, directory())
    incident_id = emergency(client, app, twilio_api)
    response = client.get(f"/admin/incidents/{incident_id}")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    create_admin(extensions.database(app))
    log_in(client)
    assert client.get("/admin/incidents/999").status_code == 404
    token = csrf_token(client, f"/admin/incidents/{incident_id}")
    missing = client.post("/admin/incidents/999/note", data={"csrf_token": token, "text": "x"})
    assert missing.status_code == 404


def test_a_withheld_caller_we_could_not_match_reads_in_utc(
    admin: FlaskClient, app: Flask, twilio_api: FakeTwilioApi
) -> None:
    call = CallDriver(admin, "anonymous")
    call.dial()
    action, status_path = call.record()
    recording = twilio_api.add_recording(call.call_sid, "It's Sam from the bakery.", 5)
    fields = {
        "RecordingSid": recording.sid,
        "RecordingUrl": twilio_api.recording_url(recording.sid),
        "RecordingDuration": "5",
    }
    call.post(action, Digits="#", **fields)
    call.post_callback(status_path, RecordingStatus="completed", **fields)
    quiet(app)
    incident_id = latest_incident_id(app)
    page = admin.get(f"/admin/incidents/{incident_id}")
    assert page.status_code == 200
    text = text_of(page)
    assert "Caller A caller with a withheld number withheld" in text
    assert "Customer Not matched to a customer (times in UTC)" in text
    assert "Times in UTC (UTC)." in text
    assert (
        "Sun 22 Nov 2026 10:00:00 UTC A caller with a withheld number left a message (5 s)" in text
    )
    assert '<audio controls preload="none" src="/media/recordings/' in page.get_data(as_text=True)
