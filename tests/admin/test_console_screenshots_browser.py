"""The console after a night's work, in headless Chromium: each main page shows the night
in the one date format, passes axe-core, and is photographed for the README.

The night is tests/admin/console_night.py (the every-page check's fixture). Screenshots
go to test-artifacts/console-*.png; with ``VOICELINE_UPDATE_SCREENSHOTS=1`` they also
replace docs/screenshots/console-*.png, the pictures the README shows (commit them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simulator.rest import FakeTwilioApi
from tests.admin.axe_pages import all_checked, axe, watch
from tests.admin.console_night import Night, a_night
from tests.browser_helpers import chromium_page, log_in, needs_chromium, screenshot, serving
from voiceline.clock import ManualClock

pytestmark = needs_chromium
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _update_docs() -> bool:
    return os.environ.get("VOICELINE_UPDATE_SCREENSHOTS") == "1"


@pytest.fixture
def night_served(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> Iterator[tuple[str, Night]]:
    night = a_night(app, client, twilio_api, clock)
    with serving(app) as url:
        yield url, night


@pytest.fixture
def page(night_served: tuple[str, Night]) -> Iterator[Any]:
    base, _ = night_served
    with chromium_page(width=1280, height=1000) as tab:
        watch(tab)
        tab.goto(f"{base}/admin/")
        axe(tab)  # the login form
        log_in(tab, base)
        axe(tab)  # home, as it opens
        yield tab
        assert tab.dialogs == []
        assert tab.console_errors == []
        all_checked(tab)


def _shoot(tab: Any, name: str) -> Path:
    """Photograph the window (the top of the page, as a reader first sees it)."""
    shot = screenshot(tab.locator("body"), f"console-{name}")
    tab.screenshot(path=str(shot))  # the window, not the whole (long) body
    if _update_docs():
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS / f"console-{name}.png")
    return shot


def test_the_consoles_main_pages_after_a_night(page: Any, night_served: tuple[str, Night]) -> None:
    base, night = night_served
    # (name, path, what the page must show of the night)
    pages = [
        ("home", "/admin/", ["Needs attention now", "Thames Print Ltd", "Jordan Lee"]),
        (
            "incident",
            f"/admin/incidents/{night.breached}",
            ["Our server room is flooded", "Sun 22 Nov 2026 02:00", "PST", "promise missed"],
        ),
        ("incidents", "/admin/incidents", ["Acme Dental", "Thames Print Ltd", "GMT"]),
        ("rota", "/admin/rotations/tier1", ["Tier 1 after hours", "swapped with Sam"]),
        ("directory", "/admin/directory/customers/acme-dental", ["Pat Jones", "Robin Diaz"]),
        ("sla-report", "/admin/sla/report?month=2026-11", ["Promise missed", "$150.00"]),
        ("audit", "/admin/audit", ["Admin admin added an override to rotation tier1"]),
    ]
    for name, path, shows in pages:
        page.goto(f"{base}{path}")
        text = page.locator("main").inner_text()
        for words in shows:
            assert words in text, (path, words)
        counts = axe(page)
        print(f"\naxe {path}: {counts['violations'] or 'no violations'}, {counts['passes']} passed")
        _shoot(page, name)


def test_the_other_console_pages_after_a_night(page: Any, night_served: tuple[str, Night]) -> None:
    base, _ = night_served
    for path, shows in (
        ("/admin/sla", ["Thames Print Ltd", "GMT", "promised within 4 h"]),
        ("/admin/alarms", ["unreachable handset", "America/Los_Angeles (PST)"]),
        (
            "/admin/spool/",
            ["the database refused the row", "+14155550144", "Sun 22 Nov 2026 02:20 PST"],
        ),
        ("/admin/analysts", ["Alex Rivera"]),
        ("/admin/directory/", ["Acme Dental"]),
        ("/admin/directory/admins", ["admin"]),
    ):
        page.goto(f"{base}{path}")
        text = page.locator("main").inner_text()
        for words in shows:
            assert words in text, (path, words)
        counts = axe(page)
        print(f"\naxe {path}: {counts['violations'] or 'no violations'}, {counts['passes']} passed")
        screenshot(page, "console" + path.rstrip("/").replace("/admin", "").replace("/", "-"))
