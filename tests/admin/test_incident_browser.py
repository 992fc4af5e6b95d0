"""The incident pages in headless Chromium: filter and page the list, hear the message,
read the story, add a note and act; axe-core finds no serious or critical problem.

The real app (the conftest's: fake Twilio API on loopback, a fixed clock) is served by
werkzeug on a free loopback port. Pat's emergency arrives through signed webhooks with
its audio in the fake Twilio; 120 older incidents are written in bulk for the paging.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from simulator.rest import FakeTwilioApi
from tests.admin.axe_pages import all_checked, axe, watch
from tests.admin_helpers import ADMIN_PASSWORD, ADMIN_USER, create_admin
from tests.conftest import post_signed
from tests.escalation_helpers import PAT, load_example, pages, quiet, settled
from tests.incident_pages_helpers import latest_incident_id, leave_message, many_incidents
from voiceline import extensions
from voiceline.clock import ManualClock

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SAID = "Our server room is flooded and nobody can log in."
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no browser: {CHROMIUM} is not installed (apt-get install chromium)",
    ),
]


@pytest.fixture
def desk(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> tuple[Flask, int]:
    """The example desk, 120 old incidents and Pat's emergency, paged, with a busy voice page."""
    load_example(app)
    database = extensions.database(app)
    create_admin(database)
    many_incidents(database, 120, newest=clock.now() - timedelta(days=1))
    leave_message(client, twilio_api, PAT, said=SAID, seconds=9, transcript=SAID)
    incident_id = latest_incident_id(app)
    settled(app, incident_id)
    sent = pages(app, incident_id)
    for key, form in (
        ("0.0.sam.sms.1", {"MessageStatus": "delivered"}),
        ("0.0.sam.voice.1", {"CallStatus": "busy"}),
    ):
        sid_field = "MessageSid" if "sms" in key else "CallSid"
        form[sid_field] = sent[key].provider_sid or ""
        post_signed(client, f"/twilio/status/page/{incident_id}/{key}", form)
    quiet(app)
    return app, incident_id


@pytest.fixture
def server_url(desk: tuple[Flask, int]) -> Iterator[str]:
    """Serve the app over HTTP on a free loopback port until the test ends."""
    app, _ = desk
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture
def page(server_url: str) -> Iterator[Any]:
    """Return a logged-in Chromium page that records any dialog a script opens."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(15_000)
        tab = context.new_page()
        tab.dialogs = []  # type: ignore[attr-defined]

        def on_dialog(dialog: Any) -> None:
            tab.dialogs.append(dialog.message)  # type: ignore[attr-defined]
            dialog.dismiss()

        tab.on("dialog", on_dialog)
        watch(tab)
        tab.goto(f"{server_url}/admin/incidents")
        no_serious_violations(tab)  # the login form
        tab.get_by_label("Username").fill(ADMIN_USER)
        tab.get_by_label("Password").fill(ADMIN_PASSWORD)
        tab.get_by_role("button", name="Log in").click()
        tab.wait_for_url(f"{server_url}/admin/incidents")
        no_serious_violations(tab)  # the list, as it opens
        yield tab
        all_checked(tab)  # axe ran on every page the test opened
        context.close()
        browser.close()


def shoot(page: Any, name: str) -> None:
    """Save a full-page screenshot to test-artifacts/ and check it is a real picture."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    path.unlink(missing_ok=True)
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000


def no_serious_violations(page: Any) -> None:
    """Run axe-core on the page; fail on any serious or critical violation (and count them)."""
    counts = axe(page)
    print(f"\naxe on {page.url}: {counts['passes']} rules passed, violations {counts['rules']}")


def rows(page: Any) -> list[str]:
    """Return the incident numbers the list shows."""
    return page.locator("table.incidents tbody tr[data-incident]").evaluate_all(
        "rows => rows.map(r => r.dataset.incident)"
    )


