"""The parked spool entries under /admin/spool: what a caller said that is not stored yet.

Each entry shows its call, caller and the reason it could not be replayed; *Retry* puts
it back in the queue and replays the spool at once (after a fix, or once a passing fault
has gone), *Set aside* moves it out of the queue for good, kept on disk in
``set-aside/``. Either resolves the entry's admin notice; both are audited.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from voiceline import extensions
from voiceline.admin import audit
from voiceline.admin.auth import current_admin, login_required
from voiceline.db import request_session
from voiceline.incidents.handover import hand_over
from voiceline.line.parked import parked_entries, sync_parked_notices
from voiceline.line.recovery import is_database_away, replay_spool
from voiceline.line.spool import Spool, UnknownEntry

bp = Blueprint("spool", __name__, url_prefix="/admin/spool", template_folder="templates")


def _spool() -> Spool:
    services = extensions.services()
    return Spool(services.settings.spool_dir, services.clock)


@bp.get("/")
@login_required
def parked() -> ResponseReturnValue:
    """List the parked entries, oldest first."""
    return render_template("spool/parked.html", entries=parked_entries(_spool()))


@bp.post("/<name>/retry")
@login_required
def retry(name: str) -> ResponseReturnValue:
    """Put a parked entry back in the queue and replay the spool now."""
    spool = _spool()
    try:
        spool.unpark(name)
    except UnknownEntry:
        flash("That entry is no longer parked.", "error")
        return redirect(url_for("spool.parked"))
    _audit("spool_entry_retried", name)
    try:
        to_page = replay_spool(extensions.database(), spool, extensions.clock())
    except Exception as exc:
        if not is_database_away(exc):
            raise
        flash(f"The database did not answer; {name} waits in the queue for it.", "error")
        return redirect(url_for("spool.parked"))
    hand_over(current_app._get_current_object(), to_page)  # type: ignore[attr-defined]
    still = next((entry for entry in parked_entries(spool) if entry.name == name), None)
    if still is not None:
        flash(f"{name} still cannot be stored: {still.reason}", "error")
    else:
        flash(f"{name} is stored.", "ok")
    return redirect(url_for("spool.parked"))


@bp.post("/<name>/set-aside")
@login_required
def set_aside(name: str) -> ResponseReturnValue:
    """Move a parked entry out of the queue for good, and resolve its notice."""
    spool = _spool()
    try:
        kept = spool.set_aside(name)
    except UnknownEntry:
        flash("That entry is no longer parked.", "error")
        return redirect(url_for("spool.parked"))
    db = request_session()
    sync_parked_notices(db, spool, extensions.clock().now())
    _audit("spool_entry_set_aside", name, kept=str(kept))
    flash(f"{name} is set aside; the file is kept in {kept.parent}.", "ok")
    return redirect(url_for("spool.parked"))


def _audit(action: str, name: str, **detail: str) -> None:
    db = request_session()
    audit.record(
        db, current_admin(), action, f"spool entry {name}", at=extensions.clock().now(), **detail
    )
    db.commit()
