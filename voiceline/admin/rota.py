"""The rota pages: the admin home (rotations, who is on call, coverage warnings)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, render_template
from flask.typing import ResponseReturnValue

from oncall.rotation import OnCallError, next_handoff
from oncall.schedule import who_is_on_call
from oncall.store import hours_of, load_rotations, schedule_for
from voiceline.admin import bp
from voiceline.admin.auth import login_required
from voiceline.app import get_clock
from voiceline.db import request_session
from voiceline.hours import format_hours, zone


def zone_label(time_zone: str, at: datetime) -> str:
    """Return the zone named with its abbreviation at ``at``, e.g. "America/Los_Angeles (PST)"."""
    return f"{time_zone} ({at.astimezone(zone(time_zone)).tzname()})"


def local_text(at: datetime, time_zone: str) -> str:
    """Return ``at`` as local wall time in ``time_zone`` with the abbreviation."""
    return at.astimezone(zone(time_zone)).strftime("%a %d %b %H:%M %Z")


def hours_text(hours: object) -> str:
    """Return a rotation's hours for display."""
    if hours is None:
        return "always"
    text = format_hours(hours)  # type: ignore[arg-type]
    return text if isinstance(text, str) else "; ".join(text)


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    """List the rotations with who is on call now and the next handoff."""
    now = get_clock(current_app).now()
    db = request_session()
    codes = {}
    rows = []
    for row in load_rotations(db):
        codes.update({m.analyst.code: m.analyst for m in row.members})
        codes.update({o.analyst.code: o.analyst for o in row.overrides})
        entry: dict[str, object] = {
            "row": row,
            "zone": zone_label(row.time_zone, now),
            "hours": hours_text(hours_of(row)),
            "error": None,
            "on_call": None,
            "next": None,
        }
        try:
            schedule = schedule_for(row)
            who = who_is_on_call(schedule, now)
            entry["on_call"] = codes.get(who) if who else None
            handoff = next_handoff(schedule.layers[0].rotation, now)
            if handoff is not None and handoff.member is not None:
                entry["next"] = (local_text(handoff.at, row.time_zone), codes.get(handoff.member))
        except OnCallError as exc:
            entry["error"] = str(exc)
        rows.append(entry)
    return render_template("admin/home.html", rotations=rows, now=now)
