"""The rota pages on the example support desk: edits, refusals next to the field, audit."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from oncall.models import Analyst, Override, Rotation
from tests.admin_helpers import (
    create_admin,
    field_error,
    load_example_directory,
    log_in,
    post_form,
    text_of,
)
from voiceline.admin.models import AuditEntry
from voiceline.db import Database

TIER1 = "/admin/rotations/tier1"


@pytest.fixture
def admin_client(client: FlaskClient, database: Database) -> FlaskClient:
    load_example_directory(database)
    create_admin(database)
    assert log_in(client).status_code == 302
    return client


def _snapshot(database: Database) -> tuple[object, ...]:
    """Return everything a rota edit could change, to prove a refusal changed nothing."""
    with database.session() as session:
        rotations = [
            (
                r.code,
                r.name,
                r.time_zone,
                r.shift_length,
                r.handoff_anchor,
                r.hours,
                [(m.analyst.code, m.position) for m in r.members],
                [
                    (o.analyst_id, o.replaces_analyst_id, o.starts_at, o.ends_at, o.note)
                    for o in r.overrides
                ],
            )
            for r in session.scalars(select(Rotation).order_by(Rotation.code))
        ]
        audit_count = session.scalar(select(func.count(AuditEntry.id)))
    return (rotations, audit_count)


def _audit(database: Database, action: str) -> list[AuditEntry]:
    with database.session() as session:
        return list(session.scalars(select(AuditEntry).filter_by(action=action)))


def _override(client: FlaskClient, **fields: str) -> TestResponse:
    data = {
        "analyst": "jordan",
        "replaces": "",
        "start": "2026-11-24T18:00",
        "end": "2026-11-25T08:00",
        "note": "",
    }
    data.update(fields)
    return post_form(client, f"{TIER1}/overrides", data, page=TIER1)


def test_the_home_page_shows_the_example_desk(admin_client: FlaskClient) -> None:
    page = text_of(admin_client.get("/admin/"))
    assert "Tier 1 after hours" in page and "Tier 2 specialists" in page and "Management" in page
    # Sunday 02:00 in Oregon: week 2 of the Tier 1 rotation (Sam), Tier 2's Casey.
    assert re.search(r"Tier 1 after hours tier1 America/Los_Angeles \(PST\) 1w .* Sam Okafor", page)
    assert "Casey Nguyen" in page
    # The next handoff follows the rotation's hours: off at 08:00 Monday, Alex at 16:30.
    assert (
        "Mon 23 Nov 2026 08:00 PST → nobody (outside its hours), "
        "then Alex Rivera from Mon 23 Nov 2026 16:30 PST" in page
    )
    assert "No gaps" in page


def test_the_rotation_page_names_the_zone_and_draws_two_weeks(admin_client: FlaskClient) -> None:
    response = admin_client.get(TIER1)
    page = response.get_data(as_text=True)
    assert "Times in <strong>America/Los_Angeles (PST)</strong>" in page
    days = re.findall(r'<tr class="[^"]*" data-day="([\d-]+)">', page)
    assert days[0] == "2026-11-22" and days[-1] == "2026-12-05" and len(days) == 14
    # Monday: Sam until 08:00, off in the working day, Alex from 16:30 (all local).
    monday = page.split('data-day="2026-11-23"')[1].split("</tr>")[0]
    cells = re.findall(r'<td class="([^"]+)" colspan="(\d+)" title="([^"]*)">', monday)
    assert [(c[0].split()[0], int(c[1])) for c in cells] == [("on", 96), ("off", 102), ("on", 90)]
    assert cells[0][2].startswith("Sam Okafor: Mon 23 Nov 2026 00:00 – 08:00 PST")
    assert cells[2][2].startswith("Alex Rivera: Mon 23 Nov 2026 16:30 – Tue 24 Nov 2026 00:00 PST")
    assert "gap" not in [c[0] for c in cells]


def test_an_override_is_stored_in_utc_audited_and_drawn(
    admin_client: FlaskClient, database: Database
) -> None:
    response = _override(admin_client, note="Alex at a wedding")
    assert response.status_code == 302
    assert response.headers["Location"] == f"{TIER1}#override"
    with database.session() as session:
        override = session.scalars(select(Override)).one()
        assert (override.starts_at, override.ends_at) == (
            datetime(2026, 11, 25, 2, 0, tzinfo=UTC),
            datetime(2026, 11, 25, 16, 0, tzinfo=UTC),
        )
        assert override.analyst.code == "jordan" and override.replaces is None
    (entry,) = _audit(database, "override_added")
    assert (entry.actor, entry.subject) == ("admin", "rotation tier1")
    assert entry.detail["analyst"] == "jordan"
    assert entry.detail["start"] == "2026-11-25T02:00:00+00:00"
    page = admin_client.get(TIER1).get_data(as_text=True)
    tuesday = page.split('data-day="2026-11-24"')[1].split("</tr>")[0]
    assert re.search(
        r'<td class="override" colspan="72" title="Jordan Lee \(override\)[^"]*">Jordan Lee</td>',
        tuesday,
    )
    assert "Override added." in page
    assert "Alex at a wedding" in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"end": "2026-11-24T17:00"}, "end", "the end must be after the start"),
        ({"end": "2026-11-24T18:00"}, "end", "the end must be after the start"),
        ({"analyst": "nobody"}, "analyst", "unknown analyst 'nobody'"),
        ({"analyst": ""}, "analyst", "choose an analyst"),
        (
            {"replaces": "jordan", "analyst": "casey"},
            "replaces",
            "Jordan Lee is not in this rotation, so there is nobody to replace",
        ),
        ({"replaces": "jordan"}, "replaces", "Jordan Lee cannot replace themselves"),
        ({"start": "next tuesday"}, "start", "enter a date and time like 2026-11-24 18:00"),
        (
            {"start": "2026-11-01T00:00", "end": "2026-11-02T00:00"},
            "end",
            "this override would already be over",
        ),
        ({"note": "x" * 201}, "note", "use at most 200 characters"),
    ],
)
def test_a_bad_override_is_refused_next_to_its_field_and_changes_nothing(
    admin_client: FlaskClient, database: Database, fields: dict[str, str], field: str, message: str
) -> None:
    before = _snapshot(database)
    response = _override(admin_client, **fields)
    assert response.status_code == 422
    assert field_error(response, "override", field) == message
    assert _snapshot(database) == before
    # What the admin typed is still in the form.
    for name, value in fields.items():
        if name != "note":
            assert f'value="{value}"' in response.get_data(as_text=True) or name in (
                "analyst",
                "replaces",
            )


def test_an_override_overlapping_another_for_the_same_slot_is_refused(
    admin_client: FlaskClient, database: Database
) -> None:
    assert _override(admin_client).status_code == 302
    before = _snapshot(database)
    response = _override(
        admin_client, analyst="casey", start="2026-11-25T07:00", end="2026-11-25T09:00"
    )
    assert response.status_code == 422
    assert field_error(response, "override", "start") == (
        "overlaps the override for Jordan Lee from Tue 24 Nov 2026 18:00 PST to Wed 25 Nov 2026 08:00 PST"
    )
    assert _snapshot(database) == before
    # Touching end to start is not an overlap, and replacing one member is another slot.
    assert (
        _override(admin_client, start="2026-11-25T08:00", end="2026-11-25T20:00").status_code == 302
    )
    assert _override(admin_client, analyst="casey", replaces="alex").status_code == 302


def test_an_override_can_be_removed(admin_client: FlaskClient, database: Database) -> None:
    _override(admin_client)
    with database.session() as session:
        override_id = session.scalars(select(Override.id)).one()
    response = post_form(admin_client, f"{TIER1}/overrides/{override_id}/remove", {}, page=TIER1)
    assert response.status_code == 302
    with database.session() as session:
        assert session.scalar(select(func.count(Override.id))) == 0
    (entry,) = _audit(database, "override_removed")
    assert entry.detail["analyst"] == "jordan"


def _members(database: Database, code: str = "tier1") -> list[str]:
    with database.session() as session:
        rotation = session.scalars(select(Rotation).filter_by(code=code)).one()
        return [m.analyst.code for m in rotation.members]


def test_members_can_be_reordered_added_and_removed(
    admin_client: FlaskClient, database: Database
) -> None:
    with database.session() as session:
        rotation = session.scalars(select(Rotation).filter_by(code="tier1")).one()
        sam_id = rotation.members[1].id
    assert (
        post_form(
            admin_client, f"{TIER1}/members/{sam_id}/move", {"direction": "up"}, page=TIER1
        ).status_code
        == 302
    )
    assert _members(database) == ["sam", "alex"]
    # The turns follow the order: the week that was Sam's is now Alex's.
    assert re.search(r"On call now.*Alex Rivera", text_of(admin_client.get("/admin/")))
    assert "on call now: Alex Rivera" in text_of(admin_client.get(TIER1))
    assert (
        post_form(admin_client, f"{TIER1}/members", {"analyst": "casey"}, page=TIER1).status_code
        == 302
    )
    assert _members(database) == ["sam", "alex", "casey"]
    assert (
        post_form(admin_client, f"{TIER1}/members/{sam_id}/remove", {}, page=TIER1).status_code
        == 302
    )
    assert _members(database) == ["alex", "casey"]
    actions = [
        e.action
        for e in _audit(database, "members_reordered")
        + _audit(database, "member_added")
        + _audit(database, "member_removed")
    ]
    assert sorted(actions) == ["member_added", "member_removed", "members_reordered"]
    (reorder,) = _audit(database, "members_reordered")
    assert reorder.detail["members"] == {"from": ["alex", "sam"], "to": ["sam", "alex"]}


@pytest.mark.parametrize(
    ("analyst", "message"),
    [("alex", "Alex Rivera is already in this rotation"), ("ghost", "unknown analyst 'ghost'")],
)
def test_a_bad_member_is_refused(
    admin_client: FlaskClient, database: Database, analyst: str, message: str
) -> None:
    before = _snapshot(database)
    response = post_form(admin_client, f"{TIER1}/members", {"analyst": analyst}, page=TIER1)
    assert response.status_code == 422
    assert field_error(response, "members", "analyst") == message
    assert _snapshot(database) == before


def _settings(**fields: str) -> dict[str, str]:
    data = {
        "name": "Tier 1 after hours",
        "time_zone": "America/Los_Angeles",
        "shift": "1w",
        "handoff": "2026-01-05T08:00",
        "hours": "mon-fri 16:30-08:00; sat-sun 00:00-24:00; mon 00:00-08:00",
    }
    data.update(fields)
    return data


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"time_zone": "Pacific Time"}, "time_zone", "unknown time zone 'Pacific Time'"),
        ({"shift": "fortnightly"}, "shift", "cannot read shift length"),
        ({"handoff": "monday"}, "handoff", "enter the first handoff as a local date and time"),
        ({"hours": "weekdays 9-5"}, "hours", "cannot read hours"),
        ({"hours": "none"}, "hours", "a rotation with no hours is never on call"),
        ({"name": "  "}, "name", "enter a name"),
    ],
)
def test_bad_settings_are_refused_next_to_the_field(
    admin_client: FlaskClient, database: Database, fields: dict[str, str], field: str, message: str
) -> None:
    before = _snapshot(database)
    response = post_form(admin_client, f"{TIER1}/settings", _settings(**fields), page=TIER1)
    assert response.status_code == 422
    error = field_error(response, "settings", field)
    assert error is not None and error.startswith(message), error
    assert _snapshot(database) == before


def test_settings_changes_are_saved_and_audited(
    admin_client: FlaskClient, database: Database
) -> None:
    response = post_form(
        admin_client, f"{TIER1}/settings", _settings(shift="12h", hours=""), page=TIER1
    )
    assert response.status_code == 302
    with database.session() as session:
        row = session.scalars(select(Rotation).filter_by(code="tier1")).one()
        assert (row.shift_length, row.hours) == ("12h", None)
    (entry,) = _audit(database, "rotation_updated")
    assert entry.detail["shift"] == {"from": "1w", "to": "12h"}
    assert entry.detail["hours"]["to"] is None
    assert set(entry.detail) == {"shift", "hours"}


def test_a_rotation_can_be_created(admin_client: FlaskClient, database: Database) -> None:
    data = {
        "code": "network",
        "name": "Network on call",
        "time_zone": "Europe/London",
        "shift": "1d",
        "handoff": "2026-11-23T09:00",
        "hours": "",
    }
    response = post_form(admin_client, "/admin/rotations/new", data, page="/admin/rotations/new")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/rotations/network"
    page = text_of(admin_client.get("/admin/rotations/network"))
    assert "Europe/London (GMT)" in page
    # A rotation without members is one long gap, which the home page warns about.
    home = text_of(admin_client.get("/admin/"))
    assert "Network on call : nobody is on call (times in Europe/London (GMT))" in home
    assert "Sun 22 Nov 2026 10:00 – Sun 06 Dec 2026 10:00 GMT (14 d)" in home
    with database.session() as session:
        assert session.scalars(select(Rotation).filter_by(code="network")).one().calendar_token
    again = post_form(admin_client, "/admin/rotations/new", data, page="/admin/rotations/new")
    assert again.status_code == 422
    assert field_error(again, "rotation", "code") == "a rotation with code 'network' already exists"


def test_unknown_rotations_are_not_found(admin_client: FlaskClient) -> None:
    assert admin_client.get("/admin/rotations/nope").status_code == 404


XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def test_names_are_shown_as_text_not_markup(admin_client: FlaskClient, database: Database) -> None:
    with database.session() as session:
        session.scalars(select(Analyst).filter_by(code="alex")).one().name = XSS
    _override(admin_client, analyst="alex", replaces="sam", note=XSS)
    for path in (TIER1, "/admin/", "/admin/analysts", "/admin/audit"):
        page = admin_client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in page and "<img src=x" not in page, path
    page = admin_client.get(TIER1).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in page


def test_an_override_wholly_outside_the_hours_is_refused(
    admin_client: FlaskClient, database: Database
) -> None:
    before = _snapshot(database)
    response = _override(admin_client, start="2026-11-24T10:00", end="2026-11-24T14:00")
    assert response.status_code == 422
    assert field_error(response, "override", "start") == (
        "this is wholly outside the rotation's hours "
        "(mon-fri 16:30-08:00; sat-sun 00:00-24:00; mon 00:00-08:00)"
    )
    assert _snapshot(database) == before


def test_an_override_reaching_into_the_working_day_applies_inside_the_hours_only(
    admin_client: FlaskClient,
) -> None:
    assert (
        _override(admin_client, start="2026-11-24T14:00", end="2026-11-24T18:00").status_code == 302
    )
    page = admin_client.get(TIER1).get_data(as_text=True)
    tuesday = page.split('data-day="2026-11-24"')[1].split("</tr>")[0]
    cells = re.findall(r'<td class="([^"]+)" colspan="(\d+)"', tuesday)
    assert cells == [("on m0", "96"), ("off", "102"), ("override", "18"), ("on m0", "72")]
