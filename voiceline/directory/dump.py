"""The directory as a file, outward: dump the database in the YAML format load reads."""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from escalation.models import EscalationPolicy
from oncall.models import Analyst, Rotation, RotationMember
from voiceline.customers.models import Contact, Customer, Plan, ServiceSetting
from voiceline.directory.values import format_minutes
from voiceline.hours import format_hours, parse_hours


def _hours_out(value: list[Any] | None) -> Any:
    return format_hours(parse_hours(value)) if value is not None else None


def service_entry(session: Session) -> dict[str, Any] | None:
    """Return the service block as the file writes it, or None when there is none."""
    service = session.get(ServiceSetting, "service")
    return dict(service.value) if service is not None and service.value else None


def plan_entry(plan: Plan) -> dict[str, Any]:
    """Return one plan as the file writes it."""
    item: dict[str, Any] = {
        "code": plan.code,
        "name": plan.name,
        "business_hours": _hours_out(plan.business_hours),
        "after_hours_cover": plan.after_hours_cover,
        "cover_hours": _hours_out(plan.cover_hours),
    }
    if plan.callback_target_minutes is not None:
        item["callback_target"] = format_minutes(plan.callback_target_minutes)
    item["billable_emergency"] = plan.billable_emergency
    for key in ("billable_rate", "monthly_fee"):
        if getattr(plan, key):
            item[key] = getattr(plan, key)
    if plan.credit_rule:
        item["credit"] = plan.credit_rule
    if plan.prompts:
        item["prompts"] = plan.prompts
    if plan.targets:
        item["targets"] = [
            {
                "metric": t.metric,
                "priority": t.priority,
                "within": format_minutes(t.minutes),
                "clock": t.clock,
                **({"pausable": True} if t.pausable else {}),
            }
            for t in plan.targets
        ]
    return item


def analyst_entry(analyst: Analyst) -> dict[str, Any]:
    """Return one analyst as the file writes it."""
    a: dict[str, Any] = {"code": analyst.code, "name": analyst.name}
    if analyst.email:
        a["email"] = analyst.email
    for method in analyst.contact_methods:
        a[method.kind] = method.address
    return a


def rotation_entry(rotation: Rotation) -> dict[str, Any]:
    """Return one rotation as the file writes it."""
    r: dict[str, Any] = {
        "code": rotation.code,
        "name": rotation.name,
        "time_zone": rotation.time_zone,
        "shift": rotation.shift_length,
        "handoff": rotation.handoff_anchor,
    }
    if rotation.hours is not None:
        r["hours"] = _hours_out(rotation.hours)
    r["members"] = [m.analyst.code for m in rotation.members]
    return r


def policy_entry(policy: EscalationPolicy) -> dict[str, Any]:
    """Return one escalation policy as the file writes it."""
    return {
        "code": policy.code,
        "name": policy.name,
        "repeat": policy.repeat,
        "steps": policy.steps,
    }


def contact_entry(contact: Contact) -> dict[str, Any]:
    """Return one contact as the file writes it (``authorized`` only when it is false)."""
    entry: dict[str, Any] = {"name": contact.name, "phone": contact.phone, "role": contact.role}
    return entry if contact.is_authorized else {**entry, "authorized": False}


def customer_entry(customer: Customer) -> dict[str, Any]:
    """Return one customer and its contacts as the file writes them."""
    cu: dict[str, Any] = {
        "code": customer.code,
        "name": customer.name,
        "time_zone": customer.time_zone,
        "plan": customer.plan.code,
    }
    if customer.holiday_country:
        cu["holidays"] = {"country": customer.holiday_country}
        if customer.holiday_subdivision:
            cu["holidays"]["subdivision"] = customer.holiday_subdivision
    if customer.business_hours is not None:
        cu["business_hours"] = _hours_out(customer.business_hours)
    if customer.closures:
        cu["closures"] = [date.fromisoformat(d) for d in customer.closures]
    if customer.escalation_policy is not None:
        cu["escalation_policy"] = customer.escalation_policy.code
    if customer.desk_number:
        cu["desk_number"] = customer.desk_number
    if customer.prompts:
        cu["prompts"] = customer.prompts
    cu["contacts"] = [contact_entry(c) for c in customer.contacts]
    return cu


def dump_directory(session: Session) -> dict[str, Any]:
    """Return the directory in the YAML structure load_directory reads."""
    out: dict[str, Any] = {}
    service = service_entry(session)
    if service is not None:
        out["service"] = service
    # Each kind is read with its children in one more query, not one query per row.
    plans = session.scalars(select(Plan).options(selectinload(Plan.targets)).order_by(Plan.code))
    out["plans"] = [plan_entry(p) for p in plans]
    analysts = session.scalars(
        select(Analyst).options(selectinload(Analyst.contact_methods)).order_by(Analyst.code)
    )
    out["analysts"] = [analyst_entry(a) for a in analysts]
    rotations = session.scalars(
        select(Rotation)
        .options(selectinload(Rotation.members).selectinload(RotationMember.analyst))
        .order_by(Rotation.code)
    )
    out["rotations"] = [rotation_entry(r) for r in rotations]
    policies = session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.code))
    out["policies"] = [policy_entry(p) for p in policies]
    customers = session.scalars(
        select(Customer)
        .options(
            selectinload(Customer.plan),
            selectinload(Customer.escalation_policy),
            selectinload(Customer.contacts),
        )
        .order_by(Customer.code)
    )
    out["customers"] = [customer_entry(c) for c in customers]
    return out


def dump_directory_yaml(session: Session) -> str:
    """Return the directory as YAML text."""
    return yaml.safe_dump(dump_directory(session), sort_keys=False, allow_unicode=True)