def test_the_list_filters_searches_and_pages(
    page: Any, server_url: str, desk: tuple[Flask, int]
) -> None:
    _, incident_id = desk
    first = rows(page)
    assert len(first) == 50 and first[0] == str(incident_id)
    top = page.locator(f'tr[data-incident="{incident_id}"]')
    assert top.locator(".status").inner_text() == "Paging"
    assert "Sun 22 Nov 2026 02:00 PST" in top.inner_text()
    assert "Pat Jones" in top.inner_text()
    no_serious_violations(page)
    shoot(page, "incidents-list")

    page.get_by_role("link", name="Older →").click()
    second = rows(page)
    assert len(second) == 50 and not set(first) & set(second)
    page.get_by_role("link", name="← Newer").click()
    assert rows(page) == first

    page.get_by_label("Caller or number").fill("(503) 555-0111")
    page.get_by_label("Status").select_option(label="Open")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r".*q=%28503%29.*"))
    shown = rows(page)
    assert shown[0] == str(incident_id) and len(shown) <= 50
    assert page.get_by_label("Status").input_value() == "open"
    page.get_by_label("Opened on").fill("2026-11-22")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r".*date=2026-11-22.*"))
    assert rows(page) == [str(incident_id)]
    shoot(page, "incidents-list-filtered")
    page.get_by_role("link", name="Clear filters").click()
    assert rows(page) == first
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_the_incident_page_plays_the_message_and_tells_the_story(
    page: Any, server_url: str, desk: tuple[Flask, int], twilio_api: FakeTwilioApi
) -> None:
    _, incident_id = desk
    fetched = len(twilio_api.requests_to(".mp3", method="GET"))
    page.get_by_role("link", name=f"#{incident_id}", exact=True).click()
    page.wait_for_url(f"{server_url}/admin/incidents/{incident_id}")
    audio = page.locator("figure.recording audio")
    assert audio.evaluate("a => a.readyState") == 0  # nothing fetched before play
    assert len(twilio_api.requests_to(".mp3", method="GET")) == fetched
    with page.expect_response(re.compile(r"/media/recordings/\d+\?token=")) as media:
        audio.evaluate("a => a.play()")
    assert media.value.status == 200
    assert media.value.headers["content-type"] == "audio/mpeg"
    # The browser decoded the audio it was given (the admin CSP allows media from 'self').
    page.wait_for_function("document.querySelector('figure.recording audio').readyState >= 1")
    assert audio.evaluate("a => a.duration") > 0 and audio.evaluate("a => a.error") is None
    assert twilio_api.requests_to(".mp3", method="GET")[-1].is_authorized

    assert page.locator("blockquote.transcript").inner_text() == SAID
    card = page.locator("section.caller")
    assert "Pat Jones (primary contact) +1 503-555-0111" in card.inner_text()
    assert card.get_by_text("callback due").get_attribute("title") == "SLA deadline"

    story = page.locator("ol.story")
    for sentence in (
        "Pat Jones called the emergency line",
        "Sam Okafor was texted",
        "The text reached Sam Okafor",
        "Sam Okafor did not answer the call (busy)",
    ):
        assert story.get_by_text(sentence, exact=True).is_visible(), sentence
    assert story.get_by_text("A text to Sam Okafor was queued", exact=True).count() == 0
    first = story.locator("li").first
    assert not first.locator("dl").is_visible()
    first.locator("summary").click()
    assert "opened" in first.locator("dl").inner_text()
    no_serious_violations(page)
    shoot(page, "incident-page")

    page.get_by_role("link", name=re.compile(r"Show the \d+ technical lines too")).click()
    assert story.get_by_text("A text to Sam Okafor was queued", exact=True).is_visible()


def test_notes_and_actions_from_the_page(
    page: Any, server_url: str, desk: tuple[Flask, int]
) -> None:
    _, incident_id = desk
    page.goto(f"{server_url}/admin/incidents/{incident_id}")
    note = "Pat says the <script>alert(1)</script> door code is 4411."
    page.get_by_label("Add a note").fill(note)
    page.get_by_role("button", name="Add note").click()
    page.wait_for_url(f"{server_url}/admin/incidents/{incident_id}#notes")
    assert page.locator(".flash").inner_text() == "Note added."
    assert page.locator("section.notes blockquote").inner_text() == note
    assert page.locator("ol.story").get_by_text("Admin admin added a note", exact=True).is_visible()

    form = page.locator("section.act form").first
    form.get_by_label("Analyst taking it").select_option(label="Sam Okafor (paged)")
    with page.expect_navigation():
        form.get_by_role("button", name="Acknowledge").click()
    assert page.locator(".flash").inner_text() == f"Incident {incident_id}: acknowledged for sam."
    page.reload()  # paging runs after the answer; the page shows what it wrote
    assert page.locator("h1 .status").inner_text() == "Acknowledged"
    assert "Acknowledged by Sam Okafor" in page.locator("section.caller").inner_text()
    assert (
        page.locator("ol.story")
        .get_by_text("Sam Okafor acknowledged on the admin page", exact=True)
        .is_visible()
    )
    shoot(page, "incident-acknowledged")

    with page.expect_navigation():  # the reload must not race the form's own redirect
        page.get_by_role("button", name="Resolve").click()
    page.reload()
    assert page.locator("h1 .status").inner_text() == "Closed"
    assert page.locator("section.act").count() == 0
    no_serious_violations(page)
    assert page.dialogs == []  # type: ignore[attr-defined]
