"""The incident, its recorded message and its append-only event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voiceline.customers.models import Contact, Customer
from voiceline.orm import AppendOnly, Base


class Recording(Base):
    """A caller's recorded message."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_sid: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), nullable=True)
    url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    duration_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="completed")
    transcription: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime]


class Incident(Base):
    """A caller's request for help, from the message taken to the callback."""

    __tablename__ = "incidents"
    # Every inbound call asks "is this caller's incident still open?" (the repeat-caller
    # check), by customer or by number, newest first: these keep it off the whole table.
    __table_args__ = (
        Index("ix_incidents_customer_id_opened_at", "customer_id", "opened_at"),
        Index("ix_incidents_caller_number_opened_at", "caller_number", "opened_at"),
        # The admin list: newest first, a page at a time; open ones are few among many.
        Index("ix_incidents_opened_at", "opened_at"),
        Index("ix_incidents_status_opened_at", "status", "opened_at"),
        # the monthly report counts each customer's incidents by the month its clock started
        Index("ix_incidents_customer_id_clock_started_at", "customer_id", "clock_started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)  # the short number analysts quote
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    caller_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    priority: Mapped[str] = mapped_column(String(32))  # emergency | standard | billable
    status: Mapped[str] = mapped_column(String(32), default="open")
    summary: Mapped[str] = mapped_column(String(500))
    opened_at: Mapped[datetime]
    clock_started_at: Mapped[datetime]
    target_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    target_clock: Mapped[str | None] = mapped_column(String(16), nullable=True)
    deadline_at: Mapped[datetime | None] = mapped_column(nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(nullable=True)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("analysts.id"), nullable=True)
    callback_at: Mapped[datetime | None] = mapped_column(nullable=True)
    callback_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    restored_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    policy_snapshot: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    escalation_state: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    next_due_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)

    customer: Mapped[Customer | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    events: Mapped[list[IncidentEvent]] = relationship(
        back_populates="incident", order_by="IncidentEvent.id"
    )


class IncidentEvent(AppendOnly, Base):
    """One line of an incident's append-only log."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    incident: Mapped[Incident] = relationship(back_populates="events")
