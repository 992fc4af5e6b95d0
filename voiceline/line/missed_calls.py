"""Calls that end without a message still leave a record someone will call back on.

Two ways to learn a call ended: Twilio's call-status callback (the number's "call
status changes" URL), and, for numbers set up without it, a sweep of calls that have
been quiet too long. Both decide the same way, from how far the call got, so they live
together, apart from the call flow (``voiceline.line.calls``) that never sees the end.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from voiceline.customers.entitlement import Route
from voiceline.line.call_rows import stored_call
from voiceline.line.messages import take_message
from voiceline.line.models import Call
from voiceline.twilio_events import CallLeg, CallStatusChanged

FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
UNFINISHED_CALL_AGE = timedelta(minutes=15)


def call_status(session: Session, changed: CallStatusChanged, now: datetime) -> list[int]:
    """An inbound call ended: a caller who hung up before the beep still leaves a record."""
    leg = changed.call
    call = stored_call(session, leg.sid)
    if call is None:
        return []
    call.status = leg.status
    if leg.status not in FINAL_STATUSES:
        return []
    call.ended_at = now
    if call.incident_id is not None or call.route == "repeat" or call.choice == "desk completed":
        return []  # the caller's incident exists, or the desk took the call
    if call.route == "desk" and call.choice is None:
        return []  # hung up while the desk was ringing: the desk saw the missed call
    if call.choice and call.choice.startswith("emergency"):
        priority = "emergency"
    elif call.choice == "billable":
        priority = "billable"
    elif call.route == Route.EMERGENCY_MENU.value and not call.choice:
        priority = "emergency"  # hung up in the menu of a covered plan: treat as urgent
    elif call.route == "unknown":
        priority = "unverified"
    else:
        priority = "standard"
    if not leg.from_number and call.from_number:
        leg = replace(leg, from_number=call.from_number)
    _, to_page, _ = take_message(session, leg, None, now, priority, None)
    return to_page


def sweep_unfinished_calls(session: Session, now: datetime) -> list[int]:
    """Log missed calls whose end Twilio never reported (no 'call status changes' URL).

    A call still without an incident 15 minutes after it started (longer than the menu
    plus the longest message) is treated as having ended then.
    """
    stale = session.scalars(
        select(Call).where(
            Call.direction == "inbound",
            Call.incident_id.is_(None),
            Call.ended_at.is_(None),
            Call.started_at <= now - UNFINISHED_CALL_AGE,
        )
    ).all()
    to_page: list[int] = []
    for call in stale:
        ended = CallLeg(sid=call.call_sid, from_number=call.from_number, status="completed")
        to_page += call_status(session, CallStatusChanged(ended), now)
    return to_page
