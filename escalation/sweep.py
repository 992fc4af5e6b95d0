"""The sweep for emergencies nobody handed to paging: the worker's net under the line.

The line marks an emergency due (``voiceline.incidents.handover.mark_for_paging``) in the
transaction that opens it, so an open incident of a paged priority that was never
handed over means something broke between the two (it happened once: a SQLite savepoint
committed the incident alone). Every ``SWEEP_SECONDS`` the worker looks for such
incidents, logs the find in each one's event log and hands it over; the next tick of
``escalation.due`` starts its escalation. An incident already handed over is left
alone even when paging gave up on it (no policy applies): that is recorded, and the
admins were told.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from escalation.runner import lock_incident
from voiceline.customers.services import service_settings
from voiceline.db import Database
from voiceline.incidents.handover import mark_for_paging
from voiceline.incidents.log import OPEN_STATUSES, log_event
from voiceline.incidents.models import Incident, IncidentEvent
from voiceline.line.incidents import PAGED_PRIORITIES

log = logging.getLogger(__name__)

SWEEP_SECONDS = 2.0
HANDED_OVER = "handed_over_to_paging"


def paged_priorities(session: Session) -> frozenset[str]:
    """Return the priorities that page: unverified callers too when the desk says so."""
    if service_settings(session).get("page_unverified", False):
        return PAGED_PRIORITIES | {"unverified"}
    return PAGED_PRIORITIES


def _never_handed_over(session: Session) -> list[int]:
    handed_over = exists().where(
        IncidentEvent.incident_id == Incident.id, IncidentEvent.kind == HANDED_OVER
    )
    return list(
        session.scalars(
            select(Incident.id)
            .where(
                Incident.status.in_(OPEN_STATUSES),
                Incident.priority.in_(paged_priorities(session)),
                Incident.escalation_state.is_(None),
                Incident.next_due_at.is_(None),
                ~handed_over,
            )
            .order_by(Incident.id)
        )
    )


def sweep_unpaged(database: Database, now: datetime) -> list[int]:
    """Hand every open emergency that was never handed over to paging; return their ids."""
    with database.session() as session:
        found = _never_handed_over(session)
    handed: list[int] = []
    for incident_id in found:
        # One transaction per incident, holding its lock: another worker sweeping at
        # the same moment waits, then sees the hand-over and leaves it.
        with database.session() as session:
            incident = lock_incident(session, incident_id)
            if incident is None or incident_id not in _never_handed_over(session):
                continue
            log_event(
                session,
                incident,
                "found_unpaged",
                now,
                detail="open without being handed to paging; handing it over now",
            )
            mark_for_paging(session, incident, now)
        log.warning("incident %s was open but never handed to paging; handed over", incident_id)
        handed.append(incident_id)
    return handed
