"""The next handoff on the home page and the rotation page is read off the whole
schedule, overrides and hours included, as the pager reads it."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.admin_helpers import create_admin, load_example_directory, log_in, post_form, text_of
from voiceline.db import Database

TIER1 = "/admin/rotations/tier1"


@pytest.fixture
def admin_client(client: FlaskClient, database: Database) -> FlaskClient:
    """The example desk on Sunday 22 November 2026, 02:00 in Oregon: Sam's week of Tier 1."""
    load_example_directory(database)
    create_admin(database)
    assert log_in(client).status_code == 302
    return client


def _override(client: FlaskClient, start: str, end: str, replaces: str = "") -> None:
    data = {"analyst": "jordan", "replaces": replaces, "start": start, "end": end, "note": ""}
    response = post_form(client, f"{TIER1}/overrides", data, page=TIER1)
    assert response.status_code == 302, text_of(response)


def _tier1_on_home(client: FlaskClient) -> str:
    """Return what the home page says about Tier 1 (rotations are listed by name)."""
    page = text_of(client.get("/admin/"))
    found = re.search(r"Tier 1 after hours tier1 (.*?) Tier 2 specialists tier2", page)
    assert found, page
    return found.group(1)


def test_the_next_handoff_names_the_analyst_an_override_puts_on_call(
    admin_client: FlaskClient,
) -> None:
    # Jordan covers Tier 1 from Monday 00:00; the rotation's own turn would go to Alex
    # on Monday 08:00, but from 00:00 the pager pages Jordan.
    _override(admin_client, "2026-11-23T00:00", "2026-11-24T08:00")
    tier1 = _tier1_on_home(admin_client)
    assert "Sam Okafor" in tier1
    assert "Mon 23 Nov 2026 00:00 PST → Jordan Lee" in tier1
    assert "Alex Rivera" not in tier1
    rotation_page = text_of(admin_client.get(TIER1))
    assert "next handoff: Mon 23 Nov 2026 00:00 PST → Jordan Lee (override)" in rotation_page


def test_a_replacement_for_the_next_turn_names_the_replacement(
    admin_client: FlaskClient,
) -> None:
    # Jordan takes Alex's week; the rotation is off in office hours on Monday, so the
    # next handoff is to nobody at 08:00, and Jordan (not Alex) comes on at 16:30.
    _override(admin_client, "2026-11-23T08:00", "2026-11-30T08:00", replaces="alex")
    tier1 = _tier1_on_home(admin_client)
    assert "Mon 23 Nov 2026 08:00 PST → nobody (outside its hours)" in tier1
    assert "then Jordan Lee (override) from Mon 23 Nov 2026 16:30 PST" in tier1
    assert "Alex Rivera" not in tier1


def test_a_rotation_that_never_changes_hands_says_so(admin_client: FlaskClient) -> None:
    page = text_of(admin_client.get("/admin/"))
    management = re.search(r"Management management (.*?) Tier 1 after hours tier1", page)
    assert management, page
    assert "Morgan Blake" in management.group(1)
    assert "no change in the next 14 days" in management.group(1)
