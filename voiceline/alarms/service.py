"""Raise, list and resolve alarms: admin notices that say paging needs a person.

An alarm is an ``AdminNotice`` row, written in the caller's transaction (so it exists
exactly when the paging decision that raised it was committed), deduplicated while an
identical one is unresolved. Each new alarm is also queued on the session; once the
transaction commits, the process's alarm mailer (``voiceline.alarms.mail``), if one is
installed on that database, emails it in the background. Nothing here waits for mail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from voiceline.admin.models import AdminNotice

log = logging.getLogger(__name__)

PENDING_KEY = "voiceline.alarms.pending"
MESSAGE_LIMIT = 500

# Alarms about Twilio itself, not one incident: resolved once a page is accepted again.
TWILIO_KINDS = ("no_caller_id", "twilio_refused", "twilio_unreachable")


@dataclass(frozen=True)
class RaisedAlarm:
    """What the mailer needs of a new alarm: plain values, safe after the session ends."""

    at: datetime
    kind: str
    message: str
    incident_id: int | None


def raise_alarm(
    session: Session,
    kind: str,
    message: str,
    incident_id: int | None = None,
    analyst_id: int | None = None,
    *,
    now: datetime,
) -> AdminNotice | None:
    """Write an alarm unless the same one is unresolved; return the new notice, or None."""
    text = " ".join(message.split())[:MESSAGE_LIMIT]
    existing = session.scalar(
        select(AdminNotice.id)
        .where(
            AdminNotice.kind == kind,
            AdminNotice.message == text,
            AdminNotice.resolved_at.is_(None),
            AdminNotice.incident_id.is_(None)
            if incident_id is None
            else AdminNotice.incident_id == incident_id,
        )
        .limit(1)
    )
    if existing is not None:
        return None
    notice = AdminNotice(
        at=now, incident_id=incident_id, analyst_id=analyst_id, kind=kind, message=text
    )
    session.add(notice)
    session.info.setdefault(PENDING_KEY, []).append(RaisedAlarm(now, kind, text, incident_id))
    log.warning("alarm %s (incident %s): %s", kind, incident_id, text)
    return notice


def open_alarms(session: Session, limit: int | None = None) -> list[AdminNotice]:
    """Return the unresolved alarms, oldest first."""
    query = select(AdminNotice).where(AdminNotice.resolved_at.is_(None)).order_by(AdminNotice.at)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def resolve_incident_alarms(session: Session, incident_id: int, now: datetime) -> int:
    """Resolve an incident's own alarms (not those about one analyst); return how many."""
    result = session.execute(
        update(AdminNotice)
        .where(
            AdminNotice.incident_id == incident_id,
            AdminNotice.analyst_id.is_(None),
            AdminNotice.resolved_at.is_(None),
        )
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def resolve_twilio_alarms(session: Session, now: datetime) -> int:
    """Resolve the alarms about Twilio itself: a page went out again; return how many."""
    result = session.execute(
        update(AdminNotice)
        .where(
            AdminNotice.kind.in_(TWILIO_KINDS),
            AdminNotice.incident_id.is_(None),
            AdminNotice.resolved_at.is_(None),
        )
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def take_pending(session: Session) -> list[RaisedAlarm]:
    """Remove and return the alarms raised in the session's transaction."""
    pending: list[RaisedAlarm] = session.info.pop(PENDING_KEY, [])
    return pending
