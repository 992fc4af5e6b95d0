"""Twilio's reports about our pages, turned into escalation events exactly once.

Every page's callback URLs carry the incident and the page key, so a report finds its
page without trusting anything else in the form. Reports arrive parsed
(``voiceline.twilio_events``), are deduplicated on the text's SID and status and on the
call's SID and sequence number (``WebhookReceipt``), applied
to the ``Page`` row monotonically (a late ``sent`` never undoes ``delivered``), and fed
to the engine as the mapping in ``escalation.events`` says. A report may arrive before
the sender has recorded Twilio's answer: it attaches the SID itself, which is also what
settles a page left in doubt by a crashed sender (``escalation.dispatch``). A bundle is
one message for several incidents' pages, sent with the first page's URLs: its report
is applied to each page the message carried (``Page.bundle_lead_id``), each fed to its
own incident, in the one transaction that stores the receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.dispatch import Paging, deliver, record_provider_sid
from escalation.events import Event, PageDelivered, PageNoAnswer, PageUndelivered
from escalation.failures import is_temporary_failure
from escalation.models import Page, WebhookReceipt
from escalation.runner import Outcome, feed, lock_incident
from oncall.models import Analyst
from voiceline.incidents.log import log_event
from voiceline.incidents.models import Incident
from voiceline.twilio_events import MAX_COLUMN_INT, PageAnswered, PageStatus, SmsProgress

# How far along a page is; a report never moves a page back to a lower rank.
_RANK = {
    "queued": 0, "sending": 1, "lost": 1, "accepted": 2, "sent": 3, "ringing": 3,
    "in-progress": 4, "delivered": 5, "undelivered": 5, "failed": 5, "completed": 5,
    "busy": 5, "no-answer": 5, "canceled": 5, "error": 5, "cancelled": 5,
}  # fmt: skip
_NO_ANSWER = {"busy": "busy", "no-answer": "no_answer", "canceled": "canceled"}
MACHINE_PREFIXES = ("machine", "fax")


@dataclass
class PageContext:
    """A page row, its incident (locked) and its analyst, inside one transaction."""

    session: Session
    incident: Incident
    page: Page
    analyst: str
    now: datetime


def is_machine(answered_by: str | None) -> bool:
    """Return True when Twilio's AnsweredBy says a voicemail box or fax picked up."""
    return bool(answered_by) and str(answered_by).startswith(MACHINE_PREFIXES)


def open_page(session: Session, incident_id: int, key: str, now: datetime) -> PageContext | None:
    """Lock the incident and return the page with this key, or None if there is none."""
    if not 0 < incident_id <= MAX_COLUMN_INT:
        return None  # no incident has such a number; asking the database would fail
    incident = lock_incident(session, incident_id)
    if incident is None:
        return None
    page = session.scalars(
        select(Page).where(Page.incident_id == incident_id, Page.page_key == key)
    ).one_or_none()
    if page is None:
        return None
    analyst = session.get(Analyst, page.analyst_id) if page.analyst_id else None
    return PageContext(session, incident, page, analyst.code if analyst else "", now)


def is_duplicate(session: Session, key: str, now: datetime) -> bool:
    """Return True if this report was handled before; remember it otherwise."""
    key = key[:200]  # the column's width; look up exactly what is stored
    if session.get(WebhookReceipt, key) is not None:
        return True
    session.add(WebhookReceipt(key=key, received_at=now))
    session.flush()
    return False


def advance(page: Page, status: str, now: datetime) -> bool:
    """Move a page to a provider status if that is forward; return True if it moved."""
    status = "accepted" if status in ("queued", "accepted", "scheduled", "initiated") else status
    if _RANK.get(status, 3) < _RANK.get(page.status, 0) or status == page.status:
        return False
    if _RANK.get(page.status, 0) >= 5:
        return False  # final stays final, whatever arrives late
    page.status, page.updated_at = status, now
    return True


def bundle_of(session: Session, incident_id: int, key: str) -> list[tuple[int, str]]:
    """Return (incident, key) of the page and of every page its message carried, it first."""
    if not 0 < incident_id <= MAX_COLUMN_INT:
        return []  # no incident has such a number; asking the database would fail
    lead_id = session.scalars(
        select(Page.id).where(Page.incident_id == incident_id, Page.page_key == key)
    ).one_or_none()
    if lead_id is None:
        return []
    riders = session.execute(
        select(Page.incident_id, Page.page_key)
        .where(Page.bundle_lead_id == lead_id)
        .order_by(Page.id)
    )
    return [(incident_id, key), *((row_incident, row_key) for row_incident, row_key in riders)]


def lock_in_order(session: Session, members: list[tuple[int, str]]) -> None:
    """Lock every incident of a bundle in id order (as ``bundle_replies``): no deadlocks."""
    for member_incident in sorted({member[0] for member in members}):
        lock_incident(session, member_incident)


def open_bundle(session: Session, incident_id: int, key: str, now: datetime) -> list[PageContext]:
    """Lock a page's incidents and return the page and each its message carried, it first.

    Empty when there is no such page; a page that carries no others is a bundle of one.
    """
    members = bundle_of(session, incident_id, key)
    lock_in_order(session, members)
    found = [open_page(session, member, member_key, now) for member, member_key in members]
    if not found or found[0] is None:
        return []
    return [ctx for ctx in found if ctx is not None]


