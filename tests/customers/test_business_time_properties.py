"""Business time: properties and agreement with a brute-force minute-by-minute reference.

The reference below shares no code with the calculator or voiceline.hours: it decides each
UTC minute on its own, from that minute's local wall-clock day, the window definitions, and
the ``holidays`` package's own dictionary. It resolves a window's local start and end by
reading the zone only in the unambiguous UTC -> local direction, with the rules the hours
module documents: a repeated (fall-back) time means its first occurrence, and a skipped
(spring-forward) time is read with the offset in force before the gap.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import accumulate
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voiceline.customers.business_time import (
    BusinessCalendar,
    CalendarNeverOpens,
    add_business_time,
    business_time_between,
    is_business_time,
    next_business_moment,
)
from voiceline.hours import WeeklyWindow, parse_hours

MINUTE = timedelta(minutes=1)
NEIGHBOURS = (timedelta(days=-1), timedelta(0), timedelta(days=1))
# Zones chosen for their transitions: US and EU rules, the southern hemisphere, a
# half-hour shift (Lord Howe), a half-hour offset (St John's), midnight transitions
# (Santiago, Beirut) and no DST at all (Kolkata, UTC).
ZONES = (
    "America/Los_Angeles",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "America/Santiago",
    "Asia/Beirut",
    "Asia/Kolkata",
    "UTC",
)
HOLIDAY_SOURCES: tuple[tuple[str, str | None] | None, ...] = (
    None,
    ("US", None),
    ("US", "CA"),
    ("GB", "ENG"),
    ("GB", "SCT"),
    ("DE", "BY"),
    ("AU", "NSW"),
    ("CL", None),
)
YEARS = range(2025, 2029)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Clock times near DST transitions and midnight are drawn often, so windows start and end
# inside skipped and repeated hours.
EDGE_MINUTES = (0, 30, 60, 90, 120, 135, 150, 180, 210, 1290, 1320, 1380, 1410, 1439)


# --- the reference -------------------------------------------------------------------------


def wall_to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """Resolve a naive local wall time to UTC without asking zoneinfo to do it."""
    offsets = {
        (wall + timedelta(hours=k)).replace(tzinfo=UTC).astimezone(tz).utcoffset()
        for k in range(-36, 37, 3)
    }
    hits = [
        wall - off
        for off in offsets
        if off is not None
        and (wall - off).replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None) == wall
    ]
    if hits:
        return min(hits).replace(tzinfo=UTC)  # repeated: the first occurrence
    before = (wall - timedelta(days=1)).replace(tzinfo=UTC).astimezone(tz).utcoffset()
    assert before is not None
    return (wall - before).replace(tzinfo=UTC)  # skipped: the offset before the gap


@dataclass
class Reference:
    """A business calendar decided minute by minute from first principles."""

    tz: ZoneInfo
    windows: tuple[WeeklyWindow, ...]
    holiday_days: holidays.HolidayBase | None
    closures: frozenset[date]

    def __post_init__(self) -> None:
        self._by_day: dict[date, list[tuple[datetime, datetime]]] = {}

    def is_closed(self, day: date) -> bool:
        return day in self.closures or (self.holiday_days is not None and day in self.holiday_days)

    def spans_starting_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """Return the UTC spans of the windows that start on ``day`` (none if it is closed)."""
        if day not in self._by_day:
            spans = []
            if not self.is_closed(day):
                for window in self.windows:
                    if day.weekday() not in window.days:
                        continue
                    if window.end is None:
                        end_wall = datetime.combine(day + timedelta(days=1), time(0))
                    elif window.end <= window.start:
                        end_wall = datetime.combine(day + timedelta(days=1), window.end)
                    else:
                        end_wall = datetime.combine(day, window.end)
                    start = wall_to_utc(datetime.combine(day, window.start), self.tz)
                    spans.append((start, wall_to_utc(end_wall, self.tz)))
            self._by_day[day] = spans
        return self._by_day[day]

    def is_open(self, at: datetime) -> bool:
        local_day = at.astimezone(self.tz).date()
        # A window belongs to the day it starts on; around a midnight fall-back the day
        # after the local date can already have started.
        for delta in NEIGHBOURS:
            for start, end in self.spans_starting_on(local_day + delta):
                if start <= at < end:
                    return True
        return False

    def minutes(self, start: datetime, count: int) -> list[int]:
        """Return 1 for each open minute of the ``count`` minutes from ``start``."""
        return [int(self.is_open(start + i * MINUTE)) for i in range(count)]


# --- generated calendars and instants ------------------------------------------------------


@cache
def transitions(zone_name: str) -> tuple[datetime, ...]:
    """Return the UTC instants in YEARS at which the zone's offset changes, to the minute."""
    tz = ZoneInfo(zone_name)
    found: list[datetime] = []
    t = datetime(YEARS.start, 1, 1, tzinfo=UTC)
    stop = datetime(YEARS.stop, 1, 1, tzinfo=UTC)
    step = timedelta(hours=6)
    while t < stop:
        if t.astimezone(tz).utcoffset() != (t + step).astimezone(tz).utcoffset():
            lo, hi = t, t + step
            while hi - lo > MINUTE:
                mid = lo + (hi - lo) // MINUTE // 2 * MINUTE
                if mid.astimezone(tz).utcoffset() == lo.astimezone(tz).utcoffset():
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
        t += step
    return tuple(found)


