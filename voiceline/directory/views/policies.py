"""An escalation policy's page: its steps (targets, channels, delay) and repeats."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue

from escalation.models import EscalationPolicy
from escalation.policy import CHANNELS, MAX_REPEAT
from voiceline.admin.auth import current_admin, login_required
from voiceline.db import request_session
from voiceline.directory.dump import policy_entry
from voiceline.directory.forms import Errors
from voiceline.directory.policy_edits import MAX_STEP_ROWS, policy_form_values, save_policy
from voiceline.directory.views.blueprint import (
    bp,
    by_code_or_404,
    now,
    posted_row_prefixes,
    save_named_entry,
    target_choices,
    trim_blank_tail,
)


def _posted_values() -> dict[str, Any]:
    """Return the policy form as posted, in the shape policy_form_values gives."""
    form = request.form
    values: dict[str, Any] = form.to_dict()
    steps: list[dict[str, Any]] = []
    for prefix in posted_row_prefixes(form, "steps", MAX_STEP_ROWS, "delay"):
        steps.append(
            {
                "delay": form.get(f"{prefix}delay", ""),
                "channels": form.getlist(f"{prefix}channels"),
                "targets": [t for t in form.getlist(f"{prefix}target") if t],
                "remove": f"{prefix}remove" in form,
            }
        )
    trim_blank_tail(steps, lambda step: bool(str(step["delay"]).strip() or step["targets"]))
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
    return save_named_entry(
        "Policy",
        policy,
        lambda db: save_policy(db, policy, request.form, actor=current_admin(), now=now()),
        lambda found, errors: _page(found, errors=errors, values=_posted_values(), status=422),
        "directory.policy",
    )


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
    return _page(by_code_or_404(EscalationPolicy, code))


@bp.post("/policies/<code>")
@login_required
def update_policy(code: str) -> ResponseReturnValue:
    """Save an escalation policy."""
    return _save(by_code_or_404(EscalationPolicy, code))
