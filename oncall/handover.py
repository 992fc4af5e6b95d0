"""Handovers: the instants at which a schedule's on-call analyst changes, and to whom.

A rotation's own next turn is not the next handover. Hours switch a restricted rotation
off and on again, an override gives a turn (or part of one) to somebody else, and a turn
can pass back to the same analyst. The handovers are read off the whole schedule
(``oncall.schedule.shifts_between``, the code that decides who is paged), so a page
naming the next analyst names the one the pager would page after that instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from oncall.rotation import utc_range
from oncall.schedule import Schedule, Source, shifts_between


@dataclass(frozen=True)
class Handover:
    """At ``at`` the on-call analyst becomes ``analyst`` (None: nobody is on call)."""

    at: datetime
    analyst: str | None
    source: Source | None  # why ``analyst`` is on call: their turn, or an override

    @property
    def is_to_nobody(self) -> bool:
        """Return True when nobody is on call from ``at``."""
        return self.analyst is None


def handovers_between(schedule: Schedule, start: datetime, end: datetime) -> list[Handover]:
    """Return each instant in (start, end) at which the on-call analyst changes, in order.

    The same analyst staying on (a new turn, or an override that keeps them on call) is
    no handover; the start of a stretch with nobody on call is one, to nobody.
    """
    start, end = utc_range(start, end)
    held: str | None = None
    cursor = start
    handovers: list[Handover] = []
    for shift in shifts_between(schedule, start, end):
        if shift.start > cursor and held is not None:
            handovers.append(Handover(cursor, None, None))
            held = None
        if shift.analyst != held:
            if shift.start > start:
                handovers.append(Handover(shift.start, shift.analyst, shift.source))
            held = shift.analyst
        cursor = shift.end
    if held is not None and cursor < end:
        handovers.append(Handover(cursor, None, None))
    return handovers
