"""The directory as a file: load customers, plans, analysts, rotas and policies from YAML
idempotently, and dump them back in the same format.

Loading creates or updates by code (contacts by phone number) and never deletes; a
second load of the same file changes nothing. The file is checked whole first
(``directory_file``), then applied in the caller's transaction with a few statements
per table: the rows are read once, compared in memory, and written in bulk, so a
directory of a hundred thousand contacts loads in seconds.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from escalation.models import EscalationPolicy
from escalation.policy import policy_to_dict
from oncall.models import Analyst, ContactMethod, Rotation, RotationMember
from voiceline.admin.models import AuditEntry
from voiceline.clock import SystemClock
from voiceline.customers.models import Contact, Customer, Plan, PlanTarget, ServiceSetting
from voiceline.directory.checker import Node, parse_minutes, policy_of_node
from voiceline.directory.dump import dump_directory, dump_directory_yaml
from voiceline.hours import parse_hours

__all__ = ["Changes", "apply_directory", "dump_directory", "dump_directory_yaml", "load_directory"]


@dataclass
class Changes:
    """What a load created or updated, for the operator and the audit log."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set, repr=False, compare=False)

    def create(self, label: str) -> None:
        """Record that ``label`` was created."""
        self._seen.add(label)
        self.created.append(label)

    def touch(self, label: str) -> None:
        """Record that ``label`` changed, once."""
        if label not in self._seen:
            self._seen.add(label)
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


def _sync(
    session: Session,
    model: Any,
    wanted: Mapping[str, dict[str, Any]],
    label: Callable[[str], str],
    changes: Changes,
    key: str = "code",
    on_create: Callable[[], dict[str, Any]] = dict,
) -> dict[str, int]:
    """Make the rows of ``model`` keyed by ``key`` hold ``wanted``; return every key's id."""
    names = sorted({name for values in wanted.values() for name in values})
    columns = [getattr(model, name) for name in (key, "id", *names)]
    existing = {row[0]: row for row in session.execute(select(*columns))}
    inserts, updates = [], []
    for natural, values in wanted.items():
        row = existing.get(natural)
        if row is None:
            inserts.append({key: natural, **values, **on_create()})
            changes.create(label(natural))
        elif any(getattr(row, name) != value for name, value in values.items()):
            updates.append({"id": row.id, **values})
            changes.touch(label(natural))
    _write(session, model, inserts, updates)
    key_column = getattr(model, key)
    return {natural: id_ for natural, id_ in session.execute(select(key_column, model.id))}


def _write(
    session: Session, model: Any, inserts: list[dict[str, Any]], updates: list[dict[str, Any]]
) -> None:
    """Insert and update rows with one executemany each, straight on the table."""
    # The ORM's bulk paths cost as much per row as reading the file: use the table.
    table = model.__table__
    if inserts:
        session.execute(insert(table), inserts)
    names = sorted({name for row in updates for name in row if name != "id"})
    if updates:
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({name: bindparam(f"new_{name}") for name in names})
        )
        session.execute(
            statement,
            [{"row_id": row["id"], **{f"new_{n}": row[n] for n in names}} for row in updates],
        )


def _token() -> dict[str, Any]:
    return {"calendar_token": secrets.token_urlsafe(24)}


def _give_tokens(session: Session, model: Any) -> None:
    """Give a calendar-feed token to rows that have none (made before tokens existed)."""
    for (id_,) in session.execute(select(model.id).where(model.calendar_token.is_(None))):
        session.execute(update(model).where(model.id == id_).values(**_token()))


def _hours_value(spec: Any) -> list[Any]:
    return [w.spec() for w in parse_hours(spec)]


def _anchor(value: Any) -> str:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="minutes")
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day).isoformat(timespec="minutes")
    return datetime.fromisoformat(str(value)).isoformat(timespec="minutes")


def _items(data: Node, section: str) -> list[Any]:
    return list(data.get(section) or [])


