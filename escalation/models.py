"""Escalation policies, pages, acknowledgements and what Twilio told us about them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from voiceline.orm import Base


class EscalationPolicy(Base):
    """Ordered escalation steps; the JSON form is what an incident snapshots."""

    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    steps: Mapped[list[Any]] = mapped_column(default=list)


class Page(Base):
    """One notification to one analyst on one channel; page_key makes it exactly-once."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    page_key: Mapped[str] = mapped_column(String(128))
    analyst_id: Mapped[int | None] = mapped_column(ForeignKey("analysts.id"), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))  # sms | voice
    to_number: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(32), default="pending")
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Set on the other rows of a bundle: the row holding the message's SID, whose status
    # callbacks therefore report on this page too (``escalation.callbacks``).
    bundle_lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("pages.id"), nullable=True, index=True
    )
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (UniqueConstraint("incident_id", "page_key"),)


class Acknowledgement(Base):
    """An analyst taking an incident."""

    __tablename__ = "acknowledgements"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    analyst_id: Mapped[int] = mapped_column(ForeignKey("analysts.id"))
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"), nullable=True)
    via: Mapped[str] = mapped_column(String(16))  # sms | voice | web
    at: Mapped[datetime]


class WebhookReceipt(Base):
    """A Twilio callback already handled, so retries and duplicates change nothing."""

    __tablename__ = "webhook_receipts"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime]


class SmsReplyLog(Base):
    """Help replies sent to a number, so unknown senders are answered at a limited rate."""

    __tablename__ = "sms_reply_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
