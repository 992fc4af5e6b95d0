"""Handovers: when a schedule's on-call analyst changes, read off the whole schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oncall.handover import Handover, handovers_between
from oncall.rotation import NaiveTimeError, Rotation, next_handoff, parse_shift_length
from oncall.schedule import Layer, Override, Schedule, who_is_on_call
from voiceline.hours import parse_hours

LA = "America/Los_Angeles"
# The example desk's Tier 1: weekly turns from Monday 08:00, on call outside office hours.
TIER1_HOURS = parse_hours(["mon-fri 16:30-08:00", "sat-sun 00:00-24:00", "mon 00:00-08:00"])
TIER1_ROTATION = Rotation(
    "Tier 1", LA, ("alex", "sam"), parse_shift_length("1w"), datetime(2026, 1, 5, 8)
)
# Sunday 22 November 2026, 02:00 in Oregon: Sam's week, Alex's from Monday 08:00.
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def tier1(*overrides: Override) -> Schedule:
    return Schedule("Tier 1", LA, (Layer("tier1", TIER1_ROTATION, TIER1_HOURS),), overrides)


def always(members: tuple[str, ...], shift: str = "1w", *overrides: Override) -> Schedule:
    rotation = Rotation("R", LA, members, parse_shift_length(shift), datetime(2026, 1, 5, 8))
    return Schedule("R", LA, (Layer("r", rotation),), overrides)


JORDAN_COVERS_MONDAY = Override("jordan", utc(11, 23, 8), utc(11, 24, 16), layer="tier1")


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        pytest.param(
            tier1(),
            [
                Handover(utc(11, 23, 16), None, None),  # Mon 08:00 PST: office hours
                Handover(utc(11, 24, 0, 30), "alex", "rotation"),  # Mon 16:30 PST
            ],
            id="hours-switch-the-rotation-off-and-alex-starts-at-1630",
        ),
        pytest.param(
            tier1(JORDAN_COVERS_MONDAY),
            [
                Handover(utc(11, 23, 8), "jordan", "override"),  # Mon 00:00 PST
                Handover(utc(11, 23, 16), None, None),
                Handover(utc(11, 24, 0, 30), "jordan", "override"),
            ],
            id="an-override-gives-monday-to-jordan",
        ),
        pytest.param(
            tier1(Override("jordan", utc(11, 22, 20), utc(11, 22, 22), "sam", "tier1")),
            [
                Handover(utc(11, 22, 20), "jordan", "override"),
                Handover(utc(11, 22, 22), "sam", "rotation"),
                Handover(utc(11, 23, 16), None, None),
                Handover(utc(11, 24, 0, 30), "alex", "rotation"),
            ],
            id="a-replacement-for-two-hours-and-back",
        ),
        pytest.param(
            tier1(Override("sam", utc(11, 22, 12), utc(11, 23, 8), layer="tier1")),
            [
                Handover(utc(11, 23, 16), None, None),
                Handover(utc(11, 24, 0, 30), "alex", "rotation"),
            ],
            id="an-override-that-keeps-the-same-analyst-is-no-handover",
        ),
        pytest.param(always(("morgan",)), [], id="one-member-always-on-never-changes"),
        pytest.param(always(()), [], id="nobody-ever-on-call-never-changes"),
        pytest.param(
            always(("alex", "sam"), "1d"),
            [
                Handover(utc(11, 22, 16), "sam", "rotation"),
                Handover(utc(11, 23, 16), "alex", "rotation"),
            ],
            id="daily-turns-at-0800-local",
        ),
    ],
)
def test_handovers_follow_hours_turns_and_overrides(
    schedule: Schedule, expected: list[Handover]
) -> None:
    assert handovers_between(schedule, NOW, NOW + 2 * DAY) == expected


def test_the_rotations_own_next_turn_is_not_the_next_handover() -> None:
    schedule = tier1(JORDAN_COVERS_MONDAY)
    turn = next_handoff(TIER1_ROTATION, NOW)
    assert turn is not None and (turn.at, turn.member) == (utc(11, 23, 16), "alex")
    first = handovers_between(schedule, NOW, NOW + 14 * DAY)[0]
    assert (first.at, first.analyst) == (utc(11, 23, 8), "jordan")


def test_an_empty_range_has_no_handovers_and_naive_times_are_refused() -> None:
    assert handovers_between(tier1(), NOW, NOW) == []
    with pytest.raises(NaiveTimeError):
        handovers_between(tier1(), NOW.replace(tzinfo=None), NOW + DAY)


SCHEDULES = [
    tier1(),
    tier1(JORDAN_COVERS_MONDAY),
    always(("alex", "sam", "casey"), "12h"),
    always(("alex", "sam"), "5h", Override("sam", utc(3, 8, 6), utc(3, 8, 13), "alex", "r")),
]


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize(
    "start", [NOW, utc(3, 7, 20), utc(10, 31, 20)], ids=["november", "spring-dst", "fall-dst"]
)
def test_handovers_agree_with_who_is_on_call(schedule: Schedule, start: datetime) -> None:
    """Between two handovers the pager's answer never changes; at each it changes as said."""
    end = start + 4 * DAY
    handovers = handovers_between(schedule, start, end)
    edges = [start, *(h.at for h in handovers), end]
    for lo, hi in zip(edges, edges[1:], strict=False):
        assert lo < hi
        held = who_is_on_call(schedule, lo)
        for probe in (lo + (hi - lo) / 3, hi - timedelta(microseconds=1)):
            assert who_is_on_call(schedule, probe) == held
    for handover in handovers:
        assert who_is_on_call(schedule, handover.at) == handover.analyst
        assert who_is_on_call(schedule, handover.at - timedelta(microseconds=1)) != handover.analyst
