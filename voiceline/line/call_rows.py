"""A call's own row (``calls``): written once by the answer, found by each later step.

The answer writes it in one statement that a retried request leaves alone
(``store_new_call``); for a caller the directory cache keeps, the same statement also
checks that what was kept still holds (``store_first_call``), so the answer needs no
read of its own. The later steps of the call find the row (``stored_call``) or write it
if the answer's was lost (``ensure_call``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from voiceline.customers.directory_cache import version_is
from voiceline.db import sync_to_disk_later
from voiceline.line.caller_view import CallView
from voiceline.line.incidents import NO_OPEN_INCIDENT, open_incident_key
from voiceline.line.models import Call
from voiceline.orm import insert_unless_present
from voiceline.twilio_events import CallLeg


def stored_call(session: Session, call_sid: str) -> Call | None:
    """Return the row of an inbound call, if it was stored."""
    return session.scalars(select(Call).filter_by(call_sid=call_sid)).one_or_none()


def ensure_call(session: Session, leg: CallLeg, view: CallView, route: str) -> Call:
    """Return the call's row, storing it on its first request."""
    call = stored_call(session, leg.sid)
    if call is None:
        call = Call(**call_row(leg, view, route))
        session.add(call)
        session.flush()
    return call


_insert_call = insert_unless_present(Call, "call_sid", commit_without_flush_wait=True)
_CALL_COLUMNS = (
    "call_sid", "direction", "from_number", "to_number", "customer_id", "contact_id",
    "incident_id", "route", "started_at", "status",
)  # fmt: skip
# The row of a kept caller's call, written only if the directory is still the one the
# caller was kept from and the caller has no open incident: by the kind of look-up
# (``open_incident_key``), or None for a caller who cannot have one.
_insert_first_call = {
    kind: insert_unless_present(
        Call,
        "call_sid",
        commit_without_flush_wait=True,
        columns=_CALL_COLUMNS,
        only_if=and_(version_is("directory_version"), *([NO_OPEN_INCIDENT[kind]] if kind else [])),
    )
    for kind in (*NO_OPEN_INCIDENT, None)
}


def call_row(
    leg: CallLeg, view: CallView, route: str, incident_id: int | None = None
) -> dict[str, Any]:
    """Return the values of the row of ``leg``, answered with ``route``."""
    return {
        "call_sid": leg.sid,
        "direction": "inbound",
        "from_number": leg.from_number,
        "to_number": leg.to_number,
        "customer_id": view.caller.customer.id if view.caller.customer else None,
        "contact_id": view.caller.contact.id if view.caller.contact else None,
        "incident_id": incident_id,
        "route": route,
        "started_at": view.now,
        "status": leg.status,
    }


def store_new_call(
    session: Session, leg: CallLeg, view: CallView, route: str, incident_id: int | None = None
) -> None:
    """Store the row of a call just answered, unless a retry of its request already did.

    The answer is the one request of a call that always writes, so it writes in one
    statement, and does not wait for the disk (``sync_to_disk_later`` on SQLite, the
    statement's own ``synchronous_commit`` off on PostgreSQL): the row says
    which way the call went, and is on disk with the call's next step, the message.
    The later steps of the call (``ensure_call``) find the row it left.
    """
    sync_to_disk_later(session)
    _insert_call(session.connection(), call_row(leg, view, route, incident_id))


def store_first_call(
    session: Session, leg: CallLeg, view: CallView, route: str, version: int
) -> bool:
    """Store a kept caller's call as ``store_new_call`` does, if what was kept still holds.

    The row is written only if the directory's version is still ``version`` and the
    caller has no open incident, in the one statement; returns True if it was written.
    """
    check = open_incident_key(view.caller, view.now)
    kind, parameters = check if check is not None else (None, {})
    sync_to_disk_later(session)
    row = call_row(leg, view, route) | parameters | {"directory_version": version}
    return _insert_first_call[kind](session.connection(), row)
