"""Calendar feeds behind unguessable tokens, parsed back with icalendar."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select

from oncall.models import Analyst, Rotation
from tests.admin_helpers import (
    create_admin,
    load_example_directory,
    log_in,
    post_form,
    text_of,
)
from tests.conftest import PUBLIC_URL
from voiceline.admin.models import AuditEntry
from voiceline.db import Database


@pytest.fixture
def tokens(database: Database) -> dict[str, str]:
    load_example_directory(database)
    with database.session() as session:
        found = {f"analyst {a.code}": a.calendar_token for a in session.scalars(select(Analyst))}
        found |= {f"rotation {r.code}": r.calendar_token for r in session.scalars(select(Rotation))}
    assert all(found.values())
    return {k: v for k, v in found.items() if v}


def _events(client: FlaskClient, path: str) -> list[tuple[str, datetime, datetime]]:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.data)
    return [
        (str(e["summary"]), e.decoded("dtstart"), e.decoded("dtend"))
        for e in calendar.walk("VEVENT")
    ]


def test_an_analysts_feed_holds_their_own_shifts_in_utc(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    events = _events(client, f"/calendar/analyst/{tokens['analyst alex']}.ics")
    assert events and {s for s, _, _ in events} == {"On call: Alex Rivera (Tier 1 after hours)"}
    # Alex's next week runs from Monday 23 November 16:30 PST, nights and weekend.
    upcoming = [
        (start, end) for _, start, end in events if start >= datetime(2026, 11, 22, tzinfo=UTC)
    ]
    assert upcoming[0] == (
        datetime(2026, 11, 24, 0, 30, tzinfo=UTC),
        datetime(2026, 11, 24, 16, 0, tzinfo=UTC),
    )
    assert all(start.tzinfo is not None for start, _ in upcoming)


def test_a_rotation_feed_names_every_member(client: FlaskClient, tokens: dict[str, str]) -> None:
    events = _events(client, f"/calendar/rotation/{tokens['rotation tier2']}.ics")
    names = {s for s, _, _ in events}
    assert names == {
        "On call: Jordan Lee (Tier 2 specialists)",
        "On call: Casey Nguyen (Tier 2 specialists)",
    }


def test_an_override_shows_in_the_covering_analysts_feed(
    client: FlaskClient, database: Database, tokens: dict[str, str]
) -> None:
    create_admin(database)
    log_in(client)
    data = {"analyst": "morgan", "start": "2026-11-24T18:00", "end": "2026-11-25T06:00"}
    assert (
        post_form(
            client, "/admin/rotations/tier1/overrides", data, page="/admin/rotations/tier1"
        ).status_code
        == 302
    )
    events = _events(client, f"/calendar/analyst/{tokens['analyst morgan']}.ics")
    assert (
        "On call: Morgan Blake (service desk manager) (Tier 1 after hours)",
        datetime(2026, 11, 25, 2, 0, tzinfo=UTC),
        datetime(2026, 11, 25, 14, 0, tzinfo=UTC),
    ) in events


@pytest.mark.parametrize(
    "path",
    [
        "/calendar/analyst/not-a-token.ics",
        "/calendar/rotation/not-a-token.ics",
        "/calendar/analyst/" + "a" * 500 + ".ics",
        "/calendar/analyst/.ics",
    ],
)
def test_a_wrong_token_is_not_found(client: FlaskClient, tokens: dict[str, str], path: str) -> None:
    assert client.get(path).status_code == 404


def test_an_analysts_token_does_not_open_a_rotation_feed(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    assert client.get(f"/calendar/rotation/{tokens['analyst alex']}.ics").status_code == 404


def test_the_admin_page_shows_the_feed_link_and_can_replace_it(
    client: FlaskClient, database: Database, tokens: dict[str, str]
) -> None:
    create_admin(database)
    log_in(client)
    old = tokens["analyst alex"]
    page = text_of(client.get("/admin/analysts/alex"))
    assert f"{PUBLIC_URL}/calendar/analyst/{old}.ics" in page
    rotation_page = text_of(client.get("/admin/rotations/tier1"))
    assert f"{PUBLIC_URL}/calendar/rotation/{tokens['rotation tier1']}.ics" in rotation_page
    response = post_form(
        client, "/admin/analysts/alex/calendar-link", {}, page="/admin/analysts/alex"
    )
    assert response.status_code == 302
    assert client.get(f"/calendar/analyst/{old}.ics").status_code == 404
    with database.session() as session:
        new = session.scalars(select(Analyst).filter_by(code="alex")).one().calendar_token
        entry = session.scalars(select(AuditEntry).filter_by(action="calendar_link_reset")).one()
    assert new and new != old and len(new) >= 32
    assert (entry.actor, entry.subject) == ("admin", "analyst alex")
    assert client.get(f"/calendar/analyst/{new}.ics").status_code == 200
