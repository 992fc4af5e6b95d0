"""What one incident's page shows: the caller and the promise, the message, pages, the story.

Built from the rows in a few reads and handed to the template as plain values, every
time already in the customer's zone (or UTC for a caller we could not match).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.incident_list import status_label
from escalation.models import Page
from escalation.state import EscalationState, state_from_dict
from escalation.timeline import Context, Entry, timeline
from oncall.models import Analyst
from voiceline.admin.formatting import DEFAULT_CURRENCY, duration, zone_of
from voiceline.admin.models import AdminNotice
from voiceline.customers.services import service_settings
from voiceline.incidents.models import Incident, IncidentEvent, Recording
from voiceline.line.media import recording_url
from voiceline.phones import display
from voiceline.sla.models import SlaClock
from voiceline.twilio_errors import meaning_of

PRIORITY_WORDS = {
    "emergency": "Emergency",
    "billable": "Billable emergency",
    "standard": "Message for the next business day",
}
METRIC_WORDS = {"callback": "Call back", "restoration": "Restore service"}
PAGE_STATUS_WORDS = {
    "queued": "waiting to send",
    "sending": "sending",
    "lost": "no answer from Twilio; sent again",
    "accepted": "sent",
    "sent": "sent",
    "ringing": "ringing",
    "in-progress": "answered",
    "delivered": "delivered",
    "undelivered": "not delivered",
    "failed": "failed",
    "completed": "call ended",
    "busy": "busy",
    "no-answer": "no answer",
    "canceled": "hung up",
    "cancelled": "cancelled",
    "error": "refused",
}
PURPOSE_WORDS = {"reminder": "reminder", "warning": "warning"}


@dataclass(frozen=True)
class Message:
    """One recording of the caller: the audio link, how long it is, what was said."""

    id: int
    src: str | None
    length: str
    transcript: str | None
    at: datetime
    is_addendum: bool


@dataclass(frozen=True)
class Promise:
    """One SLA clock in plain words."""

    metric: str
    within: str
    clock: str  # "wall" | "business": a formatting.TERMS key
    due: datetime
    outcome: str
    badge: str | None  # "met", "breached" or "paused"
    credit: Decimal | None


@dataclass(frozen=True)
class PageRow:
    """One page in the table of pages."""

    page: Page
    analyst: str
    how: str
    to: str
    status: str
    error: str | None


@dataclass(frozen=True)
class IncidentPage:
    """Everything the incident's page shows."""

    incident: Incident
    state: EscalationState | None
    zone: str
    caller: str
    caller_number: str
    priority: str
    status: str
    status_class: str
    currency: str
    messages: list[Message]
    promises: list[Promise]
    pages: list[PageRow]
    entries: list[Entry]
    technical: int
    notes: list[Entry]
    analysts: list[Analyst]
    paged: list[str]
    default_analyst: str | None
    acknowledged_by: str | None
    notices: list[AdminNotice]


def build(
    session: Session, app: Flask, incident: Incident, now: datetime, *, show_all: bool
) -> IncidentPage:
    """Return the page for ``incident`` at ``now``; technical lines only when ``show_all``."""
    customer = incident.customer
    zone_name = customer.time_zone if customer else "UTC"
    zone = zone_of(zone_name)
    analysts = list(session.scalars(select(Analyst).order_by(Analyst.name)))
    by_id = {a.id: a for a in analysts}
    state = state_from_dict(incident.escalation_state) if incident.escalation_state else None
    number = display(incident.caller_number) if incident.caller_number else None
    caller = (
        incident.contact.name if incident.contact else number or "A caller with a withheld number"
    )
    currency = str(service_settings(session).get("currency") or DEFAULT_CURRENCY)
    acknowledger = by_id.get(incident.acknowledged_by_id or 0)
    events = session.scalars(
        select(IncidentEvent)
        .filter_by(incident_id=incident.id)
        .order_by(IncidentEvent.at, IncidentEvent.id)
    )
    context = Context(
        caller=caller,
        caller_number=incident.caller_number,
        names={a.code: a.name for a in analysts},
        zone=zone,
        currency=currency,
        acknowledger=acknowledger.name if acknowledger else None,
    )
    entries = timeline(events, context)
    word, css = status_label(incident, state)
    return IncidentPage(
        incident=incident,
        state=state,
        zone=zone_name,
        caller=caller,
        caller_number=number or "withheld",
        priority=PRIORITY_WORDS.get(incident.priority, incident.priority.capitalize()),
        status=word,
        status_class=css,
        currency=currency,
        messages=_messages(session, app, incident),
        promises=_promises(session, incident, now),
        pages=_pages(session, incident, by_id),
        entries=[e for e in entries if show_all or not e.is_technical],
        technical=sum(1 for e in entries if e.is_technical),
        notes=[e for e in entries if e.kind == "note"],
        analysts=analysts,
        paged=sorted({p.analyst for p in state.pages}) if state else [],
        default_analyst=state.pages[-1].analyst if state and state.pages else None,
        acknowledged_by=acknowledger.name if acknowledger else None,
        notices=list(
            session.scalars(
                select(AdminNotice).filter_by(incident_id=incident.id).order_by(AdminNotice.at)
            )
        ),
    )


