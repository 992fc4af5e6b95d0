"""How the rota pages write times: local to a rotation's zone, with the zone named.

The date format is the admin pages' one (``voiceline.admin.formatting.when``); a span
leaves out the end's date when it is the same day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from oncall import edits
from voiceline.admin.formatting import DATE_FORMAT, when
from voiceline.hours import Hours, zone


def zone_label(time_zone: str, at: datetime) -> str:
    """Return the zone named with its abbreviation at ``at``, e.g. "America/Los_Angeles (PST)"."""
    return f"{time_zone} ({at.astimezone(zone(time_zone)).tzname()})"


def local_text(at: datetime, time_zone: str) -> str:
    """Return ``at`` as local wall time in ``time_zone`` with the abbreviation."""
    return when(at, zone(time_zone))


def input_value(at: datetime, time_zone: str) -> str:
    """Return ``at`` as a local value for an <input type=datetime-local>."""
    return at.astimezone(zone(time_zone)).strftime("%Y-%m-%dT%H:%M")


def duration_text(length: timedelta) -> str:
    """Return a duration like "2 d 3 h 15 min"."""
    minutes = int(length.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [
        f"{days} d" if days else "",
        f"{hours} h" if hours else "",
        f"{mins} min" if mins else "",
    ]
    return " ".join(p for p in parts if p) or "under a minute"


def span_text(start: datetime, end: datetime, time_zone: str) -> str:
    """Return a local span, leaving out the end's date when it is the same day."""
    tz = zone(time_zone)
    lo, hi = start.astimezone(tz), end.astimezone(tz)
    start_fmt = DATE_FORMAT if lo.tzname() != hi.tzname() else DATE_FORMAT.replace(" %Z", "")
    end_fmt = "%H:%M %Z" if lo.date() == hi.date() else DATE_FORMAT
    return f"{lo.strftime(start_fmt)} – {hi.strftime(end_fmt)} ({duration_text(end - start)})"


def hours_text(hours: Hours | None) -> str:
    """Return a rotation's hours for display: "always" or the windows."""
    return "always" if hours is None else edits.hours_text(hours)
