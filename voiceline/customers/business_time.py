"""Business time: weekly hours in a customer's time zone, minus public holidays and closures.

A BusinessCalendar is open during its weekly windows (see voiceline.hours) except on closed
days: the public holidays of its country and subdivision from the ``holidays`` package
(observed/substitute dates included) and the customer's own extra closures. A window belongs
to the day it starts on: an overnight window that starts the evening before a holiday still
runs into the holiday morning, and one that starts on the holiday is skipped whole.

Durations are exact timedelta arithmetic on UTC instants, so an hour of business time across
a DST night is an hour of real time. Every instant this module returns is in UTC; convert
with ``.astimezone(calendar.tz)`` to show it. The calculator jumps from window to window
over bounded chunks (never minute by minute) and gives up after SEARCH_HORIZON, so an empty
calendar or a huge duration ends with an error instead of a loop.

Errors, all ValueError:

    CalendarError                 bad zone, hours, holiday source, instant or duration
     └── CalendarNeverOpens       positive business time asked of a calendar with no hours
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache, partial
from types import MappingProxyType
from zoneinfo import ZoneInfo

from voiceline.errors import InvalidInput
from voiceline.hours import (
    ALWAYS,
    Hours,
    HoursError,
    WeeklyWindow,
    is_open_at,
    open_intervals,
    zone,
)

SEARCH_HORIZON = timedelta(days=3653)  # ten years: no real calendar stays shut that long
_CHUNK = timedelta(days=14)  # open_intervals works a day at a time; two weeks keeps lists short
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(2900, 1, 1, tzinfo=UTC)
CLOSURE = "closure"  # holiday_name's answer for one of the customer's own closure dates
_DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_ZONE_NAMES = {
    "America/Los_Angeles": "Pacific Time",
    "America/Vancouver": "Pacific Time",
    "America/Denver": "Mountain Time",
    "America/Edmonton": "Mountain Time",
    "America/Phoenix": "Arizona time",
    "America/Chicago": "Central Time",
    "America/Winnipeg": "Central Time",
    "America/New_York": "Eastern Time",
    "America/Toronto": "Eastern Time",
    "America/Anchorage": "Alaska Time",
    "Pacific/Honolulu": "Hawaii time",
    "Europe/London": "UK time",
    "Europe/Dublin": "Irish time",
    "UTC": "UTC",
    "Etc/UTC": "UTC",
}


class CalendarError(InvalidInput):
    """A business calendar, instant or duration that cannot be used."""


class CalendarNeverOpens(CalendarError):
    """Business time was asked of a calendar that has no opening hours."""


@lru_cache(maxsize=256)
def _check_holiday_source(
    country: str, subdivision: str | None, categories: tuple[str, ...] | None
) -> None:
    """Raise CalendarError unless ``holidays`` knows this country, subdivision and categories."""
    import holidays  # on first use: a command that never measures business time skips it

    try:
        holidays.country_holidays(country, subdiv=subdivision, categories=categories)
    except NotImplementedError as exc:  # the package's way of saying "unknown code"
        where = country if subdivision is None else f"{country}-{subdivision}"
        raise CalendarError(f"no public holidays known for {where!r}: {exc}") from exc
    except (ValueError, KeyError) as exc:
        raise CalendarError(f"unusable holiday categories {categories!r}: {exc}") from exc


@lru_cache(maxsize=1024)
def _holidays_in_year(
    country: str, subdivision: str | None, categories: tuple[str, ...] | None, year: int
) -> Mapping[date, str]:
    """Return the public holidays (with observed dates) that fall in ``year``."""
    # Populate the neighbouring years too: an observed date can move across New Year
    # (US New Year's Day 2028, a Saturday, is observed on Friday 2027-12-31).
    import holidays

    table = holidays.country_holidays(
        country,
        subdiv=subdivision,
        years=(year - 1, year, year + 1),
        observed=True,
        categories=categories,
    )
    return MappingProxyType({d: name for d, name in table.items() if d.year == year})


@dataclass(frozen=True)
class BusinessCalendar:
    """A customer's business hours, time zone, public holidays and extra closures."""

    time_zone: str
    hours: Hours
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    closures: frozenset[date] = field(default_factory=frozenset)
    holiday_categories: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        try:
            zone(self.time_zone)
        except HoursError as exc:
            raise CalendarError(str(exc)) from exc
        if not isinstance(self.hours, tuple) or not all(
            isinstance(w, WeeklyWindow) for w in self.hours
        ):
            raise CalendarError("hours must come from voiceline.hours.parse_hours")
        closures = frozenset(self.closures)
        if not all(type(d) is date for d in closures):
            raise CalendarError("closures must be dates, not datetimes or text")
        object.__setattr__(self, "closures", closures)
        if self.holiday_categories is not None:
            cats = tuple(sorted({c.strip().lower() for c in self.holiday_categories}))
            object.__setattr__(self, "holiday_categories", cats)
        if self.holiday_country is None:
            if self.holiday_subdivision is not None or self.holiday_categories is not None:
                raise CalendarError("a holiday subdivision or category needs a holiday country")
            return
        object.__setattr__(self, "holiday_country", self.holiday_country.strip().upper())
        _check_holiday_source(
            self.holiday_country, self.holiday_subdivision, self.holiday_categories
        )

    @property
    def tz(self) -> ZoneInfo:
        """Return the calendar's IANA zone."""
        return zone(self.time_zone)


