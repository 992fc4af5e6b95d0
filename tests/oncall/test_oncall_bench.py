"""Benchmarks of on-call resolution at the sizes the admin page and escalations ask for."""

from datetime import UTC, datetime, timedelta

from pytest_benchmark.fixture import BenchmarkFixture

from oncall.coverage import coverage_gaps
from oncall.rotation import Rotation, parse_shift_length
from oncall.schedule import Layer, Override, Schedule, shifts_between, who_is_on_call
from voiceline.hours import parse_hours

TEAM = tuple(f"Analyst {i}" for i in range(10))
START = datetime(2026, 3, 2, 8, tzinfo=UTC)
NIGHTS = parse_hours(
    ["mon-thu 16:30-08:00", "fri 16:30-24:00", "sat-sun 00:00-24:00", "mon 00:00-08:00"]
)
SCHEDULE = Schedule(
    "Tier 1",
    "America/Los_Angeles",
    (
        Layer("after-hours", Rotation("Nights", "America/Los_Angeles", TEAM, parse_shift_length("1w"), datetime(2026, 1, 5, 8)), NIGHTS),
        Layer("managers", Rotation("Managers", "America/Los_Angeles", ("Dee", "Gus"), parse_shift_length("1w"), datetime(2026, 1, 5, 8))),
    ),
    (
        Override("Zed", START + timedelta(days=2), START + timedelta(days=2, hours=6)),
        Override("Analyst 3", START + timedelta(days=5), START + timedelta(days=7), replaces="Analyst 8"),
        Override("Analyst 1", START + timedelta(days=9), START + timedelta(days=9, hours=3), replaces="Analyst 9"),
    ),
)  # fmt: skip


def test_shifts_over_fourteen_days(benchmark: BenchmarkFixture) -> None:
    shifts = benchmark(shifts_between, SCHEDULE, START, START + timedelta(days=14))
    assert shifts[0].start == START and shifts[-1].end == START + timedelta(days=14)
    assert {s.analyst for s in shifts} == {
        "Analyst 7",
        "Analyst 8",
        "Analyst 9",
        "Analyst 3",
        "Analyst 1",
        "Zed",
        "Dee",
        "Gus",
    }


def test_coverage_gaps_over_fourteen_days(benchmark: BenchmarkFixture) -> None:
    assert benchmark(coverage_gaps, SCHEDULE, START, START + timedelta(days=14), NIGHTS) == []


def test_who_is_on_call_now(benchmark: BenchmarkFixture) -> None:
    assert benchmark(who_is_on_call, SCHEDULE, START + timedelta(days=2, hours=1)) == "Zed"
