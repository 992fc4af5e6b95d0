"""The admin home in headless Chromium: a new emergency shows up on the open page within
seconds, without a reload, and the page passes the axe accessibility checks.

The message is left the way Twilio leaves it: signed webhooks over HTTP to the served app,
which pages the on-call analyst through the fake Twilio API on loopback.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from flask import Flask

from tests.admin.axe_pages import all_checked, axe, watch
from tests.admin_helpers import create_admin
from tests.browser_helpers import (
    chromium_page,
    log_in,
    needs_chromium,
    screenshot,
    serving,
)
from tests.escalation_helpers import PAT, load_example
from tests.line_helpers import CallDriver
from voiceline import extensions

pytestmark = needs_chromium
# The page polls every 5 s; a new incident must show by the second poll at the latest.
APPEARS_WITHIN_MS = 12_000


class HttpClient:
    """The slice of FlaskClient that CallDriver posts with, over real HTTP to a served app."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def post(
        self, path: str, data: dict[str, str], headers: dict[str, str], base_url: str = ""
    ) -> SimpleNamespace:
        response = self.session.post(
            self.base_url + path, data=data, headers=headers, timeout=10, allow_redirects=False
        )
        mimetype = response.headers.get("Content-Type", "").split(";")[0]
        return SimpleNamespace(
            status_code=response.status_code, mimetype=mimetype, data=response.content
        )


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    """Serve the example desk (Sunday 02:00 in Oregon, Sam on call) with an admin login."""
    load_example(app)
    create_admin(extensions.database(app))
    with serving(app) as url:
        yield url


@pytest.fixture
def page(base_url: str) -> Iterator[Any]:
    with chromium_page(width=1280, height=900) as tab:
        watch(tab)
        tab.goto(f"{base_url}/admin/")
        axe(tab)  # the login form
        log_in(tab, base_url)
        axe(tab)  # home, as it opens
        yield tab
        assert tab.dialogs == []
        assert tab.console_errors == []
        all_checked(tab)


def _leave_an_emergency_message(base_url: str) -> None:
    call = CallDriver(HttpClient(base_url), PAT)  # type: ignore[arg-type]
    assert "press 1" in call.dial().says()
    call.press("1")
    call.leave_message()


def test_a_new_emergency_appears_on_the_open_page_without_a_reload(
    page: Any, base_url: str
) -> None:
    assert page.locator("#open-incidents").inner_text().endswith("No open incidents.")
    assert page.title() == "Home · Voiceline"
    # A reload would lose this: it proves the page stayed the same document.
    page.evaluate("() => { window.openedOnce = true; }")

    _leave_an_emergency_message(base_url)
    started = time.monotonic()
    row = page.locator("#open-incidents tr[data-incident]")
    row.first.wait_for(state="visible", timeout=APPEARS_WITHIN_MS)
    elapsed = time.monotonic() - started
    print(f"the new emergency appeared {elapsed:.1f} s after the message was left")

    assert page.evaluate("() => window.openedOnce") is True
    assert row.count() == 1
    text = row.inner_text()
    assert "#1" in text and "Acme Dental" in text and "emergency" in text
    assert "Escalating: step 1 of 3" in text
    assert "Sam Okafor (SMS" in text
    assert "callback: 30 min left" in text
    assert row.get_by_role("link", name="#1").get_attribute("href") == "/admin/incidents/1"
    page.wait_for_function("() => document.title === '(1) Home · Voiceline'")
    assert page.locator("#live-summary").inner_text() == "1 open incidents, 1 not acknowledged."
    screenshot(page, "home-new-emergency")
    axe(page)  # with the emergency swapped in


def test_the_home_page_has_no_serious_accessibility_violations(page: Any) -> None:
    assert page.get_by_role("heading", name="Needs attention now").is_visible()
    assert page.get_by_role("heading", name="Rota", exact=True).is_visible()
    screenshot(page, "home-quiet")
    axe(page)


def test_live_updates_stop_and_say_so_when_the_login_expires(page: Any) -> None:
    page.context.clear_cookies()  # as if the session ended while the page stayed open
    status = page.locator("[data-live-status]")
    page.wait_for_function(
        "() => document.querySelector('[data-live-status]').textContent.includes('stopped')",
        timeout=APPEARS_WITHIN_MS,
    )
    assert status.inner_text() == (
        "Live updates stopped: the login has expired. Reload the page to log in again."
    )
    assert "stale" in (status.get_attribute("class") or "")
    # The sections keep what they last showed rather than turning into a login form.
    assert page.locator("#rota table.rotations").is_visible()
    assert page.locator("form input[name=password]").count() == 0
