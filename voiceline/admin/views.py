"""The audit log page: who changed what, newest first."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from voiceline.admin import audit
from voiceline.admin.auth import login_required
from voiceline.admin.blueprint import bp
from voiceline.admin.models import AuditEntry
from voiceline.db import request_session

PAGE_SIZE = 100


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
        "admin/audit.html", entries=entries, page=number, pages=pages, total=total
    )
