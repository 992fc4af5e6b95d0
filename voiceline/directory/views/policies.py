"""An escalation policy's page: its steps (targets, channels, delay) and repeats."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from escalation.models import EscalationPolicy
from escalation.policy import CHANNELS, MAX_REPEAT
from voiceline.admin.auth import current_admin, login_required
from voiceline.db import request_session
from voiceline.directory.dump import policy_entry
from voiceline.directory.forms import EntryRefused, Errors
from voiceline.directory.policy_edits import MAX_STEP_ROWS, policy_form_values, save_policy
from voiceline.directory.views.blueprint import bp, now, target_choices


def _policy_or_404(code: str) -> EscalationPolicy:
    query = select(EscalationPolicy).filter_by(code=code)
    found = request_session().scalars(query).one_or_none()
    if found is None:
        abort(404)
    return found


def _posted_values() -> dict[str, Any]:
    """Return the policy form as posted, in the shape policy_form_values gives."""
    form = request.form
    values: dict[str, Any] = form.to_dict()
    steps: list[dict[str, Any]] = []
    for row in range(MAX_STEP_ROWS):
        prefix = f"steps-{row}-"
        if f"{prefix}delay" not in form:
            continue
        steps.append(
            {
                "delay": form.get(f"{prefix}delay", ""),
                "channels": form.getlist(f"{prefix}channels"),
                "targets": [t for t in form.getlist(f"{prefix}target") if t],
                "remove": f"{prefix}remove" in form,
            }
        )
    # Rows keep their numbers (the messages are tied to them): drop only a blank last row.
    while steps and not (str(steps[-1]["delay"]).strip() or steps[-1]["targets"]):
        steps.pop()
    values["steps"] = steps
    return values


def _page(
    policy: EscalationPolicy | None,
    *,
    errors: Errors | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    if values is None:
        values = policy_form_values(policy_entry(policy) if policy else {"repeat": 0})
    page = render_template(
        "directory/policy.html",
        policy=policy,
        values=values,
        errors=errors or Errors(),
        channels=CHANNELS,
        targets=target_choices(request_session()),
        max_repeat=MAX_REPEAT,
    )
    return page, status


def _save(policy: EscalationPolicy | None) -> ResponseReturnValue:
    db = request_session()
    try:
        saved = save_policy(db, policy, request.form, actor=current_admin(), now=now())
    except EntryRefused as exc:
        db.rollback()
        found = _policy_or_404(policy.code) if policy is not None else None
        return _page(found, errors=exc.errors, values=_posted_values(), status=422)
    db.commit()
    flash(f"Policy {saved.name} {'added' if policy is None else 'saved'}.", "ok")
    return redirect(url_for("directory.policy", code=saved.code))


@bp.get("/policies/new")
@login_required
def new_policy() -> ResponseReturnValue:
    """Show the form for a new escalation policy."""
    return _page(None)


@bp.post("/policies")
@login_required
def create_policy() -> ResponseReturnValue:
    """Add an escalation policy."""
    return _save(None)


@bp.get("/policies/<code>")
@login_required
def policy(code: str) -> ResponseReturnValue:
    """Show an escalation policy's form."""
    return _page(_policy_or_404(code))


@bp.post("/policies/<code>")
@login_required
def update_policy(code: str) -> ResponseReturnValue:
    """Save an escalation policy."""
    return _save(_policy_or_404(code))
