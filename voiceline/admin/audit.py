"""The audit log: who changed what, from the admin page or the command line.

Entries are append-only (``voiceline.orm.AppendOnly``: the ORM refuses updates and deletes). ``record``
adds one to the caller's session, so it commits or rolls back with the change it
describes: a refused edit leaves no entry behind.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voiceline.admin.models import AuditEntry
from voiceline.clock import SystemClock

MAX_ACTOR = 64
MAX_ACTION = 64
MAX_SUBJECT = 200


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(value: Any) -> Any:
    """Return ``value`` in a form JSON can hold (datetimes as ISO text)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def record(
    session: Session,
    actor: str,
    action: str,
    subject: str,
    *,
    at: datetime | None = None,
    **detail: Any,
) -> AuditEntry:
    """Add an audit entry saying ``actor`` did ``action`` to ``subject``; return it."""
    if not actor or not action:
        raise ValueError("an audit entry needs an actor and an action")
    when = at if at is not None else SystemClock().now()
    if when.tzinfo is None:
        raise ValueError("audit time must be timezone-aware")
    entry = AuditEntry(
        at=when.astimezone(UTC),
        actor=_clip(actor, MAX_ACTOR),
        action=_clip(action, MAX_ACTION),
        subject=_clip(subject, MAX_SUBJECT),
        detail=_plain(detail),
    )
    session.add(entry)
    return entry


def subject_for_admin(username: str) -> str:
    """Return the audit subject naming an admin login."""
    return _clip(f"admin {username}", MAX_SUBJECT)


def recent(session: Session, limit: int = 200, offset: int = 0) -> list[AuditEntry]:
    """Return audit entries newest first."""
    query = (
        select(AuditEntry)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query))
