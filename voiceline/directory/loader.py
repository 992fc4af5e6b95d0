"""The directory as a file: load customers, plans, analysts, rotas and policies from YAML
idempotently, and dump them back in the same format.

Loading creates or updates by code (contacts by phone number) and never deletes; a
second load of the same file changes nothing. The file is checked whole first
(``directory_file``), then applied in the caller's transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.models import EscalationPolicy
from escalation.policy import policy_to_dict
from oncall.models import Analyst, ContactMethod, Rotation, RotationMember
from voiceline.admin.models import AuditEntry
from voiceline.customers.models import Contact, Customer, Plan, PlanTarget, ServiceSetting
from voiceline.directory.checker import Node, format_minutes, parse_minutes, policy_of_node
from voiceline.hours import format_hours, parse_hours
from voiceline.phones import to_e164


@dataclass
class Changes:
    """What a load created or updated, for the operator and the audit log."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)

    def touch(self, label: str) -> None:
        """Record that ``label`` changed, once."""
        if label not in self.created and label not in self.updated:
            self.updated.append(label)

    @property
    def count(self) -> int:
        """Return how many things changed."""
        return len(self.created) + len(self.updated)

    def summary(self) -> str:
        """Return one line saying what changed."""
        if not self.count:
            return "directory unchanged"
        return f"{len(self.created)} created, {len(self.updated)} updated"


def _set(obj: Any, changes: Changes, label: str, **values: Any) -> None:
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    for name in changed:
        setattr(obj, name, values[name])
    if changed:
        changes.touch(label)


def _get_or_new(session: Session, model: Any, changes: Changes, label: str, **key: Any) -> Any:
    obj = session.scalars(select(model).filter_by(**key)).one_or_none()
    if obj is None:
        obj = model(**key)
        session.add(obj)
        changes.created.append(label)
    return obj


def _hours_value(spec: Any) -> list[Any]:
    return [w.spec() for w in parse_hours(spec)]


def _anchor(value: Any) -> str:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="minutes")
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day).isoformat(timespec="minutes")
    return datetime.fromisoformat(str(value)).isoformat(timespec="minutes")


