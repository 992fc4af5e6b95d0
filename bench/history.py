"""Fill a migrated database fast: a month of closed incidents, and years of rota overrides.

Rows go in through SQLAlchemy Core bulk inserts into the real tables (the product's
models' ``__table__``), in batches, shaped like what the product writes: every incident
with its call, recording, two log lines and a stopped callback clock (met or breached,
with the credit the breach earned). Incident rows carry no escalation state.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, func, select, text

from oncall.models import Analyst, ContactMethod, Override, Rotation, RotationMember
from voiceline.customers.models import Contact, Customer
from voiceline.db import Database
from voiceline.incidents.models import Incident, IncidentEvent, Recording
from voiceline.line.models import Call
from voiceline.sla.models import SlaClock

BATCH = 5_000
POLICY = {"name": "Tier 1, then Tier 2", "repeat": 0, "code": "standard",
          "steps": [{"targets": [{"kind": "on_call", "ref": "tier1"}],
                     "channels": ["sms", "voice"], "delay_seconds": 300}]}  # fmt: skip


def _insert(conn: Connection, table: Any, rows: Iterable[dict[str, Any]]) -> int:
    """Insert ``rows`` in batches; return how many."""
    target: Table = table.__table__
    batch: list[dict[str, Any]] = []
    count = 0
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            conn.execute(target.insert(), batch)
            count += len(batch)
            batch = []
    if batch:
        conn.execute(target.insert(), batch)
        count += len(batch)
    return count


def _sync_sequence(conn: Connection, table: str) -> None:
    """After explicit ids, move PostgreSQL's id sequence past them."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
        )


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """Return the first moment of ``month`` and of the next, in UTC."""
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return (datetime.combine(month, datetime.min.time(), UTC),
            datetime.combine(following, datetime.min.time(), UTC))  # fmt: skip


def add_incident_history(database: Database, count: int, month: date, seed: int = 7) -> int:
    """Add ``count`` closed incidents whose messages fall in ``month``; return the count."""
    rng = random.Random(seed)
    with database.engine.begin() as conn:
        contacts = list(conn.execute(select(Contact.id, Contact.customer_id, Contact.phone)))
        zones = {row[0]: row[1] for row in conn.execute(select(Customer.id, Customer.time_zone))}
        acker = conn.scalar(select(Analyst.id).order_by(Analyst.id).limit(1))
        first_id = (conn.scalar(select(func.max(Incident.id))) or 0) + 1
        if not contacts:
            raise ValueError("load a directory with contacts before adding history")
        # Keep a day clear of the month's edges so every zone counts it in the same month.
        start, end = month_bounds(month)
        start, span = start + timedelta(days=1), (end - start - timedelta(days=2)).total_seconds()
        facts = []
        for n in range(count):
            contact_id, customer_id, phone = contacts[rng.randrange(len(contacts))]
            opened = start + timedelta(seconds=rng.uniform(0, span))
            # Nine in ten callbacks keep the 30-minute promise; the rest are 1 to 60 min late.
            late = rng.random() < 0.1
            delay = rng.uniform(1860, 5400) if late else rng.uniform(300, 1740)
            callback = opened + timedelta(seconds=delay)
            facts.append((first_id + n, contact_id, customer_id, phone, opened, callback))
        _insert(conn, Incident, (_incident(f, acker) for f in facts))
        _insert(conn, SlaClock, (_clock(f, zones[f[2]]) for f in facts))
        _insert(conn, Call, (_call(f) for f in facts))
        _insert(conn, Recording, (_recording(f) for f in facts))
        _insert(conn, IncidentEvent, (event for f in facts for event in _events(f)))
        _sync_sequence(conn, "incidents")
    return count


def _sid(prefix: str, n: int) -> str:
    return f"{prefix}{n:032x}"


def _incident(fact: tuple[Any, ...], acker: int | None) -> dict[str, Any]:
    incident_id, contact_id, customer_id, phone, opened, callback = fact
    return {
        "id": incident_id, "customer_id": customer_id, "contact_id": contact_id,
        "call_sid": _sid("CA", incident_id), "caller_number": phone, "priority": "emergency",
        "status": "closed", "summary": f"Emergency message from a contact on {phone}",
        "opened_at": opened, "clock_started_at": opened, "target_minutes": 30,
        "target_clock": "wall", "deadline_at": opened + timedelta(minutes=30),
        "acknowledged_at": opened + timedelta(minutes=2), "acknowledged_by_id": acker,
        "callback_at": callback, "callback_kind": "bridge", "restored_at": None,
        "closed_at": callback + timedelta(minutes=10), "policy_snapshot": POLICY,
        "escalation_state": None, "next_due_at": None,
    }  # fmt: skip


