"""The incident list: status, filters, search by caller or number, and keyset pages.

Incidents are written straight to the database (the list reads what is there, however it
got there); the example desk gives customers in four time zones and their contacts.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.admin_helpers import create_admin, load_example_directory, log_in, text_of
from tests.incident_pages_helpers import many_incidents
from voiceline import extensions
from voiceline.customers.models import Contact, Customer
from voiceline.incidents.models import Incident
from voiceline.sla.models import SlaClock

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # the conftest clock: Sun 02:00 in Oregon
PAT = "+15035550111"  # Acme Dental, Oregon
ALICE = "+442079460321"  # Thames Print, London
STRANGER = "+15035559999"


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    """The example desk is loaded and an admin is logged in."""
    database = extensions.database(app)
    load_example_directory(database)
    create_admin(database)
    assert log_in(client).status_code == 302
    return client


def add(app: Flask, caller: str | None, opened: datetime, **fields: Any) -> int:
    """Write one incident from ``caller`` (a contact's number, or a stranger's); return its id."""
    with extensions.database(app).session() as session:
        contact = session.scalars(select(Contact).filter_by(phone=caller)).first()
        incident = Incident(
            customer_id=contact.customer_id if contact else None,
            contact_id=contact.id if contact else None,
            caller_number=caller,
            priority=fields.pop("priority", "emergency"),
            status=fields.pop("status", "open"),
            summary="Emergency message",
            opened_at=opened,
            clock_started_at=opened,
            **fields,
        )
        session.add(incident)
        session.flush()
        return incident.id


def clock_for(app: Flask, incident_id: int, deadline: datetime, **fields: Any) -> None:
    """Give an incident a callback SLA clock due at ``deadline``."""
    with extensions.database(app).session() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        session.add(
            SlaClock(
                incident_id=incident_id,
                metric="callback",
                priority="emergency",
                target_minutes=30,
                clock="wall",
                time_zone="America/Los_Angeles",
                started_at=incident.opened_at,
                deadline_at=deadline,
                **fields,
            )
        )


def listed(client: FlaskClient, query: str = "") -> list[int]:
    """Return the incident numbers the list shows for ``query``, in order."""
    page = client.get(f"/admin/incidents{query}").get_data(as_text=True)
    return [int(n) for n in re.findall(r'data-incident="(\d+)"', page)]


def link(client: FlaskClient, query: str, rel: str) -> str | None:
    """Return the list's "next" (older) or "prev" (newer) link, or None."""
    page = client.get(f"/admin/incidents{query}").get_data(as_text=True)
    found = re.search(rf'rel="{rel}" href="/admin/incidents(\?[^"]*)"', page)
    return html.unescape(found.group(1)) if found else None


def test_each_status_filter_shows_exactly_its_incidents(admin: FlaskClient, app: Flask) -> None:
    hour = timedelta(hours=1)
    fresh = add(app, PAT, NOW - hour)
    taken = add(app, PAT, NOW - 2 * hour, status="acknowledged", acknowledged_at=NOW - hour)
    called = add(app, PAT, NOW - 3 * hour, status="acknowledged", callback_at=NOW - 2 * hour)
    closed = add(app, PAT, NOW - 4 * hour, status="closed", callback_at=NOW - 3 * hour)
    late = add(app, PAT, NOW - 5 * hour, status="closed", callback_at=NOW - 4 * hour)
    overdue = add(app, PAT, NOW - 6 * hour)
    paused = add(app, PAT, NOW - 7 * hour)
    clock_for(app, called, NOW - 2 * hour, stopped_at=NOW - 2 * hour, is_met=True)
    clock_for(app, late, NOW - 5 * hour, stopped_at=NOW - 4 * hour, is_met=False)
    clock_for(app, overdue, NOW - 5 * hour)  # running, past its deadline
    clock_for(app, paused, NOW - 6 * hour, paused_since=NOW - 7 * hour)  # waits for access
    clock_for(app, fresh, NOW + timedelta(minutes=30))

    assert listed(admin) == [fresh, taken, called, closed, late, overdue, paused]
    assert listed(admin, "?status=open") == [fresh, overdue, paused]
    assert listed(admin, "?status=acknowledged") == [taken]
    assert listed(admin, "?status=called_back") == [called, closed, late]
    assert listed(admin, "?status=closed") == [closed, late]
    assert listed(admin, "?status=breached") == [late, overdue]

    text = text_of(admin.get("/admin/incidents"))
    assert f"#{fresh} Open Sun 22 Nov 2026 01:00 PST Acme Dental Pat Jones" in text
    assert f"#{late} Closed promise missed" in text
    assert f"#{overdue} Open promise missed" in text
    assert f"#{paused} Open promise missed" not in text


