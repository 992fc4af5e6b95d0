"""Health check for load balancers, the PaaS router and monitors.

``GET /healthz`` answers:

- 200 ``{"status": "ok", "database": "ok"}`` when the database answers and paging can
  reach people;
- 200 ``{"status": "degraded", "database": "ok", "reasons": [...]}`` while an alarm is
  unresolved, pages have no caller ID, or there is no Twilio account (pages only go to
  the log): still 200, so load balancers keep sending calls (the line works), while a
  monitor matching ``"degraded"`` wakes someone;
- 503 ``{"status": "degraded", "database": "unreachable"}`` when the database does not
  answer.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from voiceline import extensions
from voiceline.alarms import health_reasons

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Report whether the database answers and whether anyone can be paged."""
    services = extensions.services(current_app)
    if not services.database.ping():
        return jsonify(status="degraded", database="unreachable"), 503
    try:
        with services.database.session() as session:
            reasons = health_reasons(session, services)
    except SQLAlchemyError as exc:
        reason = f"database: cannot read the alarms ({type(exc).__name__}); is it migrated?"
        return jsonify(status="degraded", database="error", reasons=[reason]), 503
    if reasons:
        return jsonify(status="degraded", database="ok", reasons=reasons)
    return jsonify(status="ok", database="ok")
