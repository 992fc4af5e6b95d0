"""Admin users, the audit log and notices an admin must see."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from voiceline.orm import AppendOnly, Base


class AdminNotice(Base):
    """Something an admin must see: an unreachable analyst, an exhausted escalation."""

    __tablename__ = "admin_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), nullable=True)
    analyst_id: Mapped[int | None] = mapped_column(ForeignKey("analysts.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(String(500))
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)


class AdminUser(Base):
    """Someone who may log in to /admin."""

    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    # Each login cookie carries the generation it was issued under; logout moves it on,
    # which refuses every cookie issued before (copies included) on the server side.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")


class AuditEntry(AppendOnly, Base):
    """Who changed what in the directory, from the admin page or the CLI."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
