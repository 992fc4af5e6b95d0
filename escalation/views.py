"""The incidents pages under /admin: the list, one incident's timeline, and acting by hand.

An incident's page shows everything that happened, in order: the message, every page
and what became of it (delivered, a voicemail box, busy, failed), acknowledgements,
escalations, the callback. An admin can acknowledge on an analyst's behalf, escalate
now, log a callback reported by phone, or resolve; each is a CSRF-protected POST fed to
the escalation like any other event, and written to the audit log. The list page also
shows the notices the escalation left for the admins, and sends a test page to any
analyst, so a new phone number can be checked before the night it matters.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from escalation import dispatch
from escalation.events import Acknowledged, CallbackLogged, Declined, Event, Resolved
from escalation.models import Page
from escalation.state import EscalationState, state_from_dict
from escalation.wiring import paging_for
from oncall.models import Analyst
from voiceline import extensions
from voiceline.admin import audit
from voiceline.admin.auth import current_admin, login_required
from voiceline.admin.models import AdminNotice
from voiceline.db import request_session
from voiceline.incidents.models import Incident, IncidentEvent
from voiceline.line.incidents import OPEN_STATUSES
from voiceline.phones import display
from voiceline.telephony import OutboundCall, TelephonyError
from voiceline.urls import public_url

bp = Blueprint("incidents", __name__, url_prefix="/admin", template_folder="templates")

ACTIONS = ("acknowledge", "escalate", "callback", "resolve")
RECENT = 50


def _zone(incident: Incident) -> ZoneInfo:
    return ZoneInfo(incident.customer.time_zone if incident.customer else "UTC")


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return f"{local:%a %d %b %H:%M:%S} {local.tzname()}"


def _state(incident: Incident) -> EscalationState | None:
    return state_from_dict(incident.escalation_state) if incident.escalation_state else None


@bp.get("/incidents")
@login_required
def incidents() -> ResponseReturnValue:
    """List open and recent incidents, the admins' notices and the test-page buttons."""
    db = request_session()
    rows = list(
        db.scalars(
            select(Incident)
            .options(selectinload(Incident.customer), selectinload(Incident.contact))
            .order_by(Incident.opened_at.desc(), Incident.id.desc())
            .limit(RECENT)
        )
    )
    listed = [
        {
            "incident": row,
            "opened": _local(row.opened_at, _zone(row)),
            "deadline": _local(row.deadline_at, _zone(row)),
            "state": _state(row),
            "is_open": row.status in OPEN_STATUSES,
        }
        for row in rows
    ]
    notices = list(
        db.scalars(
            select(AdminNotice).where(AdminNotice.resolved_at.is_(None)).order_by(AdminNotice.at)
        )
    )
    analysts = list(
        db.scalars(
            select(Analyst).options(selectinload(Analyst.contact_methods)).order_by(Analyst.name)
        )
    )
    return render_template("incidents/list.html", rows=listed, notices=notices, analysts=analysts)


@bp.get("/incidents/<int:incident_id>")
@login_required
def incident(incident_id: int) -> ResponseReturnValue:
    """Show one incident: where the escalation stands, its pages and its timeline."""
    db = request_session()
    row = db.get(Incident, incident_id)
    if row is None:
        abort(404)
    zone = _zone(row)
    analysts = {a.id: a for a in db.scalars(select(Analyst).order_by(Analyst.name))}
    pages = list(db.scalars(select(Page).filter_by(incident_id=incident_id).order_by(Page.id)))
    events = list(
        db.scalars(
            select(IncidentEvent).filter_by(incident_id=incident_id).order_by(IncidentEvent.id)
        )
    )
    state = _state(row)
    paged = sorted({p.analyst for p in state.pages}) if state else []
    return render_template(
        "incidents/incident.html",
        incident=row,
        state=state,
        caller=display(row.caller_number) if row.caller_number else "withheld",
        local=lambda moment: _local(moment, zone),
        pages=[{"page": p, "analyst": analysts.get(p.analyst_id or 0)} for p in pages],
        events=[{"event": e, "detail": _detail(e.detail)} for e in events],
        analysts=list(analysts.values()),
        paged=paged,
        default_analyst=state.pages[-1].analyst if state and state.pages else None,
        acknowledged_by=analysts.get(row.acknowledged_by_id or 0),
        notices=list(
            db.scalars(
                select(AdminNotice).filter_by(incident_id=incident_id).order_by(AdminNotice.at)
            )
        ),
    )


