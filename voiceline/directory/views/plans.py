"""A plan's page: hours, cover, billing, the credit rule and the SLA targets."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from voiceline.admin.auth import current_admin, login_required
from voiceline.customers.models import Plan
from voiceline.db import request_session
from voiceline.directory.dump import plan_entry
from voiceline.directory.forms import EntryRefused, Errors
from voiceline.directory.plan_edits import (
    CREDIT_METRICS,
    MAX_TARGET_ROWS,
    plan_form_values,
    save_plan,
)
from voiceline.directory.views.blueprint import bp, now


def _plan_or_404(code: str) -> Plan:
    found = request_session().scalars(select(Plan).filter_by(code=code)).one_or_none()
    if found is None:
        abort(404)
    return found


def _posted_values() -> dict[str, Any]:
    """Return the plan form as posted, in the shape plan_form_values gives."""
    form = request.form
    values: dict[str, Any] = form.to_dict()
    for key in ("after_hours_cover", "billable_emergency"):
        values[key] = key in form
    values["credit-metrics"] = form.getlist("credit-metrics")
    rows = []
    for row in range(MAX_TARGET_ROWS):
        prefix = f"targets-{row}-"
        if f"{prefix}metric" not in form:
            continue
        rows.append(
            {
                "metric": form.get(f"{prefix}metric", ""),
                "priority": form.get(f"{prefix}priority", ""),
                "within": form.get(f"{prefix}within", ""),
                "clock": form.get(f"{prefix}clock", "wall"),
                "pausable": f"{prefix}pausable" in form,
                "remove": f"{prefix}remove" in form,
            }
        )
    # Rows keep their numbers (the messages are tied to them): drop only a blank last row.
    while rows and not any((rows[-1]["metric"], rows[-1]["priority"], rows[-1]["within"])):
        rows.pop()
    values["targets"] = rows
    return values


def _page(
    plan: Plan | None,
    *,
    errors: Errors | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    shown = values if values is not None else plan_form_values(plan_entry(plan) if plan else {})
    page = render_template(
        "directory/plan.html",
        plan=plan,
        values=shown,
        errors=errors or Errors(),
        metrics=CREDIT_METRICS,
    )
    return page, status


def _save(plan: Plan | None) -> ResponseReturnValue:
    db = request_session()
    try:
        saved = save_plan(db, plan, request.form, actor=current_admin(), now=now())
    except EntryRefused as exc:
        db.rollback()
        found = _plan_or_404(plan.code) if plan is not None else None
        return _page(found, errors=exc.errors, values=_posted_values(), status=422)
    db.commit()
    flash(f"Plan {saved.name} {'added' if plan is None else 'saved'}.", "ok")
    return redirect(url_for("directory.plan", code=saved.code))


@bp.get("/plans/new")
@login_required
def new_plan() -> ResponseReturnValue:
    """Show the form for a new plan."""
    return _page(None)


@bp.post("/plans")
@login_required
def create_plan() -> ResponseReturnValue:
    """Add a plan."""
    return _save(None)


@bp.get("/plans/<code>")
@login_required
def plan(code: str) -> ResponseReturnValue:
    """Show a plan's form."""
    return _page(_plan_or_404(code))


@bp.post("/plans/<code>")
@login_required
def update_plan(code: str) -> ResponseReturnValue:
    """Save a plan."""
    return _save(_plan_or_404(code))
