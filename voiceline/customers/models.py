"""Customers, their authorized contacts, plans and targets, and service settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