def test_customer_and_day_filters_read_the_day_in_each_customer_zone(
    admin: FlaskClient, app: Flask
) -> None:
    early = datetime(2026, 11, 22, 7, 30, tzinfo=UTC)  # Sat 23:30 in Oregon, Sun in London
    acme = add(app, PAT, early)
    thames = add(app, ALICE, early)
    stranger = add(app, STRANGER, datetime(2026, 11, 22, 0, 30, tzinfo=UTC))
    acme_sunday = add(app, PAT, datetime(2026, 11, 22, 8, 30, tzinfo=UTC))  # 00:30 PST

    assert listed(admin, "?date=2026-11-22") == [acme_sunday, thames, stranger]
    assert listed(admin, "?date=2026-11-21") == [acme]
    assert listed(admin, "?customer=acme-dental") == [acme_sunday, acme]
    assert listed(admin, "?customer=acme-dental&date=2026-11-22") == [acme_sunday]
    assert listed(admin, "?customer=thames-print") == [thames]
    assert listed(admin, "?customer=no-such-customer") == []
    text = text_of(admin.get("/admin/incidents"))
    assert f"#{thames} Open Sun 22 Nov 2026 07:30 GMT Thames Print Ltd" in text
    assert f"#{acme} Open Sat 21 Nov 2026 23:30 PST Acme Dental" in text
    assert f"#{stranger} Open Sun 22 Nov 2026 00:30 UTC Unknown caller" in text


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("pat", "pat"),
        ("PAT JONES", "pat"),
        ("(503) 555-0111", "pat"),
        ("+1 503 555 0111", "pat"),
        ("0111", "pat"),
        ("alice", "alice"),
        ("+44 20 7946 0321", "alice"),
        ("503-555-9999", "stranger"),
        ("nobody at all", None),
        ("%", None),
        ("_", None),
    ],
)
def test_search_finds_the_caller_by_name_or_number(
    admin: FlaskClient, app: Flask, query: str, who: str | None
) -> None:
    ids = {
        "pat": add(app, PAT, NOW - timedelta(hours=1)),
        "alice": add(app, ALICE, NOW - timedelta(hours=2)),
        "stranger": add(app, STRANGER, NOW - timedelta(hours=3)),
    }
    add(app, None, NOW - timedelta(hours=4))  # withheld number
    found = listed(admin, "?" + urlencode({"q": query}))
    assert found == ([ids[who]] if who else [])
    if who is None:
        assert "No incident matches these filters." in text_of(
            admin.get("/admin/incidents?" + urlencode({"q": query}))
        )


def test_pages_walk_every_incident_once_both_ways(admin: FlaskClient, app: Flask) -> None:
    many_incidents(extensions.database(app), 120)
    with extensions.database(app).session() as session:
        expected = list(
            session.scalars(
                select(Incident.id).order_by(Incident.opened_at.desc(), Incident.id.desc())
            )
        )
    pages: list[list[int]] = []
    query: str | None = ""
    while query is not None:
        pages.append(listed(admin, query))
        assert len(pages) < 10, "the pages never end"
        query = link(admin, query, "next")
    assert [len(p) for p in pages] == [50, 50, 20]
    assert [n for p in pages for n in p] == expected  # newest first, none twice, none missed
    assert link(admin, "", "prev") is None  # nothing is newer than the first page

    # And back again from the last page with "Newer".
    query = link(admin, link(admin, "", "next") or "", "next")
    assert query is not None
    back = [listed(admin, query)]
    newer = link(admin, query, "prev")
    while newer is not None:
        back.append(listed(admin, newer))
        newer = link(admin, newer, "prev")
    assert [n for p in reversed(back) for n in p] == expected


def test_filters_stay_on_the_page_links(admin: FlaskClient, app: Flask) -> None:
    many_incidents(extensions.database(app), 300)
    with extensions.database(app).session() as session:
        expected = list(
            session.scalars(
                select(Incident.id)
                .join(Customer)
                .where(Customer.code == "acme-dental", Incident.status == "closed")
                .order_by(Incident.opened_at.desc(), Incident.id.desc())
            )
        )
    assert len(expected) > 50
    first = "?status=closed&customer=acme-dental"
    older = link(admin, first, "next")
    assert older is not None and "status=closed" in older and "customer=acme-dental" in older
    assert listed(admin, first) + listed(admin, older) == expected[:100]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?status=bogus", "There is no status 'bogus'; showing every status."),
        ("?date=22/11/2026", "The date must be a day like 2026-11-22; showing every day."),
        ("?before=not-a-cursor", "That page link is broken; start from the newest."),
        ("?after=99999999999999999999-1", "That page link is broken; start from the newest."),
        ("?date=9999-12-31", "There are no incidents on 9999-12-31; showing every day."),
        ("?date=0001-01-01", "There are no incidents on 0001-01-01; showing every day."),
    ],
)
def test_unreadable_filters_are_said_and_ignored(
    admin: FlaskClient, app: Flask, query: str, message: str
) -> None:
    one = add(app, PAT, NOW - timedelta(hours=1))
    assert listed(admin, query) == [one]
    assert message in text_of(admin.get(f"/admin/incidents{query}"))
