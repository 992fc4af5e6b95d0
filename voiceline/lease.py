"""The worker lease: a running worker's heartbeat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from voiceline.orm import Base


class WorkerLease(Base):
    """A running worker's heartbeat; on SQLite only one worker may hold it."""

    __tablename__ = "worker_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]
