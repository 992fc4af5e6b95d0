"""The incident's event log: one append-only line per thing that happened to it.

Every area writes here (the line, paging, the SLA ledger), so it sits below them all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from voiceline.incidents.models import Incident, IncidentEvent

OPEN_STATUSES = ("open", "acknowledged")


def log_event(
    session: Session,
    incident: Incident,
    kind: str,
    at: datetime,
    actor: str | None = None,
    **detail: Any,
) -> IncidentEvent:
    """Append one line to the incident's log."""
    event = IncidentEvent(incident_id=incident.id, at=at, kind=kind, actor=actor, detail=detail)
    session.add(event)
    return event
