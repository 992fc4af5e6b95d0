"""The admin home's pages: ``/admin/`` in full, and ``/admin/home/live``, its live sections.

The page is complete as served. A small script (static/admin/live.js) fetches the live
sections every few seconds and swaps in those that changed. Polling rather than
server-sent events: the web app runs on gunicorn's sync workers, where every open SSE
stream would hold a worker for as long as an admin keeps the page open; one short GET
every five seconds costs a few milliseconds of a worker instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from escalation.coverage import HORIZON_DAYS, coverage_warnings
from oncall.models import Analyst
from oncall.rotation import OnCallError
from oncall.schedule import who_is_on_call
from oncall.store import hours_of, load_rotations, schedule_for
from oncall.views.formatting import hours_text, local_text, span_text, zone_label
from oncall.views.handoffs import next_handoff_text
from voiceline import extensions
from voiceline.admin.auth import login_required
from voiceline.db import request_session
from voiceline.home.attention import attention

bp = Blueprint("home", __name__, url_prefix="/admin", template_folder="templates")

LIVE_SECONDS = 5


def _rotations(now: datetime) -> tuple[list[dict[str, Any]], list[str]]:
    """Return each rotation with who is on call now and the next handoff, and their zones."""
    rows = []
    zones: list[str] = []
    for row in load_rotations(request_session()):
        zones.append(row.time_zone)
        analysts: dict[str, Analyst] = {m.analyst.code: m.analyst for m in row.members}
        analysts.update({o.analyst.code: o.analyst for o in row.overrides})
        names = {code: a.name for code, a in analysts.items()}
        entry: dict[str, Any] = {"row": row, "zone": zone_label(row.time_zone, now)}
        try:
            hours = hours_of(row)
            entry["hours"] = hours_text(hours)
            # The pager's own question, over the rotation's turns, hours and overrides.
            schedule = schedule_for(row)
            who = who_is_on_call(schedule, now)
            entry["on_call"] = analysts.get(who) if who else None
            entry["is_override"] = who is not None and any(
                o.analyst == who and o.start <= now < o.end for o in schedule.overrides
            )
            entry["next"] = next_handoff_text(schedule, hours, now, names)
        except OnCallError as exc:
            entry["error"] = str(exc)
        rows.append(entry)
    return rows, zones


def _live_context() -> dict[str, Any]:
    """Return everything the live sections show at the clock's now."""
    now = extensions.clock().now()
    db = request_session()
    rotations, zones = _rotations(now)
    warnings = [
        {
            "warning": w,
            "spans": [span_text(g.start, g.end, w.time_zone) for g in w.gaps],
            "zone": zone_label(w.time_zone, now),
        }
        for w in coverage_warnings(db, now)
    ]
    return {
        "attention": attention(db, now),
        "rotations": rotations,
        "warnings": warnings,
        "days": HORIZON_DAYS,
        "now_text": local_text(now, zones[0] if zones else "UTC"),
    }


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    """Show what needs attention now: open incidents, alarms, and who is on call."""
    return render_template("home/home.html", live_seconds=LIVE_SECONDS, **_live_context())


@bp.get("/home/live")
@login_required
def live() -> ResponseReturnValue:
    """Return the home page's live sections, for the page's script to swap in."""
    # Logged out, this redirects to the login form like every admin page; the script
    # does not follow the redirect, it stops and says the login has expired.
    return render_template("home/_live.html", **_live_context())
