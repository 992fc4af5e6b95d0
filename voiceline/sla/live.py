"""The live view of the SLA ledger: every running clock with its time left and warning level."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from voiceline.customers.business_time import BusinessCalendar
from voiceline.customers.services import calendar_for
from voiceline.incidents.models import Incident
from voiceline.sla.clocks import pausable_metrics
from voiceline.sla.models import SlaClock
from voiceline.sla.sla_math import (
    Level,
    time_left,
    warning_level,
)


@dataclass(frozen=True)
class LiveClock:
    """A running SLA clock as the live view shows it."""

    incident_id: int
    customer_code: str
    customer_name: str
    summary: str
    priority: str
    metric: str
    clock: str
    target_minutes: int
    time_zone: str
    started_at: datetime
    deadline_at: datetime
    time_left: timedelta  # on the target's own clock; negative once breached
    level: Level
    is_paused: bool
    is_pausable: bool


def live_clocks(session: Session, now: datetime) -> list[LiveClock]:
    """Return running clocks of open incidents, soonest deadline first, paused ones last."""
    rows = session.execute(
        select(SlaClock, Incident)
        .join(Incident, Incident.id == SlaClock.incident_id)
        .where(SlaClock.stopped_at.is_(None), Incident.closed_at.is_(None))
    ).all()
    calendars: dict[int, BusinessCalendar] = {}
    live = []
    for clock, incident in rows:
        customer = incident.customer
        assert customer is not None
        calendar = calendars.setdefault(customer.id, calendar_for(customer))
        live.append(
            LiveClock(
                incident_id=incident.id,
                customer_code=customer.code,
                customer_name=customer.name,
                summary=incident.summary,
                priority=clock.priority,
                metric=clock.metric,
                clock=clock.clock,
                target_minutes=clock.target_minutes,
                time_zone=clock.time_zone,
                started_at=clock.started_at,
                deadline_at=clock.deadline_at,
                time_left=time_left(clock, now, calendar),
                level=warning_level(clock, now, calendar),
                is_paused=clock.paused_since is not None,
                is_pausable=clock.metric in pausable_metrics(incident),
            )
        )
    live.sort(key=lambda c: (c.is_paused, c.deadline_at, c.incident_id, c.metric))
    return live