@cache
def holiday_table(source: tuple[str, str | None]) -> holidays.HolidayBase:
    country, subdivision = source
    return holidays.country_holidays(country, subdiv=subdivision, years=YEARS, observed=True)


@cache
def holiday_dates(source: tuple[str, str | None]) -> tuple[date, ...]:
    return tuple(sorted(holiday_table(source)))


@dataclass(frozen=True)
class Case:
    calendar: BusinessCalendar
    reference: Reference = field(repr=False)  # the calendar says the same, more briefly
    anchor: datetime


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def window_specs(draw: st.DrawFn) -> str:
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    minutes = st.one_of(st.sampled_from(EDGE_MINUTES), st.integers(0, 1439))
    start = draw(minutes)
    end = draw(st.one_of(st.just(1440), minutes).filter(lambda m: m != start))
    day_text = ",".join(DAY_NAMES[d] for d in sorted(days))
    return f"{day_text} {clock(start)}-{'24:00' if end == 1440 else clock(end)}"


@st.composite
def cases(draw: st.DrawFn) -> Case:
    zone_name = draw(st.sampled_from(ZONES))
    tz = ZoneInfo(zone_name)
    source = draw(st.sampled_from(HOLIDAY_SOURCES))
    shape = draw(st.sampled_from(("windows", "windows", "windows", "24x7", "none")))
    if shape == "windows":
        hours = parse_hours(draw(st.lists(window_specs(), min_size=1, max_size=3)))
    else:
        hours = parse_hours(shape)
    where = draw(st.sampled_from(("transition", "holiday", "anywhere")))
    if where == "transition" and transitions(zone_name):
        anchor = draw(st.sampled_from(transitions(zone_name)))
    elif where == "holiday" and source is not None:
        day = draw(st.sampled_from(holiday_dates(source)))
        anchor = wall_to_utc(datetime.combine(day, time(0)), tz)
    else:
        anchor = draw(
            st.datetimes(datetime(2025, 1, 2), datetime(2028, 12, 20)).map(
                lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
            )
        )
    anchor += draw(st.integers(-3 * 1440, 1440)) * MINUTE
    local_day = anchor.astimezone(tz).date()
    closures = frozenset(
        local_day + timedelta(days=k) for k in draw(st.lists(st.integers(-2, 8), max_size=3))
    )
    calendar = BusinessCalendar(
        zone_name,
        hours,
        None if source is None else source[0],
        None if source is None else source[1],
        closures,
    )
    reference = Reference(tz, hours, None if source is None else holiday_table(source), closures)
    return Case(calendar, reference, anchor)


# About 400 calendars, each checked at every change of state and at a dozen generated
# intervals and durations: thousands of cases in well under half a minute.
AGREEMENT = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
SETTINGS = settings(AGREEMENT, max_examples=200)


# --- agreement with the reference ----------------------------------------------------------


# Shrinking a failure re-runs the reference many times; give it room to report the
# smallest failing calendar rather than a timeout.
@pytest.mark.timeout(300)
@AGREEMENT
@given(case=cases(), span_days=st.integers(1, 7), data=st.data())
def test_calculator_agrees_with_minute_by_minute_reference(
    case: Case, span_days: int, data: st.DataObject
) -> None:
    count = span_days * 1440
    a = case.anchor
    bits = case.reference.minutes(a, count)
    prefix = [0, *accumulate(bits)]  # prefix[i]: open minutes in [a, a + i minutes)

    # Every change of state, and the minute before it, reads the same in both.
    for i in range(count):
        if i == 0 or bits[i] != bits[i - 1]:
            for j in {max(i - 1, 0), i}:
                assert is_business_time(case.calendar, a + j * MINUTE) is bool(bits[j]), j

    # Business time between any two generated minutes.
    for _ in range(6):
        j, k = sorted(data.draw(st.integers(0, count)) for _ in range(2))
        expected = (prefix[k] - prefix[j]) * MINUTE
        assert business_time_between(a + j * MINUTE, a + k * MINUTE, case.calendar) == expected
        assert business_time_between(a + k * MINUTE, a + j * MINUTE, case.calendar) == -expected

    # Adding business time: the first minute at which the reference has counted d.
    for _ in range(6):
        j = data.draw(st.integers(0, count))
        available = prefix[count] - prefix[j]
        d = data.draw(st.integers(0, available))
        expected_at = a + bisect_left(prefix, prefix[j] + d, lo=j) * MINUTE
        assert add_business_time(a + j * MINUTE, d * MINUTE, case.calendar) == expected_at

    # The next opening, when the reference sees one in the span.
    if 1 in bits:
        assert next_business_moment(case.calendar, a) == a + bits.index(1) * MINUTE
    elif not case.calendar.hours:
        assert next_business_moment(case.calendar, a) is None


