"""The pager's who-is-on-call reads only the overrides in force, however long the history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from escalation.policy import Target
from escalation.roster import on_call_rows, resolve_targets
from oncall.models import Analyst, ContactMethod, Override, Rotation, RotationMember
from voiceline.db import Database

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def _rotation_with_history(database: Database, years: int) -> None:
    with database.session() as session:
        alex = Analyst(code="alex", name="Alex Rivera")
        jo = Analyst(code="jo", name="Jordan Lee")
        session.add_all([alex, jo])
        session.flush()
        session.add_all(
            [
                ContactMethod(analyst_id=alex.id, kind="sms", address="+15035550201"),
                ContactMethod(analyst_id=jo.id, kind="sms", address="+15035550202"),
            ]
        )
        rotation = Rotation(
            code="tier1",
            name="Tier 1",
            time_zone="America/Los_Angeles",
            shift_length="1w",
            handoff_anchor="2026-01-05T09:00",
        )
        session.add(rotation)
        session.flush()
        session.add(RotationMember(rotation_id=rotation.id, analyst_id=alex.id, position=0))
        # A weekly override for Jordan, every week of the past ``years`` years ...
        start = NOW - timedelta(days=365 * years)
        while start < NOW - timedelta(days=7):
            session.add(
                Override(
                    rotation_id=rotation.id,
                    analyst_id=jo.id,
                    starts_at=start,
                    ends_at=start + timedelta(days=1),
                )
            )
            start += timedelta(days=7)
        # ... and one in force now.
        session.add(
            Override(
                rotation_id=rotation.id,
                analyst_id=jo.id,
                starts_at=NOW - timedelta(hours=1),
                ends_at=NOW + timedelta(hours=1),
            )
        )


def _rows_read(database: Database, target: Target) -> tuple[list[str], int]:
    """Resolve ``target`` at NOW; return who is on call and how many overrides the pager's
    statement read."""
    with database.session() as session:
        roster = resolve_targets(session, [target], NOW)
        statement, params = on_call_rows([target.ref], [target.ref], [], NOW)
        rows = session.connection().execute(statement, params).all()
        read = [row for row in rows if row.starts_at is not None]  # an override's row
    return [r.analyst for r in roster.recipients[target]], len(read)


def test_the_override_in_force_decides_and_only_it_is_read(database: Database) -> None:
    _rotation_with_history(database, years=5)
    with database.session() as session:
        assert session.query(Override).count() > 250  # five years of weekly overrides
    on_call, loaded = _rows_read(database, Target("on_call", "tier1"))
    assert on_call == ["jo"]
    assert loaded == 1


def test_without_an_override_in_force_the_rotation_decides(database: Database) -> None:
    _rotation_with_history(database, years=1)
    with database.session() as session:
        current = session.query(Override).filter(Override.ends_at > NOW).one()
        session.delete(current)
    on_call, loaded = _rows_read(database, Target("on_call", "tier1"))
    assert on_call == ["alex"]
    assert loaded == 0
