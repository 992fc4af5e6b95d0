"""Coverage gaps: the time that needs an on-call analyst and where a schedule has nobody.

An escalation step that pages a schedule inside a gap finds nobody and is skipped, so the
admin page lists the gaps of the next fourteen days for every schedule a policy uses. A
rotation without members leaves its layers empty: a schedule made only of such layers is
one gap from start to end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from oncall.rotation import as_utc, utc_range
from oncall.schedule import Interval, Schedule, ScheduleError, Shift, shifts_between
from voiceline.hours import Hours, HoursError, open_intervals, zone


@dataclass(frozen=True)
class Gap:
    """Nobody is on call from ``start`` to ``end``."""

    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        """Return how long the gap lasts."""
        return self.end - self.start


def _uncovered(shifts: Sequence[Shift], start: datetime, end: datetime) -> list[Interval]:
    free: list[Interval] = []
    cursor = start
    for shift in shifts:
        if shift.start > cursor:
            free.append((cursor, shift.start))
        cursor = shift.end
    if cursor < end:
        free.append((cursor, end))
    return free


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """Return the overlap of two sorted, disjoint interval lists."""
    result: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            result.append((lo, hi))
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return result


def _normalise(intervals: Iterable[Interval]) -> list[Interval]:
    spans = sorted(utc_range(lo, hi) for lo, hi in intervals)
    merged: list[Interval] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        elif lo < hi:
            merged.append((lo, hi))
    return merged


def coverage_gaps(
    schedule: Schedule,
    start: datetime,
    end: datetime,
    required: Hours | None = None,
    *,
    time_zone: str | None = None,
    within: Iterable[Interval] | None = None,
) -> list[Gap]:
    """Return the stretches of [start, end) that need cover and where nobody is on call.

    Cover is needed inside ``required`` (weekly windows read in ``time_zone``, by default the
    schedule's; None: always) and, when given, inside the ``within`` intervals, e.g. a
    customer's out-of-hours time with its holidays already worked out.
    """
    start, end = utc_range(start, end)
    if required is None:
        need: list[Interval] = [(start, end)] if start < end else []
    else:
        try:
            tz = zone(time_zone or schedule.time_zone)
        except HoursError as exc:
            raise ScheduleError(str(exc)) from exc
        need = open_intervals(required, tz, start, end)
    if within is not None:
        need = intersect(need, _normalise(within))
    free = _uncovered(shifts_between(schedule, start, end), start, end)
    return [Gap(lo, hi) for lo, hi in intersect(need, free)]


def upcoming_gaps(
    schedule: Schedule,
    now: datetime,
    required: Hours | None = None,
    *,
    days: int = 14,
    time_zone: str | None = None,
    within: Iterable[Interval] | None = None,
) -> list[Gap]:
    """Return the coverage gaps in the ``days`` days from ``now`` (see coverage_gaps)."""
    now = as_utc(now, "now")
    return coverage_gaps(
        schedule, now, now + timedelta(days=days), required, time_zone=time_zone, within=within
    )