def holiday_name(calendar: BusinessCalendar, day: date) -> str | None:
    """Return why ``day`` is closed (the holiday's name or CLOSURE), or None if it is not."""
    if calendar.holiday_country is not None:
        name = _holidays_in_year(
            calendar.holiday_country,
            calendar.holiday_subdivision,
            calendar.holiday_categories,
            day.year,
        ).get(day)
        if name is not None:
            return name
    return CLOSURE if day in calendar.closures else None


def is_closed_day(calendar: BusinessCalendar, day: date) -> bool:
    """Return True when ``day`` is a public holiday or one of the calendar's closures."""
    return holiday_name(calendar, day) is not None


def _check_instant(at: datetime, what: str) -> datetime:
    """Return ``at`` in UTC, refusing naive or far-off instants."""
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise CalendarError(f"{what} must be a timezone-aware datetime, got {at!r}")
    utc = at.astimezone(UTC)
    if not _EARLIEST <= utc < _LATEST:
        raise CalendarError(f"{what} {at.isoformat()} is outside the years 1900-2899")
    return utc


def _open_spans(
    calendar: BusinessCalendar, start: datetime, stop: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Yield the calendar's open UTC spans inside [start, stop), chunk by chunk, in order."""
    if not calendar.hours:
        return
    tz = calendar.tz
    closed = partial(is_closed_day, calendar)
    lo = start
    while lo < stop:
        hi = min(lo + _CHUNK, stop)
        yield from open_intervals(calendar.hours, tz, lo, hi, closed)
        lo = hi


def _search_limit(start: datetime) -> datetime:
    return min(start + SEARCH_HORIZON, _LATEST)


# The last closed stretch each calendar was asked about, [from, next opening): nothing
# opens inside it, so every instant in it is closed and opens next at its end. A call to
# the line asks both at once, and the callers of one night ask about the same stretch.
# Kept by the calendar's identity (the directory cache holds one per customer while the
# directory is unchanged), the calendar itself alongside so a reused id never matches.
_CLOSED_STRETCH: dict[int, tuple[BusinessCalendar, datetime, datetime]] = {}
_CLOSED_STRETCH_LIMIT = 4_096


def _in_closed_stretch(calendar: BusinessCalendar, utc: datetime) -> datetime | None:
    """Return the next opening when ``utc`` is in the calendar's kept closed stretch."""
    kept = _CLOSED_STRETCH.get(id(calendar))
    if kept is not None and kept[0] is calendar and kept[1] <= utc < kept[2]:
        return kept[2]
    return None


def is_business_time(calendar: BusinessCalendar, at: datetime) -> bool:
    """Return True when ``at`` falls inside the calendar's open hours."""
    utc = _check_instant(at, "at")
    if _in_closed_stretch(calendar, utc) is not None:
        return False
    closed = partial(is_closed_day, calendar)
    return is_open_at(calendar.hours, calendar.tz, utc, closed)


def next_business_moment(calendar: BusinessCalendar, at: datetime) -> datetime | None:
    """Return the first open instant at or after ``at`` (UTC), or None if it never opens."""
    start = _check_instant(at, "at")
    kept = _in_closed_stretch(calendar, start)
    if kept is not None:
        return kept
    for lo, _hi in _open_spans(calendar, start, _search_limit(start)):
        if lo > start:
            if len(_CLOSED_STRETCH) >= _CLOSED_STRETCH_LIMIT:
                _CLOSED_STRETCH.clear()
            _CLOSED_STRETCH[id(calendar)] = (calendar, start, lo)
        return lo
    return None


def add_business_time(start: datetime, duration: timedelta, calendar: BusinessCalendar) -> datetime:
    """Return the UTC instant at which ``duration`` of business time has run from ``start``.

    The clock only runs while the calendar is open, so a start outside hours begins at the
    next opening; a duration that ends exactly at a closing time returns that closing time.
    A zero duration returns ``start`` itself (in UTC), open or not.
    """
    utc = _check_instant(start, "start")
    if not isinstance(duration, timedelta) or duration < timedelta(0):
        raise CalendarError(f"duration must be a non-negative timedelta, got {duration!r}")
    if not duration:
        return utc
    if not calendar.hours:
        raise CalendarNeverOpens(f"{describe_hours(calendar)}: no business time to add")
    remaining = duration
    opened = False
    for lo, hi in _open_spans(calendar, utc, _search_limit(utc)):
        opened = True
        if remaining <= hi - lo:
            return lo + remaining
        remaining -= hi - lo
    if not opened:
        raise CalendarNeverOpens(
            f"{describe_hours(calendar)}: never open in the {SEARCH_HORIZON.days} days"
            f" after {utc.isoformat()}"
        )
    raise CalendarError(
        f"{duration} of business time from {utc.isoformat()} runs past the"
        f" {SEARCH_HORIZON.days}-day search horizon"
    )


def business_time_between(a: datetime, b: datetime, calendar: BusinessCalendar) -> timedelta:
    """Return the business time in [a, b); negative (the same amount) when b is before a.

    Antisymmetric on purpose: ``business_time_between(now, deadline)`` going negative says
    by how much business time a deadline has been missed.
    """
    lo = _check_instant(a, "a")
    hi = _check_instant(b, "b")
    if hi < lo:
        return -business_time_between(b, a, calendar)
    return sum((end - begin for begin, end in _open_spans(calendar, lo, hi)), timedelta(0))


def _clock(value: time | None) -> str:
    return "24:00" if value is None else f"{value.hour}:{value.minute:02d}"


def _days_label(days: Iterable[int]) -> str:
    ordered = sorted(set(days))
    if len(ordered) == 7:
        return "Every day"
    runs: list[list[int]] = []
    for day in ordered:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        _DAY_LABELS[run[0]] if len(run) == 1 else f"{_DAY_LABELS[run[0]]}–{_DAY_LABELS[run[-1]]}"
        for run in runs
    )


