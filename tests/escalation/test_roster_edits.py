"""Who is on call follows every edit of a rota at the pager's next call, from any session.

The pager keeps a rotation's parsed layer between calls (``oncall.store.schedule_of``),
keyed by the fields it is made from, as read in the caller's transaction. An edit made in
another session (another worker process is no different: nothing is told of it) must be
seen by the next call: the shift, the handoff, the zone, the hours, the members and their
order, an override, a STOP.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from escalation.policy import Target
from escalation.roster import resolve_targets
from escalation.state import Recipient
from oncall.models import Analyst, ContactMethod, Override, Rotation, RotationMember
from voiceline.db import Database

# Friday 19:00 in Los Angeles: week 46 of a rota handing off on Mondays at 09:00 since
# 5 January 2026, day 326 of a daily one; week 45 from 12 January.
NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
WEST = Target("on_call", "west")


def _rota(database: Database) -> None:
    with database.session() as session:
        for n, code in enumerate(["alex", "sam", "jo", "kim"]):
            analyst = Analyst(code=code, name=code.title())
            session.add(analyst)
            session.flush()
            session.add(ContactMethod(analyst_id=analyst.id, kind="sms", address=f"+1503555010{n}"))
        rotation = Rotation(code="west", name="West", time_zone="America/Los_Angeles",
                            shift_length="1w", handoff_anchor="2026-01-05T09:00")  # fmt: skip
        session.add(rotation)
        session.flush()
        for position, code in enumerate(["alex", "sam", "jo"]):
            session.add(RotationMember(rotation_id=rotation.id, position=position,
                                       analyst_id=_id(session, code)))  # fmt: skip


def _id(session, code: str) -> int:  # type: ignore[no-untyped-def]
    return session.scalars(select(Analyst.id).filter_by(code=code)).one()  # type: ignore[no-any-return]


def _on_call(database: Database) -> list[Recipient]:
    """Resolve the rota in a session of its own, as each escalation step does."""
    with database.session() as session:
        roster = resolve_targets(session, [WEST], NOW)
    assert not roster.problems
    return roster.recipients[WEST]


def _codes(database: Database) -> list[str]:
    return [r.analyst for r in _on_call(database)]


def _edit(database: Database, **values: object) -> None:
    with database.session() as session:
        session.execute(update(Rotation).where(Rotation.code == "west").values(**values))


def test_each_edit_of_the_rotation_is_seen_by_the_next_call(database: Database) -> None:
    _rota(database)
    assert _codes(database) == ["sam"]  # week 46: the second of three
    assert _codes(database) == ["sam"]  # asked again, the same rows: the same answer
    _edit(database, handoff_anchor="2026-01-12T09:00")
    assert _codes(database) == ["alex"]  # week 45
    _edit(database, handoff_anchor="2026-01-05T09:00", shift_length="1d")
    assert _codes(database) == ["jo"]  # day 326
    _edit(database, time_zone="Asia/Tokyo")
    assert _codes(database) == ["alex"]  # Saturday noon there: day 327
    _edit(database, time_zone="America/Los_Angeles", shift_length="1w",
          hours=["mon-fri 08:00-17:00"])  # fmt: skip
    assert _codes(database) == []  # 19:00 is outside its hours
    _edit(database, hours=["mon-fri 17:00-24:00"])
    assert _codes(database) == ["sam"]


def test_members_and_their_order_are_seen_by_the_next_call(database: Database) -> None:
    _rota(database)
    assert _codes(database) == ["sam"]
    with database.session() as session:
        sam = session.scalars(select(RotationMember).filter_by(analyst_id=_id(session, "sam")))
        sam.one().analyst_id = _id(session, "kim")
    assert _codes(database) == ["kim"]
    with database.session() as session:  # the same members, each one place on: jo, alex, kim
        rows = session.scalars(select(RotationMember).order_by(RotationMember.position)).all()
        for row in rows:
            row.position += 10
        session.flush()
        for row in rows:
            row.position = (row.position - 9) % 3
    assert _codes(database) == ["alex"]
    with database.session() as session:
        session.delete(session.scalars(select(RotationMember).filter_by(position=2)).one())
    assert _codes(database) == ["jo"]  # jo and alex now: week 46 is the first's


def test_an_override_and_a_stop_are_seen_by_the_next_call(database: Database) -> None:
    _rota(database)
    assert _on_call(database) == [Recipient("sam", sms="+15035550101")]
    with database.session() as session:
        rotation_id = session.scalars(select(Rotation.id)).one()
        session.add(Override(rotation_id=rotation_id, analyst_id=_id(session, "jo"),
                             starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=1)))  # fmt: skip
    assert _on_call(database) == [Recipient("jo", sms="+15035550102")]
    with database.session() as session:
        method = session.scalars(
            select(ContactMethod).filter_by(analyst_id=_id(session, "jo"))
        ).one()
        method.is_opted_out = True
    assert _on_call(database) == [Recipient("jo", sms="+15035550102", sms_stopped=True)]
