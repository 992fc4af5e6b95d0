"""Weekly opening windows in an IANA time zone, turned into UTC intervals.

Pure code shared by business calendars (voiceline) and rota restrictions (oncall).

A window is written ``"mon-fri 08:00-16:30"``. It starts on each named day; an end at or
before the start crosses midnight into the next day (``"mon-fri 22:00-06:00"``), and
``24:00`` means the end of the day. Local times are resolved with zoneinfo: a start in
the hour skipped by a spring-forward transition lands just after the gap (02:30 -> 03:30
in America/Los_Angeles), and a time repeated by a fall-back transition means its first
occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from voiceline.errors import InvalidInput

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW_RE = re.compile(
    r"^\s*(?P<days>[a-z,\- ]+?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)


class HoursError(InvalidInput):
    """A weekly-hours specification that cannot be understood."""


@dataclass(frozen=True, order=True)
class WeeklyWindow:
    """An opening window that starts on each of ``days`` (0 = Monday) at ``start``."""

    days: frozenset[int]
    start: time
    end: time | None  # None means 24:00 (end of the start day)

    @property
    def crosses_midnight(self) -> bool:
        """Return True when the window ends on the next day."""
        return self.end is not None and self.end <= self.start

    def spec(self) -> str:
        """Return the window in the text form that parse_window reads."""
        end = "24:00" if self.end is None else self.end.strftime("%H:%M")
        return f"{format_days(self.days)} {self.start.strftime('%H:%M')}-{end}"


Hours = tuple[WeeklyWindow, ...]
ALWAYS: Hours = (WeeklyWindow(frozenset(range(7)), time(0, 0), None),)


def zone(name: str) -> ZoneInfo:
    """Return the IANA zone ``name`` or raise HoursError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a name too long
        raise HoursError(f"unknown time zone {name!r}") from exc


def _parse_days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        if part in ("daily", "all", "everyday"):
            days.update(range(7))
            continue
        if part in ("weekdays",):
            days.update(range(5))
            continue
        if part in ("weekends",):
            days.update((5, 6))
            continue
        first, _, last = part.partition("-")
        try:
            lo = DAY_NAMES.index(first[:3])
            hi = DAY_NAMES.index(last[:3]) if last else lo
        except ValueError as exc:
            raise HoursError(f"unknown day in {text!r}; use mon..sun") from exc
        day = lo
        while True:
            days.add(day)
            if day == hi:
                break
            day = (day + 1) % 7
    if not days:
        raise HoursError(f"no days in {text!r}")
    return frozenset(days)


def format_days(days: Iterable[int]) -> str:
    """Return days as compact ranges, e.g. ``mon-fri,sun``."""
    ordered = sorted(set(days))
    if len(ordered) == 7:
        return "mon-sun"
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        first, last = DAY_NAMES[ordered[i]], DAY_NAMES[ordered[j]]
        parts.append(first if i == j else f"{first}-{last}")
        i = j + 1
    return ",".join(parts)


def _parse_clock(text: str, *, allow_24: bool) -> time | None:
    hh, mm = (int(x) for x in text.split(":"))
    if allow_24 and (hh, mm) == (24, 0):
        return None
    if not (0 <= hh <= 23 and 0 <= mm <= 59):
        raise HoursError(f"invalid time of day {text!r}")
    return time(hh, mm)


def parse_window(text: str) -> WeeklyWindow:
    """Parse ``"mon-fri 08:00-16:30"`` into a WeeklyWindow."""
    match = _WINDOW_RE.match(text.strip().lower())
    if not match:
        raise HoursError(f"cannot read hours {text!r}; expected e.g. 'mon-fri 08:00-16:30'")
    start = _parse_clock(match["start"], allow_24=False)
    assert start is not None
    end = _parse_clock(match["end"], allow_24=True)
    if end is not None and end == start:
        raise HoursError(f"window {text!r} is empty; use 00:00-24:00 for a whole day")
    return WeeklyWindow(_parse_days(match["days"]), start, end)


def parse_hours(spec: str | Iterable[str] | None) -> Hours:
    """Parse one window, a list of windows, ``"24x7"`` or None/"none" (never open)."""
    if spec is None:
        return ()
    if isinstance(spec, str):
        text = spec.strip().lower()
        if text in ("24x7", "24/7", "always"):
            return ALWAYS
        if text in ("", "none", "never"):
            return ()
        items: list[str] = [s for s in text.split(";") if s.strip()]
    else:
        items = list(spec)
    return tuple(parse_window(item) for item in items)


def format_hours(hours: Hours) -> str | list[str]:
    """Return hours in the form parse_hours reads."""
    if hours == ALWAYS:
        return "24x7"
    if not hours:
        return "none"
    return [w.spec() for w in hours]


def _local(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def open_intervals(
    hours: Hours,
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
    is_closed_day: Callable[[date], bool] | None = None,
) -> list[tuple[datetime, datetime]]:
    """Return the merged UTC intervals inside [start, end) where ``hours`` are open.

    A window whose start day is a closed day (a holiday) is skipped whole.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("open_intervals needs timezone-aware datetimes")
    if end <= start or not hours:
        return []
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    spans: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        if is_closed_day is None or not is_closed_day(day):
            for window in hours:
                if day.weekday() not in window.days:
                    continue
                w_start = _local(day, window.start, tz)
                if window.end is None:
                    w_end = _local(day + timedelta(days=1), time(0, 0), tz)
                elif window.crosses_midnight:
                    w_end = _local(day + timedelta(days=1), window.end, tz)
                else:
                    w_end = _local(day, window.end, tz)
                lo, hi = max(w_start, start), min(w_end, end)
                if lo < hi:
                    spans.append((lo, hi))
        day += timedelta(days=1)
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def is_open_at(
    hours: Hours,
    tz: ZoneInfo,
    at: datetime,
    is_closed_day: Callable[[date], bool] | None = None,
) -> bool:
    """Return True when ``at`` falls inside one of the windows."""
    return bool(open_intervals(hours, tz, at, at + timedelta(seconds=1), is_closed_day))
