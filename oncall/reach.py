"""Who a group of on-call targets reaches, and when it reaches nobody that it should.

An escalation step pages several targets at once; it finds nobody only when every one
of them finds nobody. A target is a schedule (whoever is on call on it), somebody always
(a named analyst, every member of a rotation with members), or nobody ever (a rotation
without members, a name that matches nothing).

What counts as a gap depends on when the targets are *meant* to be on call: a rotation
restricted to nights and weekends is off during the working day by design, and a step
paging only that rotation is meant to be skipped then. So a step's gaps are the times
inside at least one target's hours where all of its targets find nobody. Separately,
``unreached`` gives the times where every step of a policy finds nobody at all, so an
emergency opened then would page no one: that is always a problem, whatever the hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from oncall.coverage import Gap, intersect
from oncall.rotation import utc_range
from oncall.schedule import Interval, Schedule, shifts_between
from voiceline.hours import Hours, open_intervals

Reach = Literal["schedule", "always", "never"]


@dataclass(frozen=True)
class StepTarget:
    """One thing a step pages: a schedule (active in ``hours``), always somebody, or nobody."""

    label: str
    reach: Reach
    schedule: Schedule | None = None
    hours: Hours | None = None

    def __post_init__(self) -> None:
        if (self.reach == "schedule") != (self.schedule is not None):
            raise ValueError("a target has a schedule exactly when it reaches by schedule")


def _union(spans: Sequence[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        elif lo < hi:
            merged.append((lo, hi))
    return merged


def _nobody(target: StepTarget, start: datetime, end: datetime) -> list[Interval]:
    """Return where ``target`` reaches nobody inside [start, end)."""
    if target.reach == "always":
        return []
    if target.reach == "never" or target.schedule is None:
        return [(start, end)]
    free: list[Interval] = []
    cursor = start
    for shift in shifts_between(target.schedule, start, end):
        if shift.start > cursor:
            free.append((cursor, shift.start))
        cursor = shift.end
    if cursor < end:
        free.append((cursor, end))
    return free


def _needed(target: StepTarget, start: datetime, end: datetime) -> list[Interval]:
    """Return where ``target`` is meant to reach somebody inside [start, end)."""
    if target.reach != "schedule" or target.hours is None or target.schedule is None:
        return [(start, end)]
    return open_intervals(target.hours, target.schedule.tz, start, end)


def _nobody_in_all(targets: Sequence[StepTarget], start: datetime, end: datetime) -> list[Interval]:
    free: list[Interval] = [(start, end)] if start < end else []
    for target in targets:
        free = intersect(free, _nobody(target, start, end))
    return free


def step_gaps(targets: Sequence[StepTarget], start: datetime, end: datetime) -> list[Gap]:
    """Return where the step's targets should reach somebody and all of them reach nobody."""
    start, end = utc_range(start, end)
    if not targets:
        return [Gap(start, end)] if start < end else []
    need = _union([span for t in targets for span in _needed(t, start, end)])
    return [Gap(lo, hi) for lo, hi in intersect(need, _nobody_in_all(targets, start, end))]


def unreached(steps: Sequence[Sequence[StepTarget]], start: datetime, end: datetime) -> list[Gap]:
    """Return where every step finds nobody, so an escalation would page no one at all."""
    start, end = utc_range(start, end)
    free: list[Interval] = [(start, end)] if start < end else []
    for targets in steps:
        free = intersect(free, _nobody_in_all(targets, start, end))
    return [Gap(lo, hi) for lo, hi in free]
