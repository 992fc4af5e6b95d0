"""Weekly opening windows: parsing and UTC intervals across DST."""

from datetime import UTC, date, datetime

import pytest

from voiceline.hours import (
    ALWAYS,
    HoursError,
    format_hours,
    is_open_at,
    open_intervals,
    parse_hours,
    zone,
)

LA = zone("America/Los_Angeles")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "spec, at, expected",
    [
        ("mon-fri 08:00-16:30", datetime(2026, 11, 23, 8, 0, tzinfo=LA), True),
        ("mon-fri 08:00-16:30", datetime(2026, 11, 23, 16, 30, tzinfo=LA), False),
        ("mon-fri 08:00-16:30", datetime(2026, 11, 22, 10, 0, tzinfo=LA), False),  # Sunday
        ("mon-fri 22:00-06:00", datetime(2026, 11, 28, 5, 59, tzinfo=LA), True),  # Sat from Fri
        ("mon-fri 22:00-06:00", datetime(2026, 11, 23, 5, 0, tzinfo=LA), False),  # Mon from Sun
        ("sat-sun 00:00-24:00", datetime(2026, 11, 22, 23, 59, tzinfo=LA), True),
        ("fri-mon 07:00-23:00", datetime(2026, 11, 22, 7, 0, tzinfo=LA), True),  # wraps the week
        ("24x7", datetime(2026, 3, 8, 2, 30, tzinfo=LA), True),
        ("none", datetime(2026, 3, 8, 12, 0, tzinfo=LA), False),
    ],
)
def test_is_open_at(spec: str, at: datetime, expected: bool) -> None:
    assert is_open_at(parse_hours(spec), LA, at) is expected


def test_window_on_spring_forward_day_is_an_hour_shorter() -> None:
    hours = parse_hours("sun 00:00-24:00")
    [(lo, hi)] = open_intervals(hours, LA, utc(2026, 3, 8), utc(2026, 3, 10))
    assert hi - lo == (utc(2026, 3, 9, 7) - utc(2026, 3, 8, 8))
    assert (hi - lo).total_seconds() == 23 * 3600


def test_overnight_window_across_fall_back_is_an_hour_longer() -> None:
    hours = parse_hours("sat 22:00-06:00")
    [(lo, hi)] = open_intervals(hours, LA, utc(2026, 10, 31), utc(2026, 11, 3))
    assert (hi - lo).total_seconds() == 9 * 3600


def test_closed_days_skip_windows_that_start_on_them() -> None:
    hours = parse_hours("mon-fri 08:00-16:30")
    thanksgiving = date(2026, 11, 26)
    spans = open_intervals(
        hours,
        LA,
        datetime(2026, 11, 26, tzinfo=LA),
        datetime(2026, 11, 28, tzinfo=LA),
        is_closed_day=lambda d: d == thanksgiving,
    )
    assert [lo.astimezone(LA).date() for lo, _ in spans] == [date(2026, 11, 27)]


def test_intervals_merge_and_clip() -> None:
    hours = parse_hours(["mon 08:00-12:00", "mon 12:00-16:00"])
    start = datetime(2026, 11, 23, 9, 0, tzinfo=LA)
    end = datetime(2026, 11, 23, 15, 0, tzinfo=LA)
    assert open_intervals(hours, LA, start, end) == [(start.astimezone(UTC), end.astimezone(UTC))]


@pytest.mark.parametrize(
    "spec", ["mon-fri", "xyz 08:00-09:00", "mon 25:00-26:00", "mon 08:00-08:00", "mon 8-9"]
)
def test_bad_specs_are_refused_with_a_reason(spec: str) -> None:
    with pytest.raises(HoursError):
        parse_hours(spec)


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(HoursError, match="Mars/Olympus"):
        zone("Mars/Olympus")


def test_format_round_trips() -> None:
    for spec in [
        "24x7",
        "none",
        ["mon-fri 08:00-16:30"],
        ["mon-thu,sat 22:00-06:00", "sun 00:00-24:00"],
    ]:
        hours = parse_hours(spec)
        assert parse_hours(format_hours(hours)) == hours
    assert parse_hours("24x7") == ALWAYS
