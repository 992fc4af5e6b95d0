"""The admin shell's own pages: the audit log, and the alarms that need a person."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from voiceline import extensions
from voiceline.admin import audit
from voiceline.admin.auth import current_admin, login_required
from voiceline.admin.blueprint import bp
from voiceline.admin.models import AdminNotice, AuditEntry
from voiceline.db import request_session

PAGE_SIZE = 100
RESOLVED_SHOWN = 50


@bp.get("/audit")
@login_required
def audit_log() -> ResponseReturnValue:
    """Show the audit log, newest first, a page at a time."""
    page = request.args.get("page", "1")
    number = int(page) if page.isdigit() and int(page) > 0 else 1
    db = request_session()
    total = db.scalar(select(func.count(AuditEntry.id))) or 0
    entries = audit.recent(db, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template(
        "admin/audit.html",
        entries=entries,
        page=number,
        pages=pages,
        total=total,
        now=extensions.clock().now(),
    )


@bp.get("/alarms")
@login_required
def alarms() -> ResponseReturnValue:
    """List the open alarms, newest first, then the ones dealt with lately."""
    db = request_session()
    open_alarms = list(
        db.scalars(
            select(AdminNotice)
            .where(AdminNotice.resolved_at.is_(None))
            .order_by(AdminNotice.at.desc(), AdminNotice.id.desc())
        )
    )
    resolved = list(
        db.scalars(
            select(AdminNotice)
            .where(AdminNotice.resolved_at.is_not(None))
            .order_by(AdminNotice.resolved_at.desc(), AdminNotice.id.desc())
            .limit(RESOLVED_SHOWN)
        )
    )
    return render_template(
        "admin/alarms.html",
        open_alarms=open_alarms,
        resolved=resolved,
        now=extensions.clock().now(),
    )


@bp.post("/alarms/<int:notice_id>/resolve")
@login_required
def resolve_alarm(notice_id: int) -> ResponseReturnValue:
    """Mark an alarm as dealt with (once); the audit log says who did."""
    db = request_session()
    notice = db.get(AdminNotice, notice_id)
    back = redirect(url_for("admin.alarms"))
    if notice is None:
        flash(f"There is no alarm {notice_id}.", "error")
        return back
    if notice.resolved_at is not None:
        flash("That alarm was already dealt with.", "ok")
        return back
    now = extensions.clock().now()
    notice.resolved_at = now
    audit.record(
        db,
        current_admin(),
        "alarm_resolved",
        f"alarm {notice_id}",
        at=now,
        kind=notice.kind,
        message=notice.message,
    )
    db.commit()
    flash("Alarm marked as dealt with.", "ok")
    return back


@bp.app_context_processor
def _alarm_context() -> dict[str, object]:
    """Let the admin pages show how many alarms are open (asked only when rendered)."""

    def open_alarm_count() -> int:
        count = request_session().scalar(
            select(func.count(AdminNotice.id)).where(AdminNotice.resolved_at.is_(None))
        )
        return int(count or 0)

    return {"open_alarm_count": open_alarm_count}
