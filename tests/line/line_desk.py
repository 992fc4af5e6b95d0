"""The example desk's callers and what the line tests read back from the database."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import func, select

from voiceline import extensions
from voiceline.incidents.models import Incident, IncidentEvent

PAT = "+15035550111"  # Acme Dental, authorized primary
ROBIN = "+15035550112"  # Acme Dental, authorized backup
LEE = "+12125550131"  # Harbor Law (Pro)
ALICE = "+442079460321"  # Thames Print (Cat2)
CHRIS = "+14155550144"  # Bayside Cafe (ad hoc)
STRANGER = "+15035559999"
LA = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")


def incidents(app: Flask) -> list[Incident]:
    with extensions.database(app).session() as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def events(app: Flask, incident_id: int) -> list[str]:
    with extensions.database(app).session() as session:
        return list(
            session.scalars(
                select(IncidentEvent.kind)
                .filter_by(incident_id=incident_id)
                .order_by(IncidentEvent.id)
            )
        )


def count(app: Flask, model: type) -> int:
    with extensions.database(app).session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)
