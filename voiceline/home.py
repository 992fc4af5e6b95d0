"""The admin home at ``/admin/``: every rotation with who is on call now, and coverage warnings.

It reads every area, so it sits beside the app factory, above them all.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from escalation.coverage import HORIZON_DAYS, coverage_warnings
from oncall.models import Analyst
from oncall.rotation import OnCallError, next_handoff
from oncall.schedule import who_is_on_call
from oncall.store import hours_of, load_rotations, schedule_for
from oncall.views.formatting import hours_text, local_text, span_text, zone_label
from voiceline import extensions
from voiceline.admin.auth import login_required
from voiceline.db import request_session

bp = Blueprint("home", __name__, url_prefix="/admin")


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    """List the rotations with who is on call now, the next handoff and coverage warnings."""
    now = extensions.clock().now()
    db = request_session()
    analysts: dict[str, Analyst] = {}
    rows = []
    zones: list[str] = []
    for row in load_rotations(db):
        zones.append(row.time_zone)
        analysts.update({m.analyst.code: m.analyst for m in row.members})
        analysts.update({o.analyst.code: o.analyst for o in row.overrides})
        entry: dict[str, object] = {"row": row, "zone": zone_label(row.time_zone, now)}
        try:
            entry["hours"] = hours_text(hours_of(row))
            schedule = schedule_for(row)
            who = who_is_on_call(schedule, now)
            entry["on_call"] = analysts.get(who) if who else None
            handoff = next_handoff(schedule.layers[0].rotation, now)
            if handoff is not None and handoff.member is not None:
                entry["next"] = (
                    local_text(handoff.at, row.time_zone),
                    analysts.get(handoff.member),
                )
        except OnCallError as exc:
            entry["error"] = str(exc)
        rows.append(entry)
    warnings = [
        {
            "warning": w,
            "spans": [span_text(g.start, g.end, w.time_zone) for g in w.gaps],
            "zone": zone_label(w.time_zone, now),
        }
        for w in coverage_warnings(db, now)
    ]
    return render_template(
        "admin/home.html",
        rotations=rows,
        warnings=warnings,
        days=HORIZON_DAYS,
        now_text=local_text(now, zones[0]) if zones else None,
    )
