"""The database schema: typed SQLAlchemy 2.0 models.

Times are stored as timezone-aware UTC. Schema changes go through Alembic migrations in
``voiceline/migrations``; ``voiceline db upgrade`` applies them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime that refuses naive values and always comes back aware in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite keeps no offset
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


# --- the directory: plans, customers, contacts, analysts, rotas, policies -------------


class Plan(Base):
    """An entitlement: what a customer is promised, in and out of business hours."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    business_hours: Mapped[list[Any]] = mapped_column(default=list)
    after_hours_cover: Mapped[bool] = mapped_column(Boolean, default=False)
    cover_hours: Mapped[list[Any]] = mapped_column(default=list)
    callback_target_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    billable_emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    billable_rate: Mapped[str | None] = mapped_column(String(32), nullable=True)
    monthly_fee: Mapped[str | None] = mapped_column(String(32), nullable=True)
    credit_rule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prompts: Mapped[dict[str, Any]] = mapped_column(default=dict)

    targets: Mapped[list[PlanTarget]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanTarget.id"
    )
    customers: Mapped[list[Customer]] = relationship(back_populates="plan")


class PlanTarget(Base):
    """One promise of a plan: a metric for a priority within a duration."""

    __tablename__ = "plan_targets"
    __table_args__ = (UniqueConstraint("plan_id", "metric", "priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(32))  # callback | restoration
    priority: Mapped[str] = mapped_column(String(32))  # emergency | standard | billable | ...
    minutes: Mapped[int] = mapped_column(Integer)
    clock: Mapped[str] = mapped_column(String(16))  # wall | business
    pausable: Mapped[bool] = mapped_column(Boolean, default=False)

    plan: Mapped[Plan] = relationship(back_populates="targets")


class Customer(Base):
    """A support firm's customer, with its time zone, holidays and plan."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    holiday_country: Mapped[str | None] = mapped_column(String(8), nullable=True)
    holiday_subdivision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    closures: Mapped[list[Any]] = mapped_column(default=list)
    business_hours: Mapped[list[Any] | None] = mapped_column(nullable=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    escalation_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalation_policies.id"), nullable=True
    )
    desk_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    prompts: Mapped[dict[str, Any]] = mapped_column(default=dict)

    plan: Mapped[Plan] = relationship(back_populates="customers")
    escalation_policy: Mapped[EscalationPolicy | None] = relationship()
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Contact.id"
    )


class Contact(Base):
    """A person at a customer; authorized contacts may open emergencies by phone."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    role: Mapped[str] = mapped_column(String(32), default="primary")
    is_authorized: Mapped[bool] = mapped_column(Boolean, default=True)

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class Analyst(Base):
    """A support analyst who can be on call and paged."""

    __tablename__ = "analysts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)

    contact_methods: Mapped[list[ContactMethod]] = relationship(
        back_populates="analyst", cascade="all, delete-orphan", order_by="ContactMethod.id"
    )


class ContactMethod(Base):
    """A way to page an analyst: SMS or voice to an E.164 number."""

    __tablename__ = "contact_methods"
    __table_args__ = (UniqueConstraint("analyst_id", "kind", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    analyst_id: Mapped[int] = mapped_column(ForeignKey("analysts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # sms | voice
    address: Mapped[str] = mapped_column(String(20))
    is_opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(nullable=True)

    analyst: Mapped[Analyst] = relationship(back_populates="contact_methods")


class Rotation(Base):
    """An ordered list of analysts taking turns, restricted to weekly windows."""

    __tablename__ = "rotations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    shift_length: Mapped[str] = mapped_column(String(16))  # 1w, 1d, 12h
    handoff_anchor: Mapped[str] = mapped_column(String(32))  # local wall time, ISO
    hours: Mapped[list[Any] | None] = mapped_column(nullable=True)  # None = always
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)

    members: Mapped[list[RotationMember]] = relationship(
        back_populates="rotation",
        cascade="all, delete-orphan",
        order_by="RotationMember.position",
    )
    overrides: Mapped[list[Override]] = relationship(
        back_populates="rotation", cascade="all, delete-orphan", order_by="Override.starts_at"
    )


class RotationMember(Base):
    """An analyst's place in a rotation."""

    __tablename__ = "rotation_members"
    __table_args__ = (UniqueConstraint("rotation_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"))
    analyst_id: Mapped[int] = mapped_column(ForeignKey("analysts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)

    rotation: Mapped[Rotation] = relationship(back_populates="members")
    analyst: Mapped[Analyst] = relationship()


class Override(Base):
    """Someone covers a rotation (or a named member of it) from starts_at to ends_at."""

    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"))
    analyst_id: Mapped[int] = mapped_column(ForeignKey("analysts.id", ondelete="CASCADE"))
    replaces_analyst_id: Mapped[int | None] = mapped_column(
        ForeignKey("analysts.id", ondelete="CASCADE"), nullable=True
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)

    rotation: Mapped[Rotation] = relationship(back_populates="overrides")
    analyst: Mapped[Analyst] = relationship(foreign_keys=[analyst_id])
    replaces: Mapped[Analyst | None] = relationship(foreign_keys=[replaces_analyst_id])


class EscalationPolicy(Base):
    """Ordered escalation steps; the JSON form is what an incident snapshots."""

    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    steps: Mapped[list[Any]] = mapped_column(default=list)


# --- the line: calls, recordings, incidents ---------------------------------------------


class Call(Base):
    """A phone call Twilio told us about, inbound or outbound."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    from_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), nullable=True)
    route: Mapped[str | None] = mapped_column(String(32), nullable=True)
    choice: Mapped[str | None] = mapped_column(String(32), nullable=True)
    billable_consent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)
    status: Mapped[str | None] = mapped_column(String(32), nullable=True)


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


class IncidentEvent(Base):
    """One line of an incident's append-only log."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    incident: Mapped[Incident] = relationship(back_populates="events")


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


class SlaClock(Base):
    """One promise kept or broken: a plan target measured for one incident."""

    __tablename__ = "sla_clocks"
    __table_args__ = (UniqueConstraint("incident_id", "metric"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
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


class SmsReplyLog(Base):
    """Help replies sent to a number, so unknown senders are answered at a limited rate."""

    __tablename__ = "sms_reply_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))


# --- administration --------------------------------------------------------------------


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


class AuditEntry(Base):
    """Who changed what in the directory, from the admin page or the CLI."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ServiceSetting(Base):
    """A service-wide setting from the directory (line numbers, service name)."""

    __tablename__ = "service_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)


class WorkerLease(Base):
    """A running worker's heartbeat; on SQLite only one worker may hold it."""

    __tablename__ = "worker_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]


# The incident log and audit log are append-only: refuse updates and deletes in the ORM.
@event.listens_for(Session, "before_flush")
def _refuse_rewriting_history(session: Session, flush_context: object, instances: object) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, IncidentEvent | AuditEntry) and (
            obj in session.deleted or session.is_modified(obj)
        ):
            raise ValueError(f"{type(obj).__name__} rows are append-only")