def zone_label(time_zone: str) -> str:
    """Return a caller-friendly name for an IANA zone ("Pacific Time", "Berlin time")."""
    if time_zone in _ZONE_NAMES:
        return _ZONE_NAMES[time_zone]
    return f"{time_zone.rsplit('/', 1)[-1].replace('_', ' ')} time"


def describe_hours(calendar: BusinessCalendar) -> str:
    """Return the hours in words, e.g. "Mon–Fri 8:00–16:30 Pacific Time"."""
    if not calendar.hours:
        text = "No business hours"
    elif calendar.hours == ALWAYS:
        text = "24 hours a day, 7 days a week"
    else:
        # Windows sharing the same days read as one phrase: "Mon–Fri 8:00–12:00 and 13:00–17:00".
        by_days: dict[frozenset[int], list[WeeklyWindow]] = {}
        for window in sorted(calendar.hours, key=lambda w: (min(w.days), w.start)):
            by_days.setdefault(window.days, []).append(window)
        text = ", ".join(
            _days_label(days)
            + " "
            + " and ".join(f"{_clock(w.start)}–{_clock(w.end)}" for w in windows)
            for days, windows in by_days.items()
        )
        text = f"{text} {zone_label(calendar.time_zone)}"
    if calendar.holiday_country is not None and calendar.hours:
        text += ", closed on public holidays"
    return text
