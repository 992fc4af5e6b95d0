"""The analysts pages: list, add and edit analysts and their paging numbers."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from oncall import analysts as service
from oncall.edits import FormError
from oncall.models import Analyst, RotationMember
from oncall.views.blueprint import bp
from voiceline import extensions
from voiceline.admin.auth import current_admin, login_required
from voiceline.db import request_session
from voiceline.phones import display
from voiceline.urls import public_url


def _feed_url(analyst: Analyst) -> str | None:
    if not analyst.calendar_token:
        return None
    return public_url("calendar.analyst_calendar", token=analyst.calendar_token)


def _analyst_or_404(code: str) -> Analyst:
    analyst = request_session().scalars(select(Analyst).filter_by(code=code)).one_or_none()
    if analyst is None:
        abort(404)
    return analyst


def _list_page(errors: dict[str, str], values: dict[str, str], status: int) -> ResponseReturnValue:
    db = request_session()
    query = (
        select(Analyst)
        .options(selectinload(Analyst.contact_methods))
        .order_by(Analyst.name, Analyst.code)
    )
    member_rows = db.execute(select(RotationMember.analyst_id, RotationMember.rotation_id)).all()
    rotation_counts: dict[int, int] = {}
    for analyst_id, _ in member_rows:
        rotation_counts[analyst_id] = rotation_counts.get(analyst_id, 0) + 1
    rows: list[dict[str, Any]] = [
        {
            "analyst": a,
            "numbers": {k: display(v) for k, v in service.numbers_of(a).items()},
            "rotations": rotation_counts.get(a.id, 0),
            "opted_out": [m.kind for m in a.contact_methods if m.is_opted_out],
        }
        for a in db.scalars(query)
    ]
    page = render_template("oncall/analysts.html", rows=rows, errors=errors, values=values)
    return page, status


@bp.get("/analysts")
@login_required
def analysts() -> ResponseReturnValue:
    """List the analysts, with a form to add one."""
    return _list_page({}, {}, 200)


@bp.post("/analysts")
@login_required
def add_analyst() -> ResponseReturnValue:
    """Add an analyst."""
    db = request_session()
    now = extensions.clock().now()
    try:
        analyst = service.create_analyst(db, request.form, actor=current_admin(), now=now)
    except FormError as exc:
        db.rollback()
        return _list_page(exc.errors, request.form.to_dict(), 422)
    db.commit()
    flash(f"{analyst.name} added.", "ok")
    return redirect(url_for("oncall.analyst", code=analyst.code))


def _edit_page(
    analyst: Analyst, errors: dict[str, str], values: dict[str, str], status: int
) -> ResponseReturnValue:
    numbers = service.numbers_of(analyst)
    current = {
        "name": analyst.name,
        "email": analyst.email or "",
        "sms": numbers.get("sms", ""),
        "voice": numbers.get("voice", ""),
    }
    page = render_template(
        "oncall/analyst.html",
        analyst=analyst,
        feed_url=_feed_url(analyst),
        values={**current, **values},
        errors=errors,
        opted_out=[m for m in analyst.contact_methods if m.is_opted_out],
    )
    return page, status


@bp.get("/analysts/<code>")
@login_required
def analyst(code: str) -> ResponseReturnValue:
    """Show an analyst's edit form and calendar feed link."""
    return _edit_page(_analyst_or_404(code), {}, {}, 200)


@bp.post("/analysts/<code>")
@login_required
def update_analyst(code: str) -> ResponseReturnValue:
    """Save an analyst's name, email and numbers."""
    db = request_session()
    analyst = _analyst_or_404(code)
    now = extensions.clock().now()
    try:
        service.update_analyst(db, analyst, request.form, actor=current_admin(), now=now)
    except FormError as exc:
        db.rollback()
        return _edit_page(_analyst_or_404(code), exc.errors, request.form.to_dict(), 422)
    db.commit()
    flash("Analyst saved.", "ok")
    return redirect(url_for("oncall.analyst", code=code))


@bp.post("/analysts/<code>/calendar-link")
@login_required
def reset_calendar_link(code: str) -> ResponseReturnValue:
    """Replace the analyst's calendar feed link; the old one stops working."""
    db = request_session()
    analyst = _analyst_or_404(code)
    now = extensions.clock().now()
    service.reset_calendar_token(db, analyst, actor=current_admin(), now=now)
    db.commit()
    flash("New calendar link made; the old one no longer works.", "ok")
    return redirect(url_for("oncall.analyst", code=code))
