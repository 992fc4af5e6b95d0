"""Rotation rows read as pure schedules: the admin timeline and the pager must agree."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from escalation.policy import Target
from escalation.roster import resolve_targets
from oncall import edits
from oncall.models import Analyst, Rotation
from oncall.rotation import RotationError
from oncall.schedule import who_is_on_call
from oncall.store import schedule_for, unique_name_label
from tests.admin_helpers import load_example_directory
from voiceline.db import Database

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.fixture
def desk(database: Database) -> Database:
    """The example desk with overrides of every kind on Tier 1."""
    load_example_directory(database)
    overrides = [
        {"analyst": "jordan", "start": "2026-11-24T14:00", "end": "2026-11-25T08:00"},
        {
            "analyst": "casey",
            "replaces": "alex",
            "start": "2026-11-26T12:00",
            "end": "2026-11-28T12:00",
        },
        {
            "analyst": "morgan",
            "replaces": "sam",
            "start": "2026-12-01T18:00",
            "end": "2026-12-02T06:00",
        },
    ]
    with database.session() as session:
        tier1 = session.scalars(select(Rotation).filter_by(code="tier1")).one()
        for form in overrides:
            edits.add_override(session, tier1, form, actor="test", now=NOW)
    return database


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime(2026, 11, 24, 20, 0, tzinfo=UTC), None),  # Tue 12:00 PST: the desk is open
        (datetime(2026, 11, 25, 1, 0, tzinfo=UTC), "jordan"),  # Tue 17:00: the override
        (datetime(2026, 11, 27, 4, 0, tzinfo=UTC), "casey"),  # Thu 20:00: Alex's turn, replaced
        (datetime(2026, 11, 29, 4, 0, tzinfo=UTC), "alex"),  # Sat 20:00: replacement over
        (datetime(2026, 12, 2, 4, 0, tzinfo=UTC), "morgan"),  # Tue 20:00: Sam's turn, replaced
    ],
)
def test_who_the_pager_finds_is_who_the_admin_page_shows(
    desk: Database, at: datetime, expected: str | None
) -> None:
    with desk.session() as session:
        row = session.scalars(select(Rotation).filter_by(code="tier1")).one()
        assert who_is_on_call(schedule_for(row), at) == expected
        roster = resolve_targets(session, [Target("on_call", "tier1")], at)
        found = roster.recipients[Target("on_call", "tier1")]
        assert [r.analyst for r in found] == ([expected] if expected else [])


def test_members_are_read_in_position_order(database: Database) -> None:
    load_example_directory(database)
    with database.session() as session:
        row = session.scalars(select(Rotation).filter_by(code="tier1")).one()
        sam = row.members[1]
        edits.move_member(session, row, sam.id, -1, actor="test", now=NOW)
    with database.session() as session:
        row = session.scalars(select(Rotation).filter_by(code="tier1")).one()
        assert schedule_for(row).layers[0].rotation.members == ("sam", "alex")


def test_an_unreadable_handoff_is_a_rotation_error(database: Database) -> None:
    load_example_directory(database)
    with database.session() as session:
        row = session.scalars(select(Rotation).filter_by(code="tier2")).one()
        row.handoff_anchor = "2026-01-05T08:00+01:00"
        with pytest.raises(RotationError, match="local wall time"):
            schedule_for(row)
        row.handoff_anchor = "soon"
        with pytest.raises(RotationError, match="cannot read handoff time"):
            schedule_for(row)
        session.rollback()


def test_shared_names_get_their_codes_in_feeds(database: Database) -> None:
    load_example_directory(database)
    with database.session() as session:
        session.add(Analyst(code="alex2", name="Alex Rivera"))
        session.flush()
        label = unique_name_label(session)
        by_code = {a.code: label(a) for a in session.scalars(select(Analyst))}
    assert by_code["alex"] == "Alex Rivera (alex)"
    assert by_code["alex2"] == "Alex Rivera (alex2)"
    assert by_code["sam"] == "Sam Okafor"