def _plans(session: Session, data: Node, changes: Changes) -> None:
    wanted: dict[str, dict[str, Any]] = {}
    for node in _items(data, "plans"):
        cb = node.get("callback_target")
        wanted[node["code"]] = {
            "name": node["name"],
            "business_hours": _hours_value(node.get("business_hours", "mon-fri 09:00-17:00")),
            "after_hours_cover": bool(node.get("after_hours_cover", False)),
            "cover_hours": _hours_value(node.get("cover_hours", "none")),
            "callback_target_minutes": parse_minutes(cb) if cb is not None else None,
            "billable_emergency": bool(node.get("billable_emergency", False)),
            "billable_rate": str(node["billable_rate"]) if node.get("billable_rate") else None,
            "monthly_fee": str(node["monthly_fee"]) if node.get("monthly_fee") else None,
            "credit_rule": dict(node.get("credit") or {}),
            "prompts": dict(node.get("prompts") or {}),
        }
    ids = _sync(session, Plan, wanted, lambda code: f"plan {code}", changes)
    targets = {
        ids[node["code"]]: [
            ((t["metric"], t["priority"]), _target(t)) for t in node.get("targets") or []
        ]
        for node in _items(data, "plans")
    }
    names = {ids[code]: f"plan {code}" for code in wanted}
    _sync_children(session, PlanTarget, "plan_id", ("metric", "priority"), targets, names, changes)


def _target(node: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "minutes": parse_minutes(node["within"]),
        "clock": node.get("clock", "wall"),
        "pausable": bool(node.get("pausable", False)),
    }


def _sync_children(
    session: Session,
    model: Any,
    parent: str,
    key: tuple[str, ...],
    wanted: Mapping[int, list[tuple[tuple[Any, ...], dict[str, Any]]]],
    names: Mapping[int, str],
    changes: Changes,
    created: Mapping[str, Any] | None = None,
) -> None:
    """Make each parent's children (by ``key`` columns) hold ``wanted``, deleting the rest."""
    value_names = sorted(
        {n for children in wanted.values() for _, values in children for n in values}
    )
    columns = [getattr(model, n) for n in ("id", parent, *key, *value_names)]
    have: dict[int, dict[tuple[Any, ...], Any]] = {}
    for row in session.execute(select(*columns)):
        have.setdefault(getattr(row, parent), {})[tuple(getattr(row, k) for k in key)] = row
    removed: list[int] = []
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for parent_id, children in wanted.items():
        rows = have.get(parent_id, {})
        keep = {child_key for child_key, _ in children}
        for child_key, row in rows.items():
            if child_key not in keep:
                removed.append(row.id)
                changes.touch(names[parent_id])
        for child_key, values in dict(children).items():
            found = rows.get(child_key)
            if found is None:
                inserts.append(
                    {parent: parent_id, **dict(zip(key, child_key, strict=True)), **values}
                )
                inserts[-1].update(created or {})
                changes.touch(names[parent_id])
            elif any(getattr(found, n) != v for n, v in values.items()):
                updates.append({"id": found.id, **values})
                changes.touch(names[parent_id])
    if removed:
        session.execute(delete(model).where(model.id.in_(removed)))
    _write(session, model, inserts, updates)


def _analysts(session: Session, data: Node, changes: Changes) -> dict[str, int]:
    nodes = _items(data, "analysts")
    wanted = {n["code"]: {"name": n["name"], "email": n.get("email")} for n in nodes}
    ids = _sync(session, Analyst, wanted, lambda code: f"analyst {code}", changes, on_create=_token)
    _give_tokens(session, Analyst)
    methods: dict[int, list[tuple[tuple[Any, ...], dict[str, Any]]]] = {
        ids[node["code"]]: [(pair, {}) for pair in _numbers(node)] for node in nodes
    }
    names = {ids[code]: f"analyst {code}" for code in wanted}
    _sync_children(
        session,
        ContactMethod,
        "analyst_id",
        ("kind", "address"),
        methods,
        names,
        changes,
        created={"is_opted_out": False},
    )
    return ids