def _clock(fact: tuple[Any, ...], zone: str) -> dict[str, Any]:
    incident_id, _, customer_id, _, opened, callback = fact
    wall = int((callback - opened).total_seconds())
    over = max(0, -(-(wall - 30 * 60) // 60))
    return {
        "incident_id": incident_id, "customer_id": customer_id, "metric": "callback",
        "priority": "emergency",
        "target_minutes": 30, "clock": "wall", "time_zone": zone, "started_at": opened,
        "deadline_at": opened + timedelta(minutes=30), "stopped_at": callback,
        "stop_kind": "bridge", "is_reported": False, "wall_seconds": wall,
        "business_seconds": wall, "paused_seconds": 0, "paused_since": None, "pauses": [],
        "is_met": over == 0, "minutes_over": over,
        "credit": {"amount": "150.00"} if over else {},
    }  # fmt: skip


def _call(fact: tuple[Any, ...]) -> dict[str, Any]:
    incident_id, contact_id, customer_id, phone, opened, _ = fact
    return {
        "call_sid": _sid("CA", incident_id), "direction": "inbound", "from_number": phone,
        "to_number": "+15035550100", "customer_id": customer_id, "contact_id": contact_id,
        "incident_id": incident_id, "route": "emergency_menu", "choice": "emergency",
        "billable_consent_at": None, "started_at": opened - timedelta(seconds=40),
        "ended_at": opened, "status": "completed",
    }  # fmt: skip


def _recording(fact: tuple[Any, ...]) -> dict[str, Any]:
    incident_id, _, _, _, opened, _ = fact
    return {
        "recording_sid": _sid("RE", incident_id), "call_sid": _sid("CA", incident_id),
        "incident_id": incident_id, "url": None, "duration_seconds": 20,
        "status": "completed", "transcription": None, "created_at": opened,
    }  # fmt: skip


def _events(fact: tuple[Any, ...]) -> Iterator[dict[str, Any]]:
    incident_id, _, _, phone, opened, callback = fact
    yield {"incident_id": incident_id, "at": opened, "kind": "opened", "actor": phone,
           "detail": {"priority": "emergency", "missed": False}}  # fmt: skip
    yield {"incident_id": incident_id, "at": callback, "kind": "callback_logged",
           "actor": "alex", "detail": {"via": "bridge"}}  # fmt: skip


def add_rotas(
    database: Database, rotations: int, years: float, now: datetime, seed: int = 11
) -> dict[str, int]:
    """Add ``rotations`` weekly rotations of five and one override a week for ``years``.

    Analysts come from a pool of half as many as rotations (at least ten), each with an SMS
    and a voice number; every rotation's overrides run from ``years`` ago to four weeks
    ahead, half of them standing in for a named member, all covered by a dozen stand-ins.
    Returns the rows added per table.
    """
    rng = random.Random(seed)
    pool = max(10, rotations // 2)
    weeks = int(years * 52) + 4
    with database.engine.begin() as conn:
        base = (conn.scalar(select(func.max(Analyst.id))) or 0) + 1
        rota_base = (conn.scalar(select(func.max(Rotation.id))) or 0) + 1
        analysts = [base + i for i in range(pool)]
        counts = {
            "analysts": _insert(conn, Analyst, (
                {"id": a, "code": f"pool-{a}", "name": f"Pool Analyst {a}", "email": None,
                 "calendar_token": None} for a in analysts)),
            "contact_methods": _insert(conn, ContactMethod, (
                {"analyst_id": a, "kind": kind, "address": f"+1971555{a % 10000:04d}",
                 "is_opted_out": False, "opted_out_at": None}
                for a in analysts for kind in ("sms", "voice"))),
            "rotations": _insert(conn, Rotation, (
                {"id": rota_base + r, "code": f"rota-{r:04d}", "name": f"Rota {r}",
                 "time_zone": "America/Los_Angeles", "shift_length": "1w",
                 "handoff_anchor": "2021-01-04T08:00", "hours": None, "calendar_token": None}
                for r in range(rotations))),
        }  # fmt: skip
        members = {r: rng.sample(analysts, 5) for r in range(rotations)}
        counts["rotation_members"] = _insert(conn, RotationMember, (
            {"rotation_id": rota_base + r, "analyst_id": a, "position": p}
            for r in range(rotations) for p, a in enumerate(members[r])))  # fmt: skip
        first_week = now - timedelta(weeks=weeks - 4)

        def overrides() -> Iterator[dict[str, Any]]:
            for r in range(rotations):
                for w in range(weeks):
                    starts = first_week + timedelta(weeks=w, hours=rng.randrange(0, 150))
                    replaces = rng.choice(members[r]) if w % 2 else None
                    cover = rng.choice([a for a in analysts[:12] if a != replaces])
                    yield {"rotation_id": rota_base + r, "analyst_id": cover,
                           "replaces_analyst_id": replaces, "starts_at": starts,
                           "ends_at": starts + timedelta(hours=12), "note": "swap"}  # fmt: skip

        counts["overrides"] = _insert(conn, Override, overrides())
        for table in ("analysts", "rotations"):
            _sync_sequence(conn, table)
    return counts
