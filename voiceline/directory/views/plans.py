"""A plan's page: hours, cover, billing, the credit rule and the SLA targets."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue

from voiceline.admin.auth import current_admin, login_required
from voiceline.customers.models import Plan
from voiceline.directory.dump import plan_entry
from voiceline.directory.forms import Errors
from voiceline.directory.plan_edits import (
    CREDIT_METRICS,
    MAX_TARGET_ROWS,
    plan_form_values,
    save_plan,
)
from voiceline.directory.views.blueprint import (
    bp,
    by_code_or_404,
    now,
    posted_row_prefixes,
    save_named_entry,
    trim_blank_tail,
)


def _posted_values() -> dict[str, Any]:
    """Return the plan form as posted, in the shape plan_form_values gives."""
    form = request.form
    values: dict[str, Any] = form.to_dict()
    for key in ("after_hours_cover", "billable_emergency"):
        values[key] = key in form
    values["credit-metrics"] = form.getlist("credit-metrics")
    rows = []
    for prefix in posted_row_prefixes(form, "targets", MAX_TARGET_ROWS, "metric"):
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
    trim_blank_tail(rows, lambda row: any((row["metric"], row["priority"], row["within"])))
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
    return save_named_entry(
        "Plan",
        plan,
        lambda db: save_plan(db, plan, request.form, actor=current_admin(), now=now()),
        lambda found, errors: _page(found, errors=errors, values=_posted_values(), status=422),
        "directory.plan",
    )


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
    return _page(by_code_or_404(Plan, code))


@bp.post("/plans/<code>")
@login_required
def update_plan(code: str) -> ResponseReturnValue:
    """Save a plan."""
    return _save(by_code_or_404(Plan, code))