def _numbers(node: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return an analyst's (kind, number) pairs; the numbers are E.164 already."""
    pairs = {(kind, node.get(kind) or node.get("phone")) for kind in ("sms", "voice")}
    return sorted((kind, number) for kind, number in pairs if number)


def _rotations(session: Session, data: Node, analysts: dict[str, int], changes: Changes) -> None:
    nodes = _items(data, "rotations")
    wanted = {
        n["code"]: {
            "name": n["name"],
            "time_zone": n["time_zone"],
            "shift_length": n.get("shift", "1w"),
            "handoff_anchor": _anchor(n.get("handoff", "2026-01-05T08:00")),
            "hours": _hours_value(n["hours"]) if n.get("hours") is not None else None,
        }
        for n in nodes
    }
    ids = _sync(
        session, Rotation, wanted, lambda code: f"rotation {code}", changes, on_create=_token
    )
    _give_tokens(session, Rotation)
    have: dict[int, list[int]] = {}
    query = select(RotationMember.rotation_id, RotationMember.analyst_id).order_by(
        RotationMember.rotation_id, RotationMember.position
    )
    for rotation_id, analyst_id in session.execute(query):
        have.setdefault(rotation_id, []).append(analyst_id)
    for node in nodes:
        rotation_id = ids[node["code"]]
        members = [analysts[m] for m in node.get("members") or []]
        if have.get(rotation_id, []) == members:
            continue
        session.execute(delete(RotationMember).where(RotationMember.rotation_id == rotation_id))
        rows = [
            {"rotation_id": rotation_id, "analyst_id": a, "position": i}
            for i, a in enumerate(members)
        ]
        _write(session, RotationMember, rows, [])
        changes.touch(f"rotation {node['code']}")


def _policies(session: Session, data: Node, changes: Changes) -> dict[str, int]:
    wanted = {}
    for node in _items(data, "policies"):
        # Stored in the engine's own form, which an incident snapshots as it stands.
        checked = policy_to_dict(policy_of_node(node))
        wanted[node["code"]] = {
            "name": node["name"],
            "repeat": int(checked["repeat"]),
            "steps": checked["steps"],
        }
    return _sync(session, EscalationPolicy, wanted, lambda code: f"policy {code}", changes)


def _customers(session: Session, data: Node, policies: dict[str, int], changes: Changes) -> None:
    plans = {code: id_ for code, id_ in session.execute(select(Plan.code, Plan.id))}
    nodes = _items(data, "customers")
    wanted = {}
    for node in nodes:
        hol = node.get("holidays") or {}
        policy_code = node.get("escalation_policy")
        wanted[node["code"]] = {
            "name": node["name"],
            "time_zone": node["time_zone"],
            "holiday_country": hol.get("country") or None,
            "holiday_subdivision": hol.get("subdivision") or None,
            "closures": sorted(d.isoformat() for d in node.get("closures") or []),
            "business_hours": (
                _hours_value(node["business_hours"]) if node.get("business_hours") else None
            ),
            "plan_id": plans[node["plan"]],
            "escalation_policy_id": policies[policy_code] if policy_code else None,
            "desk_number": node.get("desk_number") or None,
            "prompts": dict(node.get("prompts") or {}),
        }
    ids = _sync(session, Customer, wanted, lambda code: f"customer {code}", changes)
    contacts = {
        contact["phone"]: {
            "customer_id": ids[node["code"]],
            "name": contact["name"],
            "role": contact.get("role", "primary"),
            "is_authorized": bool(contact.get("authorized", True)),
        }
        for node in nodes
        for contact in node.get("contacts") or []
    }
    _sync(session, Contact, contacts, lambda phone: f"contact {phone}", changes, key="phone")


def _service(session: Session, data: Node, changes: Changes) -> None:
    service = data.get("service")
    if not service:
        return
    value = dict(service)
    setting = session.get(ServiceSetting, "service")
    if setting is None:
        session.add(ServiceSetting(key="service", value=value))
        changes.create("service")
    elif setting.value != value:
        setting.value = value
        changes.touch("service")


def apply_directory(session: Session, data: Node) -> Changes:
    """Create or update everything in ``data`` (checked), without an audit entry."""
    changes = Changes()
    session.flush()
    _service(session, data, changes)
    _plans(session, data, changes)
    analysts = _analysts(session, data, changes)
    _rotations(session, data, analysts, changes)
    policies = _policies(session, data, changes)
    _customers(session, data, policies, changes)
    session.flush()
    # Rows changed by bulk statements: objects this session already held are stale.
    session.expire_all()
    return changes


def load_directory(session: Session, data: Node, actor: str = "cli") -> Changes:
    """Create or update everything in ``data``, as read_directory_* returned it (checked)."""
    changes = apply_directory(session, data)
    if changes.count:
        session.add(
            AuditEntry(
                at=SystemClock().now(),
                actor=actor,
                action="directory.load",
                subject="directory",
                detail={"created": changes.created, "updated": changes.updated},
            )
        )
    return changes
