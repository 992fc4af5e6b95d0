"""The admin logins page: who may log in here; add one, remove one."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from voiceline.admin.accounts import MIN_PASSWORD_LENGTH
from voiceline.admin.auth import current_admin, login_required
from voiceline.db import request_session
from voiceline.directory.admin_users import add_admin, remove_admin
from voiceline.directory.admin_users import admins as all_admins
from voiceline.directory.forms import EntryRefused, Errors
from voiceline.directory.views.blueprint import bp, now


def _page(
    errors: Errors | None = None, username: str = "", status: int = 200
) -> ResponseReturnValue:
    page = render_template(
        "directory/admins.html",
        admins=all_admins(request_session()),
        me=current_admin(),
        errors=errors or Errors(),
        username=username,
        min_length=MIN_PASSWORD_LENGTH,
    )
    return page, status


@bp.get("/admins")
@login_required
def admins() -> ResponseReturnValue:
    """List the admin logins, with a form to add one."""
    return _page()


@bp.post("/admins")
@login_required
def add_admin_login() -> ResponseReturnValue:
    """Add an admin login."""
    db = request_session()
    username = request.form.get("username", "")[:100]
    try:
        user = add_admin(
            db,
            username,
            request.form.get("password", ""),
            request.form.get("confirm", ""),
            actor=current_admin(),
            now=now(),
        )
    except EntryRefused as exc:
        db.rollback()
        return _page(exc.errors, username, 422)
    db.commit()
    flash(f"{user.username} may now log in.", "ok")
    return redirect(url_for("directory.admins"))


@bp.post("/admins/<int:user_id>/remove")
@login_required
def remove_admin_login(user_id: int) -> ResponseReturnValue:
    """Remove an admin login (not your own, not the last)."""
    db = request_session()
    try:
        name = remove_admin(db, user_id, actor=current_admin(), now=now())
    except EntryRefused as exc:
        db.rollback()
        return _page(exc.errors, status=422)
    db.commit()
    flash(f"{name} can no longer log in.", "ok")
    return redirect(url_for("directory.admins"))
