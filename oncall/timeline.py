"""The on-call timeline as the admin page draws it: one row per local day, in columns.

Each local day of the schedule's zone is cut into stretches: somebody on call from the
rotation (``on``) or from an override (``override``), nobody while cover is required
(``gap``), and nobody outside the required hours (``off``, not a problem). Each stretch
gets a run of fixed-width columns (``COLUMN_MINUTES`` each) by its local wall time, so a
page can draw it as one table cell spanning that many columns, without inline styles.

Days are wall-clock days: a 23-hour spring-forward day draws the skipped hour as part of
the stretch around it, and a 25-hour fall-back day draws the repeated hour once (a
change inside the repeat is drawn at the first 01:xx). A gap is never rounded away: it
keeps at least one column, taken from its neighbour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from oncall.rotation import local_instant
from oncall.schedule import Interval, Schedule, shifts_between
from voiceline.hours import Hours, open_intervals

Kind = Literal["on", "override", "gap", "off"]
COLUMN_MINUTES = 5
COLUMNS_PER_DAY = 24 * 60 // COLUMN_MINUTES


@dataclass(frozen=True)
class Stretch:
    """``analyst`` (None for gap and off) from ``start`` to ``end``, drawn over ``columns``."""

    kind: Kind
    analyst: str | None
    start: datetime
    end: datetime
    columns: int


@dataclass(frozen=True)
class Day:
    """One local day: its date, real length and the stretches that fill it."""

    day: date
    start: datetime
    end: datetime
    stretches: tuple[Stretch, ...]

    @property
    def hours(self) -> float:
        """Return the day's real length in hours (23 or 25 on DST change days)."""
        return (self.end - self.start) / timedelta(hours=1)

    @property
    def has_gap(self) -> bool:
        """Return True when the day has a coverage gap."""
        return any(s.kind == "gap" for s in self.stretches)


_Piece = tuple[datetime, datetime, Kind, str | None]


def _pieces(
    schedule: Schedule, need: list[Interval], start: datetime, end: datetime
) -> list[_Piece]:
    """Return the day cut where the on-call analyst or the need for cover changes."""
    shifts = shifts_between(schedule, start, end)
    points = {start, end}
    for s in shifts:
        points.update((s.start, s.end))
    for lo, hi in need:
        points.update((lo, hi))
    ordered = sorted(p for p in points if start <= p <= end)
    pieces: list[_Piece] = []
    for lo, hi in zip(ordered, ordered[1:], strict=False):
        shift = next((s for s in shifts if s.start <= lo < s.end), None)
        if shift is not None:
            kind: Kind = "override" if shift.source == "override" else "on"
            piece: _Piece = (lo, hi, kind, shift.analyst)
        elif any(a <= lo < b for a, b in need):
            piece = (lo, hi, "gap", None)
        else:
            piece = (lo, hi, "off", None)
        if pieces and pieces[-1][2:] == piece[2:] and pieces[-1][1] == lo:
            pieces[-1] = (pieces[-1][0], hi, piece[2], piece[3])
        else:
            pieces.append(piece)
    return pieces


def _wall_minutes(at: datetime, day_start: datetime, schedule: Schedule) -> float:
    """Return minutes from local midnight to ``at`` on the wall clock."""
    local = at.astimezone(schedule.tz).replace(tzinfo=None)
    midnight = day_start.astimezone(schedule.tz).replace(tzinfo=None)
    midnight = datetime.combine(midnight.date(), time(0, 0))
    return (local - midnight) / timedelta(minutes=1)


def _columns(edges: list[float], kinds: list[Kind]) -> list[int]:
    """Return each stretch's column count: rounded, summing to a day, no gap left empty."""
    cols = [min(COLUMNS_PER_DAY, max(0, round(m / COLUMN_MINUTES))) for m in edges]
    cols[0], cols[-1] = 0, COLUMNS_PER_DAY
    for i in range(1, len(cols)):  # the repeated hour of a fall-back day runs backwards
        cols[i] = max(cols[i], cols[i - 1])
    widths = [b - a for a, b in zip(cols, cols[1:], strict=False)]
    for i, kind in enumerate(kinds):
        if kind == "gap" and widths[i] == 0:
            donor = max(
                (j for j in (i - 1, i + 1) if 0 <= j < len(widths)),
                key=lambda j: widths[j],
                default=None,
            )
            if donor is not None and widths[donor] > 1:
                widths[donor] -= 1
                widths[i] = 1
    return widths


def day_bounds(schedule: Schedule, day: date) -> tuple[datetime, datetime]:
    """Return the UTC instants at which local ``day`` begins and ends in the schedule's zone."""
    tz = schedule.tz
    return (
        local_instant(datetime.combine(day, time(0, 0)), tz),
        local_instant(datetime.combine(day + timedelta(days=1), time(0, 0)), tz),
    )


def timeline(
    schedule: Schedule, required: Hours | None, first_day: date, days: int = 14
) -> list[Day]:
    """Return ``days`` local days from ``first_day``: who is on call, gaps and off hours."""
    result: list[Day] = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        start, end = day_bounds(schedule, day)
        if required is None:
            need: list[Interval] = [(start, end)]
        else:
            need = open_intervals(required, schedule.tz, start, end)
        pieces = _pieces(schedule, need, start, end)
        edges = [_wall_minutes(p[0], start, schedule) for p in pieces]
        edges.append(float(24 * 60))
        widths = _columns(edges, [p[2] for p in pieces])
        stretches = tuple(
            Stretch(kind, analyst, lo, hi, width)
            for (lo, hi, kind, analyst), width in zip(pieces, widths, strict=True)
            if width > 0
        )
        result.append(Day(day, start, end, stretches))
    return result