def _detail(detail: dict[str, Any]) -> str:
    """Return an event's detail as one readable line."""
    if set(detail) <= {"detail", "event"} and "detail" in detail:
        return str(detail["detail"])
    return "; ".join(f"{k}: {v}" for k, v in detail.items() if v not in (None, "", []))


@bp.post("/incidents/<int:incident_id>/<action>")
@login_required
def act(incident_id: int, action: str) -> ResponseReturnValue:
    """Acknowledge, escalate, log a callback or resolve an incident by hand."""
    if action not in ACTIONS:
        abort(404)
    db = request_session()
    row = db.get(Incident, incident_id)
    if row is None:
        abort(404)
    state = _state(row)
    back = redirect(url_for("incidents.incident", incident_id=incident_id))
    if state is None:
        flash(f"Incident {incident_id} is not being paged.", "error")
        return back
    admin = current_admin()
    analyst = (request.form.get("analyst") or "").strip()
    known = set(db.scalars(select(Analyst.code)))
    event: Event
    if action in ("acknowledge", "callback"):
        if analyst not in known:
            flash("Choose the analyst who has it.", "error")
            return back
        event = (
            Acknowledged(analyst, "web")
            if action == "acknowledge"
            else CallbackLogged(analyst, "web", is_reported=True)
        )
    elif action == "escalate":
        # Escalating an acknowledged incident takes it back from the acknowledger.
        event = Declined(state.acknowledged_by or f"admin {admin}", "web")
    else:
        event = Resolved(by=f"admin {admin}")
    audit.record(
        db,
        admin,
        f"incident_{action}",
        f"incident {incident_id}",
        at=extensions.clock().now(),
        analyst=analyst or None,
    )
    db.commit()
    paging = paging_for(current_app._get_current_object())  # type: ignore[attr-defined]
    dispatch.handle(paging, incident_id, event, send_now=False)
    done = {
        "acknowledge": f"acknowledged for {analyst}",
        "escalate": "escalating now",
        "callback": f"callback by {analyst} logged",
        "resolve": "resolved",
    }[action]
    flash(f"Incident {incident_id}: {done}.", "ok")
    return back


@bp.post("/notices/<int:notice_id>/resolve")
@login_required
def resolve_notice(notice_id: int) -> ResponseReturnValue:
    """Mark an admin notice as dealt with."""
    db = request_session()
    notice = db.get(AdminNotice, notice_id)
    if notice is None:
        abort(404)
    now = extensions.clock().now()
    notice.resolved_at = now
    audit.record(
        db,
        current_admin(),
        "notice_resolved",
        f"notice {notice_id}",
        at=now,
        message=notice.message,
    )
    db.commit()
    return redirect(url_for("incidents.incidents"))


@bp.post("/analysts/<code>/test-page")
@login_required
def test_page(code: str) -> ResponseReturnValue:
    """Send the analyst a test SMS or test call, to check their number works."""
    db = request_session()
    analyst = db.scalars(
        select(Analyst).filter_by(code=code).options(selectinload(Analyst.contact_methods))
    ).one_or_none()
    if analyst is None:
        abort(404)
    channel = request.form.get("channel", "sms")
    if channel not in ("sms", "voice"):
        abort(400)
    method = next((m for m in analyst.contact_methods if m.kind == channel), None)
    back = redirect(url_for("incidents.incidents"))
    if method is None:
        flash(f"{analyst.name} has no {channel} number.", "error")
        return back
    if channel == "sms" and method.is_opted_out:
        flash(f"{analyst.name} texted STOP: SMS cannot reach them until they text START.", "error")
        return back
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    telephony = extensions.telephony(app)
    try:
        if channel == "sms":
            sent = telephony.send_sms(
                method.address,
                f"Voiceline test page for {analyst.name}: SMS pages reach this phone. "
                "No reply needed.",
            )
        else:
            sent = telephony.place_call(
                OutboundCall(
                    to=method.address,
                    url=public_url("twilio.test_page_call", app),
                    status_callback=public_url("twilio.test_page_status", app),
                    machine_detection=False,
                )
            )
    except TelephonyError as exc:
        audit.record(
            db,
            current_admin(),
            "test_page_failed",
            f"analyst {code}",
            at=extensions.clock(app).now(),
            channel=channel,
            error=str(exc),
        )
        db.commit()
        flash(f"Test {channel} page to {display(method.address)} failed: {exc}", "error")
        return back
    audit.record(
        db,
        current_admin(),
        "test_page",
        f"analyst {code}",
        at=extensions.clock(app).now(),
        channel=channel,
        to=method.address,
        sid=sent.sid,
    )
    db.commit()
    flash(f"Test {channel} page sent to {analyst.name} at {display(method.address)}.", "ok")
    return back
