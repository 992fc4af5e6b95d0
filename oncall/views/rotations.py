"""One rotation's page: settings, members, overrides and the two-week timeline.

Every form posts to its own URL. A refused form re-renders the page with the message
next to the field and status 422, having changed nothing; an accepted one commits with
its audit entry and redirects back (post/redirect/get).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from oncall import edits
from oncall.edits import FormError
from oncall.models import Analyst
from oncall.models import Rotation as RotationRow
from oncall.rotation import OnCallError
from oncall.schedule import who_is_on_call
from oncall.store import hours_of, rotation_by_code, schedule_for, upcoming_overrides
from oncall.timeline import COLUMNS_PER_DAY, Day, timeline
from oncall.views.blueprint import bp
from oncall.views.formatting import (
    hours_text,
    input_value,
    local_text,
    span_text,
    zone_label,
)
from oncall.views.handoffs import next_handoff_text
from voiceline import extensions
from voiceline.admin.auth import current_admin, login_required
from voiceline.db import request_session
from voiceline.urls import public_url

TIMELINE_DAYS = 14


def _now() -> datetime:
    return extensions.clock().now()


def _rotation_or_404(code: str) -> RotationRow:
    row = rotation_by_code(request_session(), code)
    if row is None:
        abort(404)
    return row


def _timeline_rows(
    days: list[Day], names: Mapping[str, str], order: list[str], time_zone: str
) -> list[Any]:
    rows = []
    for day in days:
        cells = []
        for s in day.stretches:
            who = names.get(s.analyst, s.analyst) if s.analyst else None
            label = {"gap": "GAP", "off": ""}.get(s.kind, who or "")
            what = {"gap": "Nobody on call", "off": "Outside the rotation's hours"}.get(
                s.kind, f"{who}{' (override)' if s.kind == 'override' else ''}"
            )
            cells.append(
                {
                    "kind": s.kind,
                    "columns": s.columns,
                    "label": label,
                    "title": f"{what}: {span_text(s.start, s.end, time_zone)}",
                    # Members keep one colour each, by their place in the rotation.
                    "css": f"on m{order.index(s.analyst) % 6}"
                    if s.kind == "on" and s.analyst in order
                    else s.kind,
                }
            )
        length = day.hours
        rows.append(
            {
                "day": day.day,
                "label": day.day.strftime("%a %d %b"),
                "length": "" if length == 24 else f"{length:g} h day",
                "cells": cells,
                "has_gap": day.has_gap,
            }
        )
    return rows


def render_rotation(
    row: RotationRow,
    *,
    errors: Mapping[str, Mapping[str, str]] | None = None,
    values: Mapping[str, Mapping[str, str]] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """Render the rotation page, with a refused form's errors and typed values."""
    db = request_session()
    now = _now()
    analysts = list(db.scalars(select(Analyst).order_by(Analyst.name)))
    names = {a.code: a.name for a in analysts}
    members = sorted(row.members, key=lambda m: m.position)
    context: dict[str, Any] = {
        "row": row,
        "members": members,
        "analysts": analysts,
        "zone": zone_label(row.time_zone, now),
        "now_text": local_text(now, row.time_zone),
        "errors": errors or {},
        "values": values or {},
        "feed_url": public_url("calendar.rotation_calendar", token=row.calendar_token)
        if row.calendar_token
        else None,
        "columns": COLUMNS_PER_DAY,
        "hour_columns": COLUMNS_PER_DAY // 24,
        "problem": None,
        "timeline": [],
        "gaps": [],
        "on_call": None,
        "next_handoff": None,
    }
    overrides = upcoming_overrides(row, now)
    context["overrides"] = [
        {"row": o, "span": span_text(o.starts_at, o.ends_at, row.time_zone)} for o in overrides
    ]
    try:
        hours = hours_of(row)
        context["hours"] = hours_text(hours)
        schedule = schedule_for(row)
        who = who_is_on_call(schedule, now)
        context["on_call"] = names.get(who, who) if who else None
        context["next_handoff"] = next_handoff_text(schedule, hours, now, names)
        first_day = now.astimezone(schedule.tz).date()
        days = timeline(schedule, hours, first_day, TIMELINE_DAYS)
        context["timeline"] = _timeline_rows(
            days, names, [m.analyst.code for m in members], row.time_zone
        )
        gaps = [s for d in days for s in d.stretches if s.kind == "gap" and s.end > now]
        context["gaps"] = [span_text(max(g.start, now), g.end, row.time_zone) for g in gaps]
    except OnCallError as exc:
        context["problem"] = str(exc)
        context.setdefault("hours", "?")
    settings = {
        "name": row.name,
        "time_zone": row.time_zone,
        "shift": row.shift_length,
        "handoff": row.handoff_anchor,
        "hours": "" if row.hours is None else "; ".join(row.hours),
    }
    context["settings"] = {**settings, **(values or {}).get("settings", {})}
    context["override_defaults"] = {
        "start": input_value(now, row.time_zone),
        **(values or {}).get("override", {}),
    }
    return render_template("oncall/rotation.html", **context), status


