"""Who is on call costs the pager the same few statements however long the rota's history.

The pager resolves on-call targets at every escalation step; with five years of weekly
overrides and a thousand rotations it must not read more, nor ask more often, than with a
month of them and one rotation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from escalation.policy import Target
from escalation.roster import resolve_targets
from oncall.models import Analyst, ContactMethod, Override, Rotation, RotationMember
from voiceline.db import Database

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
STATEMENTS = 1  # rotations, members, overrides in force, analysts and their contact methods


def _rota(database: Database, rotations: int, weeks: int) -> None:
    """Add ``rotations`` rotations of three, each with a weekly override for ``weeks``."""
    with database.session() as session:
        analysts = [Analyst(code=f"a{n}", name=f"Analyst {n}") for n in range(6)]
        session.add_all(analysts)
        session.flush()
        for n, analyst in enumerate(analysts):
            session.add(
                ContactMethod(analyst_id=analyst.id, kind="sms", address=f"+150355502{n:02d}")
            )
            session.add(
                ContactMethod(analyst_id=analyst.id, kind="voice", address=f"+150355502{n:02d}")
            )
        for r in range(rotations):
            rotation = Rotation(code=f"rota-{r}", name=f"Rota {r}", time_zone="America/Los_Angeles",
                                shift_length="1w", handoff_anchor="2026-01-05T09:00")  # fmt: skip
            session.add(rotation)
            session.flush()
            for position, analyst in enumerate(analysts[:3]):
                session.add(
                    RotationMember(
                        rotation_id=rotation.id, analyst_id=analyst.id, position=position
                    )
                )
            for week in range(weeks):
                start = NOW - timedelta(weeks=week, hours=1)
                session.add(Override(rotation_id=rotation.id, analyst_id=analysts[3 + week % 3].id,
                                     replaces_analyst_id=analysts[week % 3].id if week % 2 else None,
                                     starts_at=start, ends_at=start + timedelta(hours=2)))  # fmt: skip


@contextmanager
def _counted(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", count)


def _resolve(database: Database, targets: list[Target]) -> tuple[dict[Target, list[str]], int]:
    with database.session() as session, _counted(database) as statements:
        roster = resolve_targets(session, targets, NOW)
        assert not roster.problems
        return {t: [r.analyst for r in found] for t, found in roster.recipients.items()}, len(
            statements
        )


def test_statements_do_not_grow_with_override_history(database: Database) -> None:
    _rota(database, rotations=1, weeks=4)
    target = Target("on_call", "rota-0")
    month, month_statements = _resolve(database, [target])
    assert month == {target: ["a3"]}  # this week's override covers the whole rotation
    with database.session() as session:
        rotation_id = session.query(Rotation.id).filter_by(code="rota-0").scalar()
        start = NOW - timedelta(weeks=4)
        for week in range(5 * 52):  # five years more, all of them over
            at = start - timedelta(weeks=week)
            session.add(Override(rotation_id=rotation_id, analyst_id=1, starts_at=at,
                                 ends_at=at + timedelta(days=2)))  # fmt: skip
    years, years_statements = _resolve(database, [target])
    assert years == month
    assert years_statements == month_statements <= STATEMENTS


def test_statements_do_not_grow_with_rotations_or_targets(database: Database) -> None:
    _rota(database, rotations=40, weeks=8)
    one, one_statements = _resolve(database, [Target("on_call", "rota-7")])
    many = [Target("on_call", f"rota-{r}") for r in range(1, 40, 3)]
    many += [Target("rotation", "rota-1"), Target("analyst", "a5")]
    resolved, many_statements = _resolve(database, many)
    assert resolved[Target("on_call", "rota-7")] == one[Target("on_call", "rota-7")]
    assert resolved[Target("rotation", "rota-1")] == ["a0", "a1", "a2"]
    assert resolved[Target("analyst", "a5")] == ["a5"]
    assert one_statements == many_statements <= STATEMENTS
