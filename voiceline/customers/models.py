"""Customers, their authorized contacts, plans and targets, and service settings."""

from __future__ import annotations

import secrets
from itertools import chain
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    event,
    insert,
    update,
)
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, relationship

from voiceline.orm import Base

if TYPE_CHECKING:  # the policy table belongs to escalation; a string resolves it at run time
    from escalation.models import EscalationPolicy


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


class ServiceSetting(Base):
    """A service-wide setting from the directory (line numbers, service name)."""

    __tablename__ = "service_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DirectoryVersion(Base):
    """One row whose ``version`` changes in every transaction that changes the directory.

    Each process keeps what callers need from the directory in memory
    (``voiceline.customers.directory_cache``) and compares this value once a call; any
    change, by a directory load or an admin's edit in another process, is seen by the
    next call. The value is random, compared for equality only, so a restored backup or a
    re-created row can never bring back a version a process still holds.
    """

    __tablename__ = "directory_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


# The tables whose rows a caller's answer is made of: contacts, customers, plans, targets
# and the service block. Writes to them through a Session, by the unit of work or by an
# ORM-enabled insert/update/delete (the directory loader's bulk statements), bump the
# version in the same transaction. A write that bypasses the Session (raw SQL on a
# connection) is not seen: none in the product does.
_DIRECTORY_MODELS = (Contact, Customer, Plan, PlanTarget, ServiceSetting)
DIRECTORY_TABLES = frozenset(model.__table__ for model in _DIRECTORY_MODELS)


def bump_directory_version(session: Session) -> None:
    """Give the directory a new version in ``session``'s transaction (creating the row)."""
    version = secrets.randbits(62)
    connection = session.connection()
    if not connection.execute(update(DirectoryVersion).values(version=version)).rowcount:
        connection.execute(insert(DirectoryVersion).values(id=1, version=version))


@event.listens_for(Session, "before_flush")
def _directory_flushed(session: Session, _context: object, _instances: object) -> None:
    changed = chain(session.new, session.dirty, session.deleted)
    if any(isinstance(obj, _DIRECTORY_MODELS) for obj in changed):
        bump_directory_version(session)


@event.listens_for(Session, "do_orm_execute")
def _directory_written(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is not None and table in DIRECTORY_TABLES:
            bump_directory_version(state.session)