# --- properties ----------------------------------------------------------------------------

durations = st.builds(
    timedelta,
    minutes=st.integers(0, 5 * 1440),
    seconds=st.integers(0, 59),
    microseconds=st.sampled_from((0, 0, 0, 1, 250_000, 999_999)),
)
offsets = st.builds(timedelta, minutes=st.integers(0, 9 * 1440), seconds=st.integers(0, 59))
# Longer than the calculator's two-week chunks, so sums cross chunk boundaries.
long_offsets = st.builds(timedelta, minutes=st.integers(0, 40 * 1440), seconds=st.integers(0, 59))


def fits(calendar: BusinessCalendar, duration: timedelta) -> timedelta:
    """Return ``duration`` cut so that sparse calendars stay well inside the search horizon."""
    weekly = timedelta(0)
    for window in calendar.hours:
        start = window.start.hour * 60 + window.start.minute
        end = 1440 if window.end is None else window.end.hour * 60 + window.end.minute
        weekly += len(window.days) * ((end - start) % 1440 or 1440) * MINUTE
    return min(duration, weekly * 20)


@SETTINGS
@given(case=cases(), d=durations, shift=offsets)
def test_round_trip_between_after_add_is_the_duration(
    case: Case, d: timedelta, shift: timedelta
) -> None:
    a = case.anchor + shift
    d = fits(case.calendar, d)
    if not case.calendar.hours:
        assert add_business_time(a, timedelta(0), case.calendar) == a
        return
    end = add_business_time(a, d, case.calendar)
    assert end >= a
    assert business_time_between(a, end, case.calendar) == d
    if d:
        # The clock stops inside an open span (or at its close), never in a closed stretch.
        assert is_business_time(case.calendar, end - timedelta(microseconds=1))


@SETTINGS
@given(
    case=cases().filter(lambda c: bool(c.calendar.hours)),
    d1=durations,
    d2=durations,
    s1=offsets,
    s2=offsets,
)
def test_adding_is_monotonic_in_start_and_duration(
    case: Case, d1: timedelta, d2: timedelta, s1: timedelta, s2: timedelta
) -> None:
    (d1, d2), (s1, s2) = (
        sorted((fits(case.calendar, d1), fits(case.calendar, d2))),
        sorted((s1, s2)),
    )
    a1, a2 = case.anchor + s1, case.anchor + s2
    assert add_business_time(a1, d1, case.calendar) <= add_business_time(a1, d2, case.calendar)
    assert add_business_time(a1, d1, case.calendar) <= add_business_time(a2, d1, case.calendar)


@SETTINGS
@given(case=cases(), s1=long_offsets, s2=long_offsets, s3=long_offsets)
def test_between_is_additive_bounded_and_monotonic(
    case: Case, s1: timedelta, s2: timedelta, s3: timedelta
) -> None:
    a, b, c = (case.anchor + s for s in (s1, s2, s3))
    ab = business_time_between(a, b, case.calendar)
    bc = business_time_between(b, c, case.calendar)
    assert ab + bc == business_time_between(a, c, case.calendar)
    assert abs(ab) <= abs(b - a)
    lo, hi = sorted((b, c))
    assert business_time_between(a, lo, case.calendar) <= business_time_between(
        a, hi, case.calendar
    )


@SETTINGS
@given(case=cases(), shift=long_offsets, d=durations)
def test_24x7_business_time_is_wall_time(case: Case, shift: timedelta, d: timedelta) -> None:
    calendar = BusinessCalendar(case.calendar.time_zone, parse_hours("24x7"))
    a = case.anchor
    assert business_time_between(a, a + shift, calendar) == shift
    assert add_business_time(a, d, calendar) == a + d
    assert next_business_moment(calendar, a) == a


@SETTINGS
@given(case=cases(), shift=offsets, d=durations.filter(bool))
def test_empty_calendar_has_no_business_time(case: Case, shift: timedelta, d: timedelta) -> None:
    calendar = BusinessCalendar(case.calendar.time_zone, parse_hours("none"))
    assert business_time_between(case.anchor, case.anchor + shift, calendar) == timedelta(0)
    assert next_business_moment(calendar, case.anchor) is None
    with pytest.raises(CalendarNeverOpens):
        add_business_time(case.anchor, d, calendar)
