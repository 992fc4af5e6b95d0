"""The admin page in headless Chromium: log in, add an override, see it on the timeline,
and type an XSS payload that must come back as text.

The real app runs under a real HTTP server (werkzeug, on loopback) over a migrated SQLite
database holding the example support desk, with a fixed clock so the timeline is the
same on every run. The timeline's screenshot is saved to test-artifacts/.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.admin.axe_pages import all_checked, axe, watch
from tests.admin_helpers import ADMIN_PASSWORD, ADMIN_USER, create_admin, load_example_directory
from voiceline.app import create_app
from voiceline.clock import ManualClock
from voiceline.db import Database
from voiceline.migrate import upgrade

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOT = ARTIFACTS / "admin-timeline.png"
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no browser: {CHROMIUM} is not installed (apt-get install chromium)",
    ),
]


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    """Serve the app over HTTP on a free loopback port until the test ends."""
    url = f"sqlite:///{tmp_path / 'voiceline.db'}"
    database = Database(url)
    upgrade(database.engine)
    load_example_directory(database)
    create_admin(database)
    database.dispose()
    # Sunday 22 November 2026, 02:00 in Oregon: the example's Tier 1 is Sam's week.
    clock = ManualClock(datetime(2026, 11, 22, 10, 0, tzinfo=UTC))
    config = {
        "DATABASE_URL": url,
        "SECRET_KEY": "made-up-secret-key-for-browser-tests",
        "VOICELINE_PUBLIC_URL": "http://127.0.0.1",
        "VOICELINE_SPOOL_DIR": str(tmp_path / "spool"),
    }
    app = create_app(config, clock=clock)
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
    """Return a Chromium page that records any dialog a script opens."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        context = browser.new_context(viewport={"width": 1500, "height": 1000})
        context.set_default_timeout(10_000)
        tab = context.new_page()
        tab.dialogs = []  # type: ignore[attr-defined]

        def on_dialog(dialog: Any) -> None:
            tab.dialogs.append(dialog.message)  # type: ignore[attr-defined]
            dialog.dismiss()

        tab.on("dialog", on_dialog)
        watch(tab)
        yield tab
        all_checked(tab)  # axe ran on every page the test opened
        context.close()
        browser.close()


def _log_in(page: Any, server_url: str) -> None:
    page.goto(f"{server_url}/admin/")
    assert "/admin/login?next=/admin/" in page.url
    axe(page)
    page.get_by_label("Username").fill(ADMIN_USER)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server_url}/admin/")
    axe(page)


def test_log_in_add_an_override_and_see_it_on_the_timeline(page: Any, server_url: str) -> None:
    _log_in(page, server_url)
    assert page.get_by_role("heading", name="Rota", exact=True).is_visible()
    assert "Sam Okafor" in page.locator("table.rotations").inner_text()

    page.get_by_role("link", name="Tier 1 after hours").first.click()
    page.wait_for_url(f"{server_url}/admin/rotations/tier1")
    axe(page)
    assert "America/Los_Angeles (PST)" in page.locator("main").inner_text()
    tuesday = page.locator('tr[data-day="2026-11-24"]')
    assert tuesday.locator("td.override").count() == 0

    form = page.locator("#override form")
    form.get_by_label("Who covers").select_option(label="Jordan Lee")
    form.get_by_label("Starts").fill("2026-11-24T18:00")
    form.get_by_label("Ends").fill("2026-11-25T08:00")
    form.get_by_label("Note").fill("Alex at a wedding")
    form.get_by_role("button", name="Add override").click()
    page.wait_for_url(f"{server_url}/admin/rotations/tier1#override")

    assert "Override added." in page.locator(".flash").inner_text()
    cell = tuesday.locator("td.override")
    assert cell.inner_text() == "Jordan Lee"
    assert cell.get_attribute("title") == (
        "Jordan Lee (override): Tue 24 Nov 2026 18:00 – Wed 25 Nov 2026 00:00 PST (6 h)"
    )
    assert page.locator('tr[data-day="2026-11-25"] td.override').first.inner_text() == "Jordan Lee"
    assert "Alex at a wedding" in page.locator("table.overrides").inner_text()
    axe(page)  # the page with the override in it

    ARTIFACTS.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    page.locator("#timeline").screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert SCREENSHOT.stat().st_size > 10_000
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_an_xss_payload_in_names_is_shown_as_text(page: Any, server_url: str) -> None:
    _log_in(page, server_url)
    page.goto(f"{server_url}/admin/analysts")
    axe(page)
    form = page.locator("#add form")
    form.get_by_label("Code (short name)").fill("mallory")
    form.get_by_label("Name", exact=True).fill(XSS)
    form.get_by_label("Mobile number for SMS pages").fill("+1 503 555 0177")
    form.get_by_role("button", name="Add analyst").click()
    page.wait_for_url(f"{server_url}/admin/analysts/mallory")
    assert page.get_by_role("heading", level=1).inner_text() == XSS
    axe(page)

    page.goto(f"{server_url}/admin/rotations/tier1")
    page.locator("#members form").last.get_by_label("Add").select_option(value="mallory")
    page.get_by_role("button", name="Add member").click()
    page.wait_for_url(f"{server_url}/admin/rotations/tier1#members")
    assert XSS in page.locator("ol.members").inner_text()

    form = page.locator("#override form")
    form.get_by_label("Who covers").select_option(value="mallory")
    form.get_by_label("Starts").fill("2026-11-28T00:00")
    form.get_by_label("Ends").fill("2026-11-28T12:00")
    form.get_by_label("Note").fill(XSS)
    form.get_by_role("button", name="Add override").click()
    page.wait_for_url(f"{server_url}/admin/rotations/tier1#override")
    assert page.locator('tr[data-day="2026-11-28"] td.override').inner_text() == XSS
    assert page.locator("table.overrides").inner_text().count(XSS) == 2  # name and note

    for path in ("/admin/rotations/tier1", "/admin/analysts", "/admin/audit", "/admin/"):
        page.goto(f"{server_url}{path}")
        assert page.locator("main script, main img").count() == 0, path
        axe(page)
    assert page.dialogs == []  # type: ignore[attr-defined]
