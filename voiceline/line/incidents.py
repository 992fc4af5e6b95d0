"""Incidents: opened when a message is taken, idempotent on CallSid and RecordingSid,
with the SLA clock, the plan's target and an append-only event log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, bindparam, literal_column, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voiceline.customers.services import Caller, calendar_for, target_for
from voiceline.incidents.log import OPEN_STATUSES, log_event
from voiceline.incidents.models import Incident, Recording
from voiceline.phones import display

log = logging.getLogger(__name__)

PAGED_PRIORITIES = frozenset({"emergency", "billable"})
REPEAT_WINDOW = timedelta(hours=24)


def _summary(caller: Caller, priority: str, missed: bool) -> str:
    who = caller.contact.name if caller.contact else "unknown caller"
    company = caller.customer.name if caller.customer else "no matching customer"
    number = display(caller.number) if caller.number else "a withheld number"
    kind = {
        "emergency": "emergency",
        "billable": "billable emergency",
        "standard": "next-business-day",
        "unverified": "unverified",
    }.get(priority, priority)
    if missed:
        return f"Missed {kind} call from {who} ({company}) on {number}, no message left"
    return f"{kind.capitalize()} message from {who} ({company}) on {number}"


def _insert_once(session: Session, obj: Any, find: Callable[[], Any]) -> tuple[Any, bool]:
    """Insert ``obj`` unless a concurrent request already did; return (row, created)."""
    try:
        with session.begin_nested():
            session.add(obj)
            session.flush()
        return obj, True
    except IntegrityError:
        existing = find()
        if existing is None:
            raise
        return existing, False


def open_incident(
    session: Session,
    *,
    call_sid: str,
    caller: Caller,
    priority: str,
    clock_started_at: datetime,
    now: datetime,
    missed: bool = False,
) -> tuple[Incident, bool]:
    """Open the incident of ``call_sid``, or return the one already open for it."""

    def find() -> Incident | None:
        return session.scalars(select(Incident).filter_by(call_sid=call_sid)).one_or_none()

    existing = find()
    if existing is not None:
        return existing, False
    customer = caller.customer if caller.is_authorized else None
    target = target_for(customer.plan, priority) if customer is not None else None
    deadline = (
        target.deadline(clock_started_at, calendar_for(customer)) if target and customer else None
    )
    incident = Incident(
        customer_id=caller.customer.id if caller.customer else None,
        contact_id=caller.contact.id if caller.contact else None,
        call_sid=call_sid,
        caller_number=caller.number,
        priority=priority,
        status="open",
        summary=_summary(caller, priority, missed),
        opened_at=now,
        clock_started_at=clock_started_at,
        target_minutes=target.minutes if target else None,
        target_clock=target.clock if target else None,
        deadline_at=deadline,
    )
    incident, created = _insert_once(session, incident, find)
    if created and customer is not None:
        from voiceline.sla.clocks import start_clocks  # sla logs through this module: import late

        start_clocks(session, incident)
    if created:
        log_event(
            session,
            incident,
            "opened",
            now,
            actor=caller.number,
            priority=priority,
            missed=missed,
            clock_started_at=clock_started_at.isoformat(),
            deadline_at=deadline.isoformat() if deadline else None,
            target=f"{target.minutes}m {target.clock}" if target else None,
        )
        log.info("incident %s opened: %s", incident.id, incident.summary)
    return incident, created


def attach_recording(
    session: Session,
    incident: Incident,
    *,
    call_sid: str,
    recording_sid: str,
    url: str | None,
    duration: int | None,
    now: datetime,
    is_addendum: bool = False,
) -> tuple[Recording, bool]:
    """Attach a recording to ``incident`` once, however often Twilio reports it."""

    def find() -> Recording | None:
        return session.scalars(
            select(Recording).filter_by(recording_sid=recording_sid)
        ).one_or_none()

    existing = find()
    if existing is not None:
        if existing.url is None and url:
            existing.url = url
        if existing.duration_seconds is None and duration is not None:
            existing.duration_seconds = duration
        return existing, False
    recording = Recording(
        recording_sid=recording_sid,
        call_sid=call_sid,
        incident_id=incident.id,
        url=url,
        duration_seconds=duration,
        status="completed",
        created_at=now,
    )
    recording, created = _insert_once(session, recording, find)
    if created:
        log_event(
            session,
            incident,
            "caller_added_message" if is_addendum else "message_recorded",
            now,
            recording_sid=recording_sid,
            duration_seconds=duration,
        )
    return recording, created


def _latest_open(column: Any) -> Any:
    """Return the statement for the newest incident still open with ``column`` = :who."""
    incidents = Incident.__table__
    return (
        select(incidents.c.id)
        .where(
            column == bindparam("who"),
            # Our constants, written into the statement: a list parameter is expanded and
            # re-rendered at every execution, about 5% of the answer's time in a web worker.
            incidents.c.status.in_([literal_column(f"'{s}'", String()) for s in OPEN_STATUSES]),
            incidents.c.opened_at >= bindparam("since", type_=incidents.c.opened_at.type),
        )
        .order_by(incidents.c.opened_at.desc())
        .limit(1)
    )


# Every call asks, and almost every answer is "none": the statements are built once, run
# on the connection (an index range, no ORM row), and the incident loaded only if found.
_LATEST_OPEN_OF_CUSTOMER = _latest_open(Incident.__table__.c.customer_id)
_LATEST_OPEN_OF_NUMBER = _latest_open(Incident.__table__.c.caller_number)


# The same look-ups as conditions, for a write that is made only when there is none.
NO_OPEN_INCIDENT: dict[str, ColumnElement[bool]] = {
    "customer": ~_LATEST_OPEN_OF_CUSTOMER.exists(),
    "number": ~_LATEST_OPEN_OF_NUMBER.exists(),
}


def open_incident_key(caller: Caller, now: datetime) -> tuple[str, dict[str, Any]] | None:
    """Return how the caller's open incident is found ("customer" or "number"), and the
    parameters; None for a caller who cannot have one: a withheld number no contact matched.

    The newest incident still open from the last day: of the customer for an authorized
    contact, else of the number.
    """
    who: int | str
    if caller.customer is not None and caller.is_authorized:
        kind, who = "customer", caller.customer.id
    elif caller.number is not None:
        kind, who = "number", caller.number
    else:
        return None
    return kind, {"who": who, "since": now - REPEAT_WINDOW}


def open_incident_query(caller: Caller, now: datetime) -> tuple[Select[Any], dict[str, Any]] | None:
    """Return the statement and parameters that find the caller's open incident, by id."""
    found = open_incident_key(caller, now)
    if found is None:
        return None
    kind, parameters = found
    query = _LATEST_OPEN_OF_CUSTOMER if kind == "customer" else _LATEST_OPEN_OF_NUMBER
    return query, parameters