def load_directory(session: Session, data: Node, actor: str = "cli") -> Changes:
    """Create or update everything in the checked directory ``data``."""
    changes = Changes()
    service = data.get("service") or {}
    region = str(service.get("default_region", "US"))
    if service:
        setting = _get_or_new(session, ServiceSetting, changes, "service", key="service")
        value = {k: v for k, v in service.items()}
        for key in ("emergency_number", "desk_number"):
            if value.get(key):
                value[key] = to_e164(str(value[key]), region)
        _set(setting, changes, "service", value=value)

    for node in data.get("plans") or []:
        label = f"plan {node['code']}"
        plan = _get_or_new(session, Plan, changes, label, code=str(node["code"]))
        cb = node.get("callback_target")
        _set(
            plan,
            changes,
            label,
            name=str(node["name"]),
            business_hours=_hours_value(node.get("business_hours", "mon-fri 09:00-17:00")),
            after_hours_cover=bool(node.get("after_hours_cover", False)),
            cover_hours=_hours_value(node.get("cover_hours", "none")),
            callback_target_minutes=parse_minutes(cb) if cb is not None else None,
            billable_emergency=bool(node.get("billable_emergency", False)),
            billable_rate=str(node["billable_rate"]) if node.get("billable_rate") else None,
            monthly_fee=str(node["monthly_fee"]) if node.get("monthly_fee") else None,
            credit_rule=dict(node.get("credit") or {}),
            prompts=dict(node.get("prompts") or {}),
        )
        wanted = {(str(t["metric"]), str(t["priority"])): t for t in node.get("targets") or []}
        for target in list(plan.targets):
            if (target.metric, target.priority) not in wanted:
                plan.targets.remove(target)
                changes.touch(label)
        existing = {(t.metric, t.priority): t for t in plan.targets}
        for pair, t in wanted.items():
            target = existing.get(pair)
            if target is None:
                target = PlanTarget(metric=pair[0], priority=pair[1])
                plan.targets.append(target)
                changes.touch(label)
            _set(
                target,
                changes,
                label,
                minutes=parse_minutes(t["within"]),
                clock=str(t.get("clock", "wall")),
                pausable=bool(t.get("pausable", False)),
            )
    session.flush()

    for node in data.get("analysts") or []:
        label = f"analyst {node['code']}"
        analyst = _get_or_new(session, Analyst, changes, label, code=str(node["code"]))
        _set(analyst, changes, label, name=str(node["name"]), email=node.get("email"))
        if analyst.calendar_token is None:
            analyst.calendar_token = secrets.token_urlsafe(24)
        wanted_methods = set()
        for kind in ("sms", "voice"):
            number = node.get(kind) or node.get("phone")
            if number:
                wanted_methods.add((kind, to_e164(str(number), region)))
        have = {(m.kind, m.address): m for m in analyst.contact_methods}
        for method_key, method in have.items():
            if method_key not in wanted_methods:
                analyst.contact_methods.remove(method)
                changes.touch(label)
        for kind, address in sorted(wanted_methods - set(have)):
            analyst.contact_methods.append(ContactMethod(kind=kind, address=address))
            changes.touch(label)
    session.flush()
    analysts = {a.code: a for a in session.scalars(select(Analyst))}

    for node in data.get("rotations") or []:
        label = f"rotation {node['code']}"
        rotation = _get_or_new(session, Rotation, changes, label, code=str(node["code"]))
        _set(
            rotation,
            changes,
            label,
            name=str(node["name"]),
            time_zone=str(node["time_zone"]),
            shift_length=str(node.get("shift", "1w")),
            handoff_anchor=_anchor(node.get("handoff", "2026-01-05T08:00")),
            hours=_hours_value(node["hours"]) if node.get("hours") is not None else None,
        )
        if rotation.calendar_token is None:
            rotation.calendar_token = secrets.token_urlsafe(24)
        wanted_ids = [analysts[str(m)].id for m in node.get("members") or []]
        if [m.analyst_id for m in rotation.members] != wanted_ids:
            rotation.members.clear()
            session.flush()
            for position, analyst_id in enumerate(wanted_ids):
                rotation.members.append(RotationMember(analyst_id=analyst_id, position=position))
            changes.touch(label)
    session.flush()

    for node in data.get("policies") or []:
        label = f"policy {node['code']}"
        policy = _get_or_new(session, EscalationPolicy, changes, label, code=str(node["code"]))
        # Stored in the engine's own form, which an incident snapshots as it stands.
        checked = policy_to_dict(policy_of_node(node))
        _set(
            policy,
            changes,
            label,
            name=str(node["name"]),
            repeat=int(checked["repeat"]),
            steps=checked["steps"],
        )
    session.flush()
    plans = {p.code: p for p in session.scalars(select(Plan))}
    policies = {p.code: p for p in session.scalars(select(EscalationPolicy))}

    for node in data.get("customers") or []:
        label = f"customer {node['code']}"
        customer = _get_or_new(session, Customer, changes, label, code=str(node["code"]))
        hol = node.get("holidays") or {}
        policy_code = node.get("escalation_policy")
        _set(
            customer,
            changes,
            label,
            name=str(node["name"]),
            time_zone=str(node["time_zone"]),
            holiday_country=str(hol["country"]) if hol.get("country") else None,
            holiday_subdivision=str(hol["subdivision"]) if hol.get("subdivision") else None,
            closures=sorted(d.isoformat() for d in node.get("closures") or []),
            business_hours=(
                _hours_value(node["business_hours"]) if node.get("business_hours") else None
            ),
            plan_id=plans[str(node["plan"])].id,
            escalation_policy_id=policies[str(policy_code)].id if policy_code else None,
            desk_number=to_e164(str(node["desk_number"]), region)
            if node.get("desk_number")
            else None,
            prompts=dict(node.get("prompts") or {}),
        )
        session.flush()
        contact_region = str(node.get("region", region))
        for c in node.get("contacts") or []:
            phone = to_e164(str(c["phone"]), contact_region)
            clabel = f"contact {phone}"
            contact = session.scalars(select(Contact).filter_by(phone=phone)).one_or_none()
            if contact is None:
                contact = Contact(phone=phone, customer_id=customer.id)
                session.add(contact)
                changes.created.append(clabel)
            _set(
                contact,
                changes,
                clabel,
                customer_id=customer.id,
                name=str(c["name"]),
                role=str(c.get("role", "primary")),
                is_authorized=bool(c.get("authorized", True)),
            )
    session.flush()
    if changes.count:
        session.add(
            AuditEntry(
                at=datetime.now(UTC),
                actor=actor,
                action="directory.load",
                subject="directory",
                detail={"created": changes.created, "updated": changes.updated},
            )
        )
    return changes


def _hours_out(value: list[Any] | None) -> Any:
    return format_hours(parse_hours(value)) if value is not None else None


def dump_directory(session: Session) -> dict[str, Any]:
    """Return the directory in the YAML structure load_directory reads."""
    out: dict[str, Any] = {}
    service = session.get(ServiceSetting, "service")
    if service is not None and service.value:
        out["service"] = dict(service.value)
    out["plans"] = []
    for plan in session.scalars(select(Plan).order_by(Plan.code)):
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
        out["plans"].append(item)
    out["analysts"] = []
    for analyst in session.scalars(select(Analyst).order_by(Analyst.code)):
        a: dict[str, Any] = {"code": analyst.code, "name": analyst.name}
        if analyst.email:
            a["email"] = analyst.email
        for method in analyst.contact_methods:
            a[method.kind] = method.address
        out["analysts"].append(a)
    out["rotations"] = []
    for rotation in session.scalars(select(Rotation).order_by(Rotation.code)):
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
        out["rotations"].append(r)
    out["policies"] = []
    for policy in session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.code)):
        out["policies"].append(
            {
                "code": policy.code,
                "name": policy.name,
                "repeat": policy.repeat,
                "steps": policy.steps,
            }
        )
    out["customers"] = []
    for customer in session.scalars(select(Customer).order_by(Customer.code)):
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
        cu["contacts"] = [
            {
                "name": c.name,
                "phone": c.phone,
                "role": c.role,
                **({} if c.is_authorized else {"authorized": False}),
            }
            for c in customer.contacts
        ]
        out["customers"].append(cu)
    return out


def dump_directory_yaml(session: Session) -> str:
    """Return the directory as YAML text."""
    return yaml.safe_dump(dump_directory(session), sort_keys=False, allow_unicode=True)
