"""On-call calendar feeds: ``/calendar/analyst/<token>.ics`` and ``/calendar/rotation/<token>.ics``.

The token is the only secret (calendar apps cannot log in), 32 random URL-safe
characters set when the analyst or rotation is created; an admin can reset an
analyst's. A wrong token is a plain 404 that says nothing about which tokens exist.
Feeds cover four weeks back and twelve weeks ahead, and analysts are named by name.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from flask import Blueprint, Response, abort
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from oncall.ical import analyst_feed, rotation_feed
from oncall.models import Analyst, RotationMember
from oncall.models import Override as OverrideRow
from oncall.rotation import OnCallError
from oncall.schedule import Schedule
from oncall.store import (
    Label,
    analyst_by_token,
    load_rotations,
    rotation_by_token,
    schedule_for,
    unique_name_label,
)
from voiceline import extensions
from voiceline.db import request_session

bp = Blueprint("calendar", __name__, url_prefix="/calendar")

PAST = timedelta(weeks=4)
AHEAD = timedelta(weeks=12)
MAX_TOKEN = 64


def _ics(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _checked(token: str, stored: str | None) -> bool:
    """Return True when the row found by ``token`` really carries it (compared in constant time)."""
    return stored is not None and hmac.compare_digest(stored.encode(), token.encode())


@bp.get("/rotation/<token>.ics")
def rotation_calendar(token: str) -> ResponseReturnValue:
    """Serve everyone's shifts in one rotation."""
    if len(token) > MAX_TOKEN:
        abort(404)
    row = rotation_by_token(request_session(), token)
    if row is None or not _checked(token, row.calendar_token):
        abort(404)
    now = extensions.clock().now()
    try:
        body = rotation_feed(
            schedule_for(row, label=unique_name_label(request_session())),
            now - PAST,
            now + AHEAD,
            now=now,
        )
    except OnCallError:
        abort(404)
    return _ics(body, f"{row.code}.ics")


def _schedules_with(analyst: Analyst, label: Label) -> list[Schedule]:
    """Return the schedules of every rotation the analyst is in or covers by override."""
    db = request_session()
    member_of = select(RotationMember.rotation_id).where(RotationMember.analyst_id == analyst.id)
    covers = select(OverrideRow.rotation_id).where(OverrideRow.analyst_id == analyst.id)
    wanted = set(db.scalars(member_of)) | set(db.scalars(covers))
    schedules = []
    for row in load_rotations(db):
        if row.id in wanted:
            try:
                schedules.append(schedule_for(row, label=label))
            except OnCallError:
                continue  # a broken rotation shows as a warning on the admin page
    return schedules


@bp.get("/analyst/<token>.ics")
def analyst_calendar(token: str) -> ResponseReturnValue:
    """Serve one analyst's own shifts across every rotation."""
    if len(token) > MAX_TOKEN:
        abort(404)
    db = request_session()
    analyst = analyst_by_token(db, token)
    if analyst is None or not _checked(token, analyst.calendar_token):
        abort(404)
    now = extensions.clock().now()
    label = unique_name_label(db)
    body = analyst_feed(
        label(analyst),
        _schedules_with(analyst, label),
        now - PAST,
        now + AHEAD,
        now=now,
        calname=f"On call: {analyst.name}",
    )
    return _ics(body, f"{analyst.code}.ics")
