"""SLA clocks: one per incident and metric."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from voiceline.orm import Base

# The columns of the report's covering index, in its order: customer and start to seek
# a month, then what the stopped clocks' totals filter, group and add up.
TOTALS_INDEX = (
    "customer_id",
    "started_at",
    "time_zone",
    "stopped_at",
    "is_met",
    "metric",
    "priority",
    "target_minutes",
    "clock",
    "minutes_over",
    "wall_seconds",
    "business_seconds",
)


class SlaClock(Base):
    """One promise kept or broken: a plan target measured for one incident."""

    __tablename__ = "sla_clocks"
    # The monthly report reads one month of clocks by their start (and their zones from
    # the index alone); its running clocks, always few, and its stopped breaches, about one
    # in ten, through partial indexes (their conditions written as each dialect renders the
    # report's own: SlaClock.is_met.is_(False) is "IS 0" on SQLite). Its totals of the
    # stopped clocks come from one index alone, by customer and start: every column they
    # group or add up is in it, so no clock row and no incident is read.
    __table_args__ = (
        UniqueConstraint("incident_id", "metric"),
        Index("ix_sla_clocks_report_totals", *TOTALS_INDEX),
        Index("ix_sla_clocks_started_at_time_zone", "started_at", "time_zone"),
        Index(
            "ix_sla_clocks_running_started_at",
            "started_at",
            sqlite_where=text("stopped_at IS NULL"),
            postgresql_where=text("stopped_at IS NULL"),
        ),
        Index(
            "ix_sla_clocks_breached_started_at",
            "started_at",
            sqlite_where=text("stopped_at IS NOT NULL AND is_met IS 0"),
            postgresql_where=text("stopped_at IS NOT NULL AND is_met IS false"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    # The incident's customer, copied when the clock starts (an incident keeps its
    # customer): the report reads a month of clocks by customer without their incidents.
    customer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    metric: Mapped[str] = mapped_column(String(32))  # callback | restoration
    priority: Mapped[str] = mapped_column(String(32))
    target_minutes: Mapped[int] = mapped_column(Integer)
    clock: Mapped[str] = mapped_column(String(16))  # wall | business
    time_zone: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None] = mapped_column(nullable=True)
    stop_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    is_reported: Mapped[bool] = mapped_column(Boolean, default=False)
    wall_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    business_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    paused_since: Mapped[datetime | None] = mapped_column(nullable=True)
    pauses: Mapped[list[Any]] = mapped_column(default=list)
    is_met: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    minutes_over: Mapped[int | None] = mapped_column(Integer, nullable=True)
    credit: Mapped[dict[str, Any]] = mapped_column(default=dict)