def page_status(paging: Paging, incident_id: int, key: str, report: PageStatus) -> None:
    """Apply an SMS or call status callback to its page and every page its message carried."""
    now = paging.clock.now()
    with paging.database.session() as session:
        members = bundle_of(session, incident_id, key)
        lock_in_order(session, members)
        ctx = open_page(session, incident_id, key, now)
        if ctx is None:
            return
        sid, status = report.sid, report.status
        if isinstance(report, SmsProgress):
            receipt = f"page-sms:{sid}:{status}"
            answered_by, sequence = None, None
        else:
            receipt = f"page-call:{sid}:{status if report.sequence is None else report.sequence}"
            answered_by, sequence = report.answered_by, report.sequence
        if not sid or is_duplicate(session, receipt, now):
            return
        record_provider_sid(ctx.page, sid, now)
        outcomes: list[Outcome] = []
        detected = False
        if answered_by and ctx.page.answered_by in (None, "unknown"):
            # Twilio may report the detection here before the AMD callback arrives.
            found = mark_answered(ctx, answered_by)
            detected = found is not None
            outcomes += [found] if found is not None else []
        outcomes += _apply_status(ctx, status, report.error_code, sequence, detected)
        if ctx.page.provider_sid == sid:  # a report of this page's own message
            for rider_incident, rider_key in members[1:]:
                rider = open_page(session, rider_incident, rider_key, now)
                if rider is not None:
                    outcomes += _apply_status(rider, status, report.error_code, None, False)
    for outcome in outcomes:
        paging.later(deliver, paging, outcome)


def _apply_status(
    ctx: PageContext, status: str, code: int | None, sequence: int | None, detected: bool
) -> list[Outcome]:
    """Move one page to a reported status, log a final one, and feed its incident."""
    if code is not None:
        ctx.page.error_code = code
    if sequence is not None:
        ctx.page.last_sequence = max(sequence, ctx.page.last_sequence or 0)
    moved = advance(ctx.page, status, ctx.now)
    if moved and _RANK.get(status, 0) >= 5:
        log_event(
            ctx.session,
            ctx.incident,
            "page_status",
            ctx.now,
            actor=ctx.analyst,
            key=ctx.page.page_key,
            status=status,
            code=code,
            answered_by=ctx.page.answered_by,
        )
    event = _event_for(ctx.page, status, code) if moved else None
    if event is None or (detected and isinstance(event, PageNoAnswer)):
        return []
    return [feed(ctx.session, ctx.incident, event, ctx.now)]


def _event_for(page: Page, status: str, code: int | None) -> Event | None:
    """Return the engine event a provider status means, or None."""
    key = page.page_key
    if page.channel == "sms":
        if status == "delivered":
            return PageDelivered(key)
        if status in ("undelivered", "failed"):
            return PageUndelivered(key, code, is_temporary_failure(None, code))
        return None
    if status in _NO_ANSWER:
        return PageNoAnswer(key, _NO_ANSWER[status])  # type: ignore[arg-type]
    if status == "failed":
        return PageUndelivered(key, code, is_temporary_failure(None, code))
    if status == "completed":
        if is_machine(page.answered_by):
            return PageNoAnswer(key, "machine")
        if page.answered_by != "human":
            # Picked up, but no person ever pressed a key or was detected: not a delivery.
            return PageNoAnswer(key, "no_answer")
    return None


def amd_result(paging: Paging, incident_id: int, key: str, answered: PageAnswered) -> None:
    """Apply the asynchronous answering-machine result of a voice page (and its bundle's)."""
    now = paging.clock.now()
    answered_by = answered.answered_by or "unknown"
    outcomes: list[Outcome] = []
    with paging.database.session() as session:
        members = open_bundle(session, incident_id, key, now)
        if not members or is_duplicate(session, f"page-amd:{answered.call_sid}", now):
            return
        for ctx in members:  # one call pages every incident it carries
            outcome = mark_answered(ctx, answered_by)
            outcomes += [outcome] if outcome is not None else []
    for outcome in outcomes:
        paging.later(deliver, paging, outcome)


def mark_answered(ctx: PageContext, answered_by: str) -> Outcome | None:
    """Record who answered a voice page; a machine is no delivery, a person is."""
    page = ctx.page
    if page.answered_by == "human" or is_machine(page.answered_by):
        return None  # already decided (a key press beats a late detection)
    page.answered_by, page.updated_at = answered_by, ctx.now
    if is_machine(answered_by):
        log_event(
            ctx.session,
            ctx.incident,
            "page_machine",
            ctx.now,
            actor=ctx.analyst,
            key=page.page_key,
            answered_by=answered_by,
        )
        return feed(ctx.session, ctx.incident, PageNoAnswer(page.page_key, "machine"), ctx.now)
    if answered_by == "human":
        return feed(ctx.session, ctx.incident, PageDelivered(page.page_key), ctx.now)
    return None
