"""Which queued pages one message carries, and whether a phone may be paged yet.

``escalation.runner`` queues each page at the time the destination's rate allows
(``escalation.throttle``): pages queued while a send is pending share its time. When a
sender claims a due page, it asks here first whether the destination may be paged now
(``hold_for_rate``: transactions that queued pages at the same instant could not see
each other, so the rate is checked again against what was really sent), then takes
every due page to the same phone on the same channel (``bundle_rows``). Pages (not
reminders or warnings) are bundled on both channels: one SMS names them all, and one
call reads each in turn (``escalation.voice_bundles``). A bundled call still ringing is
not hung up while it pages an incident nobody has taken (``carries_others``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from escalation.bundle_texts import MAX_BUNDLE
from escalation.models import Page
from escalation.texts import purpose_of
from escalation.throttle import SMS_LIMITS, VOICE_LIMITS, ThrottleLimits, next_slot
from voiceline.incidents.log import OPEN_STATUSES
from voiceline.incidents.models import Incident
from voiceline.telephony import REQUEST_TIMEOUT_SECONDS

# Rows in these statuses never reached Twilio, or have not been sent yet.
NOT_SENT = ("queued", "error", "lost", "cancelled")
# How long a sender's request to Twilio can last (connect, then answer), so how long a
# claimed page with no answer yet may still be on its way.
IN_FLIGHT_AT_MOST = timedelta(seconds=2 * REQUEST_TIMEOUT_SECONDS)


def limits_for(channel: str) -> ThrottleLimits:
    """Return the per-destination rate of a channel."""
    return SMS_LIMITS if channel == "sms" else VOICE_LIMITS


def lock_destination(session: Session, to: str, channel: str) -> None:
    """Serialize senders to one destination until the transaction ends."""
    if session.get_bind().dialect.name == "sqlite":
        # One writer at a time, but pysqlite runs reads outside any transaction until the
        # first write: two senders could both read the phone's history, find it quiet,
        # and both send. Taking the write lock now (as ``db`` does before a savepoint)
        # makes the second sender read the history after the first one's claim.
        connection = session.connection()
        dbapi = connection.connection.dbapi_connection
        if dbapi is not None and not dbapi.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
        {"key": f"page-destination:{channel}:{to}"},
    )


def hold_for_rate(session: Session, lead: Page, now: datetime) -> datetime | None:
    """Move the destination's due pages to its next allowed send; None if it may go now.

    A send is counted from when Twilio took it (``dispatch`` stamps each row then). One
    claimed but not yet answered may reach Twilio any moment, so it counts as sent now:
    the phone's next send waits a whole gap, even if the sender that claimed it is slow
    (a big bundle to name, a loaded machine, a slow network). A claim older than a
    request to Twilio can last is counted from the claim: its sender died, and the
    in-doubt check settles it.
    """
    limits = limits_for(lead.channel)
    history = session.execute(
        select(Page.sent_at, Page.status, Page.provider_sid).where(
            Page.to_number == lead.to_number,
            Page.channel == lead.channel,
            Page.status.not_in(NOT_SENT),
            Page.sent_at > now - max(limits.window, IN_FLIGHT_AT_MOST),
            # No upper bound: a send claimed by a sender whose clock runs ahead (another
            # host) is still a send, and the next slot is counted from it.
        )
    )
    times = sorted(
        {
            max(moment, now) if _in_flight(status, sid, moment, now) else moment
            for moment, status, sid in history
            if moment is not None
        }
    )
    slot = next_slot(times, now, limits)
    if slot <= now:
        return None
    session.execute(
        update(Page)
        .where(
            Page.to_number == lead.to_number,
            Page.channel == lead.channel,
            Page.status == "queued",
            Page.sent_at <= now,
        )
        .values(sent_at=slot, updated_at=now)
    )
    return slot


def _in_flight(status: str, sid: str | None, claimed: datetime, now: datetime) -> bool:
    """Return True for a page claimed for sending whose request to Twilio may not be over."""
    return status == "sending" and sid is None and claimed > now - IN_FLIGHT_AT_MOST


def bundle_rows(session: Session, lead: Page, now: datetime, *, locks: bool) -> Sequence[int]:
    """Return the ids of the due pages one send to the lead's phone carries, lead first."""
    if purpose_of(lead.page_key) != "page":
        return [lead.id]
    query = (
        select(Page.id, Page.page_key)
        .where(
            Page.to_number == lead.to_number,
            Page.channel == lead.channel,
            Page.status == "queued",
            Page.sent_at <= now,
            Page.id != lead.id,
        )
        .order_by(Page.sent_at, Page.id)
        .limit(MAX_BUNDLE * 2)
    )
    if locks:
        query = query.with_for_update(skip_locked=True)
    others = [page_id for page_id, key in session.execute(query) if purpose_of(key) == "page"]
    return [lead.id, *others[: MAX_BUNDLE - 1]]


def carries_others(session: Session, lead: Page) -> bool:
    """Return True while the message ``lead`` carries also pages an incident nobody took."""
    waiting = session.scalar(
        select(Incident.id)
        .join(Page, Page.incident_id == Incident.id)
        .where(
            Page.bundle_lead_id == lead.id,
            Incident.status.in_(OPEN_STATUSES),
            Incident.acknowledged_at.is_(None),
        )
        .limit(1)
    )
    return waiting is not None
