"""Business time: how long the common and the worst calls take (measured, not asserted)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from voiceline.customers.business_time import (
    BusinessCalendar,
    CalendarNeverOpens,
    add_business_time,
    business_time_between,
    is_business_time,
    next_business_moment,
)
from voiceline.hours import parse_hours, zone

LA = zone("America/Los_Angeles")
OFFICE = BusinessCalendar("America/Los_Angeles", parse_hours("mon-fri 08:00-16:30"), "US", "CA")
ALWAYS = BusinessCalendar("America/Los_Angeles", parse_hours("24x7"))
FRIDAY_EVENING = datetime(2026, 10, 30, 16, 0, tzinfo=LA)

Benchmark = Callable[..., Any]


def test_add_four_business_hours_over_a_weekend(benchmark: Benchmark) -> None:
    result = benchmark(add_business_time, FRIDAY_EVENING, timedelta(hours=4), OFFICE)
    assert result == datetime(2026, 11, 2, 11, 30, tzinfo=LA)


def test_add_five_business_days_over_thanksgiving(benchmark: Benchmark) -> None:
    start = datetime(2026, 11, 25, 16, 0, tzinfo=LA)
    result = benchmark(add_business_time, start, timedelta(hours=5 * 8.5), OFFICE)
    # Wed 0:30; Thu/Fri holidays; Mon-Thu 4 x 8:30 = 34:00; Fri 08:00 + 8:00 = 16:00.
    assert result == datetime(2026, 12, 4, 16, 0, tzinfo=LA)


def test_business_time_over_a_year(benchmark: Benchmark) -> None:
    start, end = datetime(2026, 1, 1, tzinfo=LA), datetime(2027, 1, 1, tzinfo=LA)
    result = benchmark(business_time_between, start, end, OFFICE)
    # 261 weekdays in 2026, less the 12 California holidays that fall on one, at 8:30 each.
    assert result == timedelta(hours=(261 - 12) * 8.5)


def test_is_business_time(benchmark: Benchmark) -> None:
    assert benchmark(is_business_time, OFFICE, datetime(2026, 11, 23, 10, tzinfo=LA)) is True


def test_next_opening_of_a_calendar_closed_for_years(benchmark: Benchmark) -> None:
    # Worst case for the search: one hour on Mondays, every Monday closed for eleven years.
    mondays = frozenset(date(2026, 11, 23) + timedelta(weeks=n) for n in range(52 * 11 + 1))
    calendar = BusinessCalendar("UTC", parse_hours("mon 09:00-10:00"), closures=mondays)
    start = datetime(2026, 11, 23, tzinfo=UTC)
    assert benchmark(next_business_moment, calendar, start) is None
    with pytest.raises(CalendarNeverOpens):
        add_business_time(start, timedelta(minutes=1), calendar)


def test_add_nine_years_to_a_24x7_calendar(benchmark: Benchmark) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    nine_years = timedelta(days=9 * 365)
    assert benchmark(add_business_time, start, nine_years, ALWAYS) == start + nine_years