def _apply(
    row: RotationRow, form_name: str, change: Callable[[], object], done: str
) -> ResponseReturnValue:
    """Run ``change``; commit and redirect, or roll back and show the form's errors."""
    db = request_session()
    code = row.code
    try:
        change()
    except FormError as exc:
        db.rollback()
        fresh = _rotation_or_404(code)
        return render_rotation(
            fresh,
            errors={form_name: exc.errors},
            values={form_name: request.form.to_dict()},
            status=422,
        )
    db.commit()
    flash(done, "ok")
    return redirect(url_for("oncall.rotation", code=code) + f"#{form_name}")


@bp.get("/rotations/<code>")
@login_required
def rotation(code: str) -> ResponseReturnValue:
    """Show one rotation."""
    return render_rotation(_rotation_or_404(code))


@bp.route("/rotations/new", methods=["GET", "POST"])
@login_required
def new_rotation() -> ResponseReturnValue:
    """Show the new-rotation form, or create the rotation."""
    if request.method == "GET":
        return render_template("oncall/rotation_new.html", errors={}, values={})
    db = request_session()
    try:
        row = edits.create_rotation(db, request.form, actor=current_admin(), now=_now())
    except FormError as exc:
        db.rollback()
        page = render_template(
            "oncall/rotation_new.html", errors=exc.errors, values=request.form.to_dict()
        )
        return page, 422
    db.commit()
    flash(f"Rotation {row.name} created. Add its members below.", "ok")
    return redirect(url_for("oncall.rotation", code=row.code))


@bp.post("/rotations/<code>/settings")
@login_required
def update_rotation(code: str) -> ResponseReturnValue:
    """Change the rotation's settings."""
    row = _rotation_or_404(code)
    change = partial(
        edits.update_rotation,
        request_session(),
        row,
        request.form,
        actor=current_admin(),
        now=_now(),
    )
    return _apply(row, "settings", change, "Rotation saved.")


@bp.post("/rotations/<code>/members")
@login_required
def add_member(code: str) -> ResponseReturnValue:
    """Add a member at the end."""
    row = _rotation_or_404(code)
    analyst = request.form.get("analyst", "")
    change = partial(
        edits.add_member, request_session(), row, analyst, actor=current_admin(), now=_now()
    )
    return _apply(row, "members", change, "Member added.")


@bp.post("/rotations/<code>/members/<int:member_id>/move")
@login_required
def move_member(code: str, member_id: int) -> ResponseReturnValue:
    """Move a member up or down one place."""
    row = _rotation_or_404(code)
    offset = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if offset is None:
        abort(400)
    change = partial(
        edits.move_member,
        request_session(),
        row,
        member_id,
        offset,
        actor=current_admin(),
        now=_now(),
    )
    return _apply(row, "members", change, "Order saved.")


@bp.post("/rotations/<code>/members/<int:member_id>/remove")
@login_required
def remove_member(code: str, member_id: int) -> ResponseReturnValue:
    """Take a member out of the rotation."""
    row = _rotation_or_404(code)
    change = partial(
        edits.remove_member, request_session(), row, member_id, actor=current_admin(), now=_now()
    )
    return _apply(row, "members", change, "Member removed.")


@bp.post("/rotations/<code>/overrides")
@login_required
def add_override(code: str) -> ResponseReturnValue:
    """Add an override."""
    row = _rotation_or_404(code)
    change = partial(
        edits.add_override, request_session(), row, request.form, actor=current_admin(), now=_now()
    )
    return _apply(row, "override", change, "Override added.")


@bp.post("/rotations/<code>/overrides/<int:override_id>/remove")
@login_required
def remove_override(code: str, override_id: int) -> ResponseReturnValue:
    """Delete an override."""
    row = _rotation_or_404(code)
    change = partial(
        edits.remove_override,
        request_session(),
        row,
        override_id,
        actor=current_admin(),
        now=_now(),
    )
    return _apply(row, "override", change, "Override removed.")
