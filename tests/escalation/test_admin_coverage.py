"""Coverage gaps: what counts as a gap for restricted rotations, steps and whole policies,
the timeline's columns across DST, and the warnings the example desk shows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from escalation.coverage import coverage_warnings
from escalation.models import EscalationPolicy
from oncall.coverage import Gap
from oncall.models import Rotation as RotationRow
from oncall.models import RotationMember
from oncall.reach import StepTarget, step_gaps, unreached
from oncall.rotation import Rotation, parse_shift_length
from oncall.schedule import Layer, Override, Schedule
from oncall.timeline import COLUMNS_PER_DAY, timeline
from tests.admin_helpers import create_admin, load_example_directory, log_in, text_of
from voiceline.clock import ManualClock
from voiceline.db import Database
from voiceline.hours import Hours, parse_hours

LA = "America/Los_Angeles"
NIGHTS = parse_hours(["mon-fri 16:30-08:00", "sat-sun 00:00-24:00", "mon 00:00-08:00"])
ANCHOR = datetime(2026, 1, 5, 8, 0)
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # Sunday 02:00 PST


def _schedule(
    members: tuple[str, ...], hours: Hours | None = None, overrides: tuple[Override, ...] = ()
) -> Schedule:
    rota = Rotation("r", LA, members, parse_shift_length("1w"), ANCHOR)
    return Schedule("r", LA, (Layer("r", rota, hours),), overrides)


def _pst(day: int, hh: int, mm: int = 0) -> datetime:
    """Return a November 2026 wall time in Los Angeles (PST, UTC-8) as UTC."""
    return datetime(2026, 11, day, hh, mm, tzinfo=UTC) + timedelta(hours=8)


WORKDAYS = [23, 24, 25, 26, 27, 30]


def _working_days(start: datetime, end: datetime) -> list[Gap]:
    days = [_pst(d, 8) for d in WORKDAYS] + [_pst(30, 8) + timedelta(days=i) for i in range(1, 5)]
    return [Gap(d, d + timedelta(hours=8, minutes=30)) for d in days if start <= d < end]


def test_a_restricted_rotation_off_duty_is_not_a_step_gap() -> None:
    tier1 = StepTarget("on call: tier1", "schedule", _schedule(("alex", "sam"), NIGHTS), NIGHTS)
    assert step_gaps([tier1], NOW, NOW + timedelta(days=14)) == []


def test_an_empty_restricted_rotation_is_short_exactly_inside_its_hours() -> None:
    empty = StepTarget("on call: tier1", "schedule", _schedule((), NIGHTS), NIGHTS)
    end = NOW + timedelta(days=14)
    gaps = step_gaps([empty], NOW, end)
    nights = [Gap(a, b) for a, b in _complement(_working_days(NOW, end), NOW, end)]
    assert gaps == nights


def _complement(gaps: list[Gap], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    spans, cursor = [], start
    for g in gaps:
        spans.append((cursor, g.start))
        cursor = g.end
    spans.append((cursor, end))
    return [(a, b) for a, b in spans if a < b]


def test_a_step_is_short_only_when_every_target_finds_nobody() -> None:
    empty = StepTarget("on call: tier1", "schedule", _schedule((), NIGHTS), NIGHTS)
    manager = StepTarget("analyst: morgan", "always")
    ghost = StepTarget("rotation: ghost", "never")
    end = NOW + timedelta(days=2)
    assert step_gaps([empty, manager], NOW, end) == []
    # A target that reaches nobody (a rotation that does not exist) is meant to reach
    # somebody at all times, so beside an empty rotation it leaves the whole range short.
    assert step_gaps([empty, ghost], NOW, end) == [Gap(NOW, end)]
    assert step_gaps([], NOW, end) == [Gap(NOW, end)]


def test_an_override_inside_the_hours_closes_a_gap() -> None:
    cover = Override("jordan", _pst(23, 16, 30), _pst(24, 8))
    empty = StepTarget("on call", "schedule", _schedule((), NIGHTS, (cover,)), NIGHTS)
    gaps = step_gaps([empty], _pst(23, 0), _pst(24, 12))
    assert gaps == [Gap(_pst(23, 0), _pst(23, 8))]


def test_a_policy_pages_nobody_where_every_step_is_empty() -> None:
    tier1 = StepTarget("on call: tier1", "schedule", _schedule(("alex", "sam"), NIGHTS), NIGHTS)
    nobody = StepTarget("on call: tier2", "schedule", _schedule(()))
    end = NOW + timedelta(days=14)
    assert unreached([[tier1], [nobody]], NOW, end) == _working_days(NOW, end)
    assert unreached([[tier1], [StepTarget("analyst: morgan", "always")]], NOW, end) == []


def test_the_timeline_marks_gaps_inside_hours_and_off_hours_outside() -> None:
    short = Override("jordan", _pst(23, 16, 30), _pst(23, 20))
    (monday,) = timeline(_schedule((), NIGHTS, (short,)), NIGHTS, date(2026, 11, 23), 1)
    assert [(s.kind, s.analyst, s.columns) for s in monday.stretches] == [
        ("gap", None, 96),
        ("off", None, 102),
        ("override", "jordan", 42),
        ("gap", None, 48),
    ]
    assert monday.has_gap and monday.hours == 24


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 8), 23), (date(2026, 11, 1), 25)])
def test_timeline_days_fill_the_row_across_dst(day: date, hours: int) -> None:
    schedule = _schedule(("alex", "sam"))
    (row,) = timeline(schedule, None, day, 1)
    assert row.hours == hours
    assert sum(s.columns for s in row.stretches) == COLUMNS_PER_DAY
    assert row.stretches[0].start == row.start and row.stretches[-1].end == row.end


def test_a_one_minute_gap_is_never_rounded_away() -> None:
    overrides = (
        Override("jordan", _pst(23, 0), _pst(23, 12)),
        Override("casey", _pst(23, 12, 1), _pst(24, 0)),
    )
    (row,) = timeline(_schedule((), None, overrides), None, date(2026, 11, 23), 1)
    assert [(s.kind, s.columns) for s in row.stretches] == [
        ("override", 143),
        ("gap", 1),
        ("override", 144),
    ]


# --- the example support desk -------------------------------------------------------------


def _empty(database: Database, *codes: str) -> None:
    with database.session() as session:
        for code in codes:
            row = session.scalars(select(RotationRow).filter_by(code=code)).one()
            for member in list(row.members):
                session.delete(member)


def _warnings(database: Database) -> list[tuple[str, str, str, list[Gap]]]:
    with database.session() as session:
        return [
            (w.kind, w.subject, w.message, list(w.gaps)) for w in coverage_warnings(session, NOW)
        ]


def test_the_example_desk_has_no_gaps(database: Database) -> None:
    load_example_directory(database)
    assert _warnings(database) == []


def test_an_empty_tier1_is_short_at_night_and_weekends_only(database: Database) -> None:
    load_example_directory(database)
    _empty(database, "tier1")
    end = NOW + timedelta(days=14)
    nights = [Gap(a, b) for a, b in _complement(_working_days(NOW, end), NOW, end)]
    assert _warnings(database) == [
        ("rotation_gap", "Tier 1 after hours", "nobody is on call inside its hours", nights),
        (
            "step_gap",
            "Escalation policy Tier 1, then Tier 2, then management",
            "step 1 (on call: tier1) would find nobody on call",
            nights,
        ),
    ]


def test_without_tier2_and_management_the_working_day_reaches_nobody(database: Database) -> None:
    load_example_directory(database)
    _empty(database, "tier2", "management")
    end = NOW + timedelta(days=14)
    warnings = _warnings(database)
    kinds = [(kind, message) for kind, _, message, _ in warnings]
    assert ("unreached", "every step finds nobody: an emergency would page no one") in kinds
    (unreached_gaps,) = [gaps for kind, _, _, gaps in warnings if kind == "unreached"]
    assert unreached_gaps == _working_days(NOW, end)


def test_a_policy_naming_a_missing_rotation_is_a_configuration_warning(database: Database) -> None:
    load_example_directory(database)
    with database.session() as session:
        policy = session.scalars(select(EscalationPolicy)).one()
        policy.steps = [*policy.steps, {"targets": [{"on_call": "nights"}], "delay": "5m"}]
    assert [(k, m) for k, _, m, _ in _warnings(database)] == [
        ("config", "step 4 names unknown rotation nights")
    ]


def test_the_home_page_lists_gaps_in_local_time(
    client: FlaskClient, database: Database, clock: ManualClock
) -> None:
    load_example_directory(database)
    _empty(database, "tier2", "management")
    create_admin(database)
    log_in(client)
    page = text_of(client.get("/admin/"))
    assert "every step finds nobody: an emergency would page no one" in page
    assert "(times in America/Los_Angeles (PST))" in page
    assert "Mon 23 Nov 2026 08:00 – 16:30 PST (8 h 30 min)" in page
    assert "Fri 04 Dec 2026 08:00 – 16:30 PST (8 h 30 min)" in page
    assert "Tier 2 specialists : nobody is on call" in page


def test_a_member_added_back_clears_the_warning(database: Database) -> None:
    load_example_directory(database)
    _empty(database, "management")
    with database.session() as session:
        row = session.scalars(select(RotationRow).filter_by(code="management")).one()
        tier2 = session.scalars(select(RotationRow).filter_by(code="tier2")).one()
        row.members.append(RotationMember(analyst_id=tier2.members[0].analyst_id, position=0))
    assert _warnings(database) == []