def _messages(session: Session, app: Flask, incident: Incident) -> list[Message]:
    rows = session.scalars(
        select(Recording).filter_by(incident_id=incident.id).order_by(Recording.id)
    )
    messages = []
    for index, row in enumerate(rows):
        src = None
        if row.url:
            # The signed link, as a path: the page's CSP lets audio come from 'self' only,
            # and the admin may be opened on another host name than the public one.
            parts = urlsplit(recording_url(app, row.id))
            src = f"{parts.path}?{parts.query}"
        messages.append(
            Message(
                id=row.id,
                src=src,
                length=duration(row.duration_seconds) if row.duration_seconds else "",
                transcript=(row.transcription or "").strip() or None,
                at=row.created_at,
                is_addendum=index > 0,
            )
        )
    return messages


def _promises(session: Session, incident: Incident, now: datetime) -> list[Promise]:
    clocks = session.scalars(
        select(SlaClock).filter_by(incident_id=incident.id).order_by(SlaClock.id)
    )
    return [_promise(clock, now) for clock in clocks]


def _promise(clock: SlaClock, now: datetime) -> Promise:
    credit = clock.credit.get("amount") if clock.credit else None
    used = clock.business_seconds if clock.clock == "business" else clock.wall_seconds
    badge: str | None
    if clock.stopped_at is not None:
        done = "Called back" if clock.metric == "callback" else "Restored"
        after = f" after {duration(used)}" if used is not None else ""
        late = f", {duration((clock.minutes_over or 0) * 60)} late" if clock.is_met is False else ""
        outcome, badge = (
            f"{done}{after}{late}",
            {True: "met", False: "breached"}.get(bool(clock.is_met)),
        )
    elif clock.paused_since is not None:
        outcome, badge = "The clock is paused", "paused"
    elif clock.deadline_at <= now:
        outcome, badge = f"Overdue by {duration(_minutes(now - clock.deadline_at))}", "breached"
    else:
        outcome, badge = f"Due in {duration(_minutes(clock.deadline_at - now))}", None
    return Promise(
        metric=METRIC_WORDS.get(clock.metric, clock.metric),
        within=duration(clock.target_minutes * 60),
        clock=clock.clock if clock.clock in ("wall", "business") else "wall",
        due=clock.deadline_at,
        outcome=outcome,
        badge=badge,
        credit=Decimal(str(credit)) if credit not in (None, "") else None,
    )


def _minutes(length: timedelta) -> timedelta:
    """Return ``length`` to the minute: a countdown in seconds would be stale at once."""
    return timedelta(minutes=int(length.total_seconds() // 60))


def _pages(session: Session, incident: Incident, by_id: dict[int, Analyst]) -> list[PageRow]:
    rows = []
    for page in session.scalars(select(Page).filter_by(incident_id=incident.id).order_by(Page.id)):
        analyst = by_id.get(page.analyst_id or 0)
        purpose = PURPOSE_WORDS.get(page.page_key.split(".", 1)[0])
        how = "Text" if page.channel == "sms" else "Call"
        rows.append(
            PageRow(
                page=page,
                analyst=analyst.name if analyst else "",
                how=f"{how} ({purpose})" if purpose else how,
                to=display(page.to_number),
                status=PAGE_STATUS_WORDS.get(page.status, page.status),
                error=(
                    f"error {page.error_code}: {meaning_of(page.error_code) or 'unknown'}"
                    if page.error_code
                    else None
                ),
            )
        )
    return rows
