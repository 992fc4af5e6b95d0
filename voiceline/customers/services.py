"""Customers as the line sees them: who is calling, their calendar and their plan's terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from voiceline.customers.business_time import BusinessCalendar, add_business_time
from voiceline.customers.entitlement import PlanTerms
from voiceline.customers.models import Contact, Customer, Plan, ServiceSetting
from voiceline.hours import parse_hours

DEFAULT_BUSINESS_HOURS = "mon-fri 09:00-17:00"


@dataclass(frozen=True)
class Caller:
    """Who is on the line: a known contact (maybe not authorized), or nobody we know."""

    number: str | None
    contact: Contact | None
    customer: Customer | None

    @property
    def is_authorized(self) -> bool:
        """Return True when the caller may open incidents on the customer's plan."""
        return self.contact is not None and self.contact.is_authorized


@dataclass(frozen=True)
class Target:
    """A plan's promise for one priority: minutes on a wall or business clock."""

    minutes: int
    clock: str  # wall | business

    def deadline(self, start: datetime, calendar: BusinessCalendar) -> datetime:
        """Return when the promise falls due for a clock started at ``start``."""
        if self.clock == "business":
            return add_business_time(start, timedelta(minutes=self.minutes), calendar)
        return start + timedelta(minutes=self.minutes)

    def phrase(self) -> str:
        """Return the promise as a caller hears it, e.g. '30 minutes', '4 business hours'."""
        hours, minutes = divmod(self.minutes, 60)
        parts = []
        if hours:
            parts.append(
                f"{hours} {'business ' if self.clock == 'business' else ''}hour"
                + ("s" if hours != 1 else "")
            )
        if minutes:
            business = "business " if self.clock == "business" and not hours else ""
            parts.append(f"{minutes} {business}minute" + ("s" if minutes != 1 else ""))
        return " and ".join(parts) or "a few minutes"


def find_caller(session: Session, number: str | None) -> Caller:
    """Match an E.164 caller ID to a contact and customer."""
    if number is None:
        return Caller(None, None, None)
    # One statement: the call flow reads the contact's customer, plan and targets at once.
    query = (
        select(Contact)
        .filter_by(phone=number)
        .options(joinedload(Contact.customer).joinedload(Customer.plan).joinedload(Plan.targets))
    )
    contact = session.scalars(query).unique().one_or_none()
    if contact is None:
        return Caller(number, None, None)
    return Caller(number, contact, contact.customer)


def calendar_for(customer: Customer) -> BusinessCalendar:
    """Return the customer's business calendar: hours, zone, holidays and closures."""
    hours = customer.business_hours or customer.plan.business_hours or DEFAULT_BUSINESS_HOURS
    return BusinessCalendar(
        time_zone=customer.time_zone,
        hours=parse_hours(hours),
        holiday_country=customer.holiday_country,
        holiday_subdivision=customer.holiday_subdivision,
        closures=frozenset(date.fromisoformat(d) for d in customer.closures or []),
    )


def service_calendar(service: dict[str, Any]) -> BusinessCalendar:
    """Return the support firm's own calendar, for callers we cannot match to a customer."""
    country = service.get("holiday_country")
    return BusinessCalendar(
        time_zone=str(service.get("time_zone", "America/Los_Angeles")),
        hours=parse_hours(service.get("business_hours", DEFAULT_BUSINESS_HOURS)),
        holiday_country=str(country) if country else None,
        holiday_subdivision=service.get("holiday_subdivision"),
    )


def plan_terms_for(plan: Plan) -> PlanTerms:
    """Return the pure terms of ``plan`` that the entitlement decision reads."""
    emergency = target_for(plan, "emergency")
    return PlanTerms(
        code=plan.code,
        name=plan.name,
        after_hours_cover=plan.after_hours_cover,
        cover_hours=parse_hours(plan.cover_hours or "none"),
        callback_target=timedelta(minutes=emergency.minutes) if emergency else None,
        billable_emergency=plan.billable_emergency,
        billable_rate=plan.billable_rate,
    )


def target_for(plan: Plan, priority: str, metric: str = "callback") -> Target | None:
    """Return the plan's target for ``priority``, falling back to its callback target."""
    for target in plan.targets:
        if target.metric == metric and target.priority == priority:
            return Target(target.minutes, target.clock)
    if metric == "callback" and priority == "emergency" and plan.callback_target_minutes:
        return Target(plan.callback_target_minutes, "wall")
    return None


def service_settings(session: Session) -> dict[str, Any]:
    """Return the directory's service block (name, line numbers, options)."""
    row = session.get(ServiceSetting, "service")
    return dict(row.value) if row is not None else {}
