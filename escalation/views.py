"""The incidents pages under /admin: the list, one incident's page, and acting by hand.

The list filters by status, customer and day, searches by caller or number, and pages
through any number of incidents along an index (``escalation.incident_list``). An
incident's page plays the caller's message and shows its transcript, the caller, plan
and promise in one card, and the story in sentences (``escalation.incident_view``). An
admin can add a note, acknowledge on an analyst's behalf, escalate now, log a callback
reported by phone, or resolve; each is a CSRF-protected POST fed to the escalation like
any other event, and written to the audit log. The list page also shows the notices the
escalation left for the admins, and sends a test page to any analyst, so a new phone
number can be checked before the night it matters.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from escalation import engine, incident_view
from escalation.actions import LogEvent
from escalation.dispatch import deliver
from escalation.events import Acknowledged, CallbackLogged, Declined, Event, Resolved
from escalation.incident_list import STATUSES, Filters, list_page
from escalation.roster import resolve_policy
from escalation.runner import feed, lock_incident
from escalation.state import EscalationState, state_from_dict
from escalation.wiring import paging_for
from oncall.models import Analyst
from voiceline import extensions
from voiceline.admin import audit
from voiceline.admin.auth import current_admin, login_required
from voiceline.admin.models import AdminNotice
from voiceline.customers.models import Customer
from voiceline.db import request_session
from voiceline.incidents.log import log_event
from voiceline.incidents.models import Incident
from voiceline.phones import display
from voiceline.telephony import OutboundCall, TelephonyError
from voiceline.urls import public_url

bp = Blueprint("incidents", __name__, url_prefix="/admin", template_folder="templates")

ACTIONS = ("acknowledge", "escalate", "callback", "resolve")
MAX_NOTE = 2000


def _state(incident: Incident) -> EscalationState | None:
    return state_from_dict(incident.escalation_state) if incident.escalation_state else None


def _incident_or_404(incident_id: int) -> Incident:
    row = request_session().get(Incident, incident_id)
    if row is None:
        abort(404)
    return row


@bp.get("/incidents")
@login_required
def incidents() -> ResponseReturnValue:
    """List incidents a page at a time, filtered; the admins' notices; test pages."""
    db = request_session()
    filters, errors = Filters.parse(request.args)
    for error in errors:
        flash(error, "error")
    listing = list_page(db, filters, extensions.clock().now())
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
    return render_template(
        "incidents/list.html",
        listing=listing,
        filters=filters,
        statuses=STATUSES,
        customers=list(db.scalars(select(Customer).order_by(Customer.name))),
        notices=notices,
        analysts=analysts,
    )


@bp.get("/incidents/<int:incident_id>")
@login_required
def incident(incident_id: int) -> ResponseReturnValue:
    """Show one incident: message, caller and promise, actions, notes, pages, timeline."""
    row = _incident_or_404(incident_id)
    show_all = request.args.get("all") == "1"
    page = incident_view.build(
        request_session(),
        current_app._get_current_object(),  # type: ignore[attr-defined]
        row,
        extensions.clock().now(),
        show_all=show_all,
    )
    return render_template(
        "incidents/incident.html", view=page, incident=row, show_all=show_all, max_note=MAX_NOTE
    )


@bp.post("/incidents/<int:incident_id>/note")
@login_required
def add_note(incident_id: int) -> ResponseReturnValue:
    """Add an admin's note to the incident's log (and the audit log)."""
    row = _incident_or_404(incident_id)
    text = (request.form.get("text") or "").strip()
    back = redirect(url_for("incidents.incident", incident_id=incident_id, _anchor="notes"))
    if not text:
        flash("Write the note before adding it.", "error")
        return back
    if len(text) > MAX_NOTE:
        flash(f"A note is at most {MAX_NOTE} characters; this one has {len(text)}.", "error")
        return back
    db = request_session()
    admin = current_admin()
    now = extensions.clock().now()
    log_event(db, row, "note", now, actor=f"admin {admin}", text=text)
    audit.record(db, admin, "incident_note", f"incident {incident_id}", at=now, text=text)
    db.commit()
    flash("Note added.", "ok")
    return back


@bp.post("/incidents/<int:incident_id>/<action>")
@login_required
def act(incident_id: int, action: str) -> ResponseReturnValue:
    """Acknowledge, escalate, log a callback or resolve an incident by hand.

    Validated in full before anything is written: the escalation's answer to the event is
    worked out under the incident's lock, and an event it would refuse (the escalation has
    ended, someone else has it) is an error that changes nothing. An accepted one is fed to
    the escalation and written to the audit log in one transaction; pages go after it.
    """
    if action not in ACTIONS:
        abort(404)
    db = request_session()
    _incident_or_404(incident_id)
    back = redirect(url_for("incidents.incident", incident_id=incident_id))
    admin = current_admin()
    analyst = (request.form.get("analyst") or "").strip()
    if action in ("acknowledge", "callback") and analyst not in set(
        db.scalars(select(Analyst.code))
    ):
        flash("Choose the analyst who has it.", "error")
        return back
    now = extensions.clock().now()
    row = lock_incident(db, incident_id)
    state = _state(row) if row is not None else None
    if row is None or state is None:
        db.rollback()
        flash(f"Incident {incident_id} is not being paged.", "error")
        return back
    event = _event_for(action, analyst, state, admin)
    refusal = _refusal(db, row, state, event, now)
    if refusal is not None:
        db.rollback()
        flash(f"Incident {incident_id}: not done: {refusal}.", "error")
        return back
    outcome = feed(db, row, event, now)
    audit.record(
        db,
        admin,
        f"incident_{action}",
        f"incident {incident_id}",
        at=now,
        analyst=analyst or None,
    )
    db.commit()
    paging = paging_for(current_app._get_current_object())  # type: ignore[attr-defined]
    paging.later(deliver, paging, outcome)
    done = {
        "acknowledge": f"acknowledged for {analyst}",
        "escalate": "escalating now",
        "callback": f"callback by {analyst} logged",
        "resolve": "resolved",
    }[action]
    flash(f"Incident {incident_id}: {done}.", "ok")
    return back


def _event_for(action: str, analyst: str, state: EscalationState, admin: str) -> Event:
    """Return the escalation event an admin's action means."""
    if action == "acknowledge":
        return Acknowledged(analyst, "web")
    if action == "callback":
        return CallbackLogged(analyst, "web", is_reported=True)
    if action == "escalate":
        # Escalating an acknowledged incident takes it back from the acknowledger.
        return Declined(state.acknowledged_by or f"admin {admin}", "web")
    return Resolved(by=f"admin {admin}")


def _refusal(
    db: Session, row: Incident, state: EscalationState, event: Event, now: datetime
) -> str | None:
    """Return why the escalation would refuse ``event`` now, or None if it takes it.

    Asks the engine itself (a pure function) what the event would do, so the view and the
    escalation cannot disagree: a refusal leaves the state as it was and says why.
    """
    if state.is_final:
        return f"its escalation has ended ({state.status})"
    if row.callback_at is not None:
        return None  # the runner ends the escalation with the recorded callback
    roster = resolve_policy(db, state.policy, now)
    new, actions = engine.next(state, event, now, roster.recipients)
    if new != state:
        return None
    for done in actions:
        if isinstance(done, LogEvent) and (
            done.kind == "ignored" or done.kind.endswith("_refused")
        ):
            return done.detail
    return None


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
