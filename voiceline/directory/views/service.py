"""The service settings page: the line's numbers, name, hours, holidays and defaults."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from voiceline.admin.auth import current_admin, login_required
from voiceline.db import request_session
from voiceline.directory.dump import service_entry
from voiceline.directory.forms import EntryRefused, Errors
from voiceline.directory.service_edits import FLAGS, save_service, service_form_values
from voiceline.directory.views.blueprint import bp, now, policy_choices


def _page(
    errors: Errors | None = None, values: dict[str, Any] | None = None, status: int = 200
) -> ResponseReturnValue:
    db = request_session()
    page = render_template(
        "directory/service.html",
        values=values if values is not None else service_form_values(service_entry(db)),
        errors=errors or Errors(),
        policies=policy_choices(db),
    )
    return page, status


@bp.get("/service")
@login_required
def service() -> ResponseReturnValue:
    """Show the service settings form."""
    return _page()


@bp.post("/service")
@login_required
def update_service() -> ResponseReturnValue:
    """Save the service settings."""
    db = request_session()
    try:
        changed = save_service(db, request.form, actor=current_admin(), now=now())
    except EntryRefused as exc:
        db.rollback()
        values: dict[str, Any] = request.form.to_dict()
        values.update({key: key in request.form for key in FLAGS})
        return _page(exc.errors, values, 422)
    db.commit()
    flash("Service settings saved." if changed else "Nothing was changed.", "ok")
    return redirect(url_for("directory.service"))
