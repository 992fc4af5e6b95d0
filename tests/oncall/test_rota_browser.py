"""The rotation page in headless Chromium at a laptop's width: the override card keeps its
buttons inside, a refused override shows its message where the admin is looking, and the
page passes the axe accessibility checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.admin_helpers import create_admin, load_example_directory
from tests.browser_helpers import (
    blocking_accessibility_violations,
    box,
    chromium_page,
    is_inside,
    log_in,
    needs_chromium,
    screenshot,
    serving,
    viewport_box,
)
from voiceline.db import Database

pytestmark = needs_chromium
TIER1 = "/admin/rotations/tier1"


@pytest.fixture
def base_url(app: Flask, database: Database) -> Iterator[str]:
    """Serve the example desk (Sunday 02:00 in Oregon, Sam on call) with an admin login."""
    load_example_directory(database)
    create_admin(database)
    with serving(app) as url:
        yield url


@pytest.fixture
def page(base_url: str) -> Iterator[Any]:
    """Return a logged-in page on Tier 1's rotation page, 1280 px wide."""
    with chromium_page(width=1280, height=800) as tab:
        log_in(tab, base_url, TIER1)
        yield tab
        assert tab.dialogs == []


def _add_override(page: Any, start: str, end: str, note: str = "") -> None:
    form = page.locator("#override form").last
    form.get_by_label("Who covers").select_option(label="Jordan Lee")
    form.get_by_label("Starts").fill(start)
    form.get_by_label("Ends").fill(end)
    form.get_by_label("Note").fill(note)
    form.get_by_role("button", name="Add override").click()
    page.wait_for_load_state()


def test_the_override_remove_button_stays_inside_its_card(page: Any, base_url: str) -> None:
    _add_override(page, "2026-11-24T18:00", "2026-11-25T08:00", "Alex at a wedding")
    assert "Override added." in page.locator(".flash").inner_text()
    card = page.locator("#override")
    remove = card.get_by_role("button", name="Remove")
    assert remove.count() == 1
    screenshot(card, "rota-override-card-1280")
    card_box, button_box = box(card), box(remove)
    assert is_inside(button_box, card_box), (button_box, card_box)
    # Nothing else in the card spills out sideways either (a table wider than its card).
    assert page.evaluate(
        "() => { const c = document.querySelector('#override'); return c.scrollWidth <= c.clientWidth; }"
    )


def test_a_refused_override_shows_its_message_in_view(page: Any, base_url: str) -> None:
    # Tuesday 10:00-14:00 is office time, wholly outside Tier 1's hours: refused.
    _add_override(page, "2026-11-24T10:00", "2026-11-24T14:00")
    message = page.locator("#override-start-error")
    assert message.inner_text().startswith("this is wholly outside the rotation's hours")
    screenshot(page, "rota-override-refused")
    assert is_inside(box(message), viewport_box(page)), (box(message), viewport_box(page))
    # The fields keep what was typed, so the admin corrects it rather than starts again.
    form = page.locator("#override form").last
    assert form.get_by_label("Starts").input_value() == "2026-11-24T10:00"


def test_the_rotation_page_has_no_serious_accessibility_violations(page: Any) -> None:
    assert blocking_accessibility_violations(page) == []
