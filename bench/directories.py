"""Directory files for the bench, written as the YAML ``voiceline directory load`` reads.

Every plan keeps no office hours and covers every hour, so each call is "after hours"
whatever the time of the run (the end-to-end suite's rule). Numbers are fictional.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy.orm import Session

from voiceline.directory.checker import read_directory_text
from voiceline.directory.loader import load_directory

LINE = "+15035550100"
TIER1 = "+15035550201"  # alex, Tier 1: the storm's pages go here
TIER2 = "+15035550203"
MANAGER = "+15035550205"
ZONES = ("America/Los_Angeles", "America/New_York", "America/Chicago", "Europe/London")
HANDOFF = "2026-01-05T08:00"


@dataclass(frozen=True)
class Caller:
    """An authorized contact who may leave an emergency message."""

    number: str
    name: str
    customer: str


def contact_number(n: int) -> str:
    """Return the n-th caller's number (+1 503 555 2000 upwards)."""
    return f"+1503555{2000 + n:04d}"


def analyst_number(n: int) -> str:
    """Return the n-th extra analyst's number (+1 503 555 6000 upwards)."""
    return f"+1503555{6000 + n:04d}"


def _rotation(code: str, members: list[str]) -> dict[str, Any]:
    zone = "America/Los_Angeles"
    return {"code": code, "name": code, "time_zone": zone, "shift": "1w", "handoff": HANDOFF,
            "members": members}  # fmt: skip


def _step(rotation: str, channels: list[str], delay: str) -> dict[str, Any]:
    return {"targets": [{"on_call": rotation}], "channels": channels, "delay": delay}


def bench_directory(
    customers: int,
    contacts_per_customer: int,
    quiet: int = 0,
    lateness: int = 0,
    lateness_delay: str = "5s",
) -> tuple[dict[str, Any], list[Caller], list[Caller]]:
    """Return a directory, its storm callers and its quiet callers.

    Storm customers share the ``standard`` policy (Tier 1, then Tier 2, then management,
    five minutes apart). Each quiet customer has its own rotation, analyst and policy,
    so a message left by one never waits on another's page throttle. ``lateness``
    policies page one analyst by SMS, then a second one ``lateness_delay`` later.
    """
    data: dict[str, Any] = {
        "service": {"name": "Cascade IT Support", "emergency_number": LINE,
                    "desk_number": "+15035550199", "default_region": "US"},
        "plans": [{
            "code": "diamond", "name": "Diamond (24x7 emergency cover)",
            "business_hours": "none", "after_hours_cover": True, "cover_hours": "24x7",
            "callback_target": "30m", "billable_emergency": False, "monthly_fee": "1500.00",
            "credit": {"kind": "prorated", "percent_of_monthly_fee": 10, "per": "breach",
                       "cap_percent": 50},
            "targets": [
                {"metric": "callback", "priority": "emergency", "within": "30m", "clock": "wall"},
                {"metric": "callback", "priority": "standard", "within": "8h", "clock": "wall"},
            ],
        }],
        "analysts": [
            {"code": "alex", "name": "Alex Rivera", "phone": TIER1},
            {"code": "jordan", "name": "Jordan Lee", "phone": TIER2},
            {"code": "morgan", "name": "Morgan Blake", "phone": MANAGER},
        ],
        "rotations": [_rotation("tier1", ["alex"]), _rotation("tier2", ["jordan"]),
                      _rotation("management", ["morgan"])],
        "policies": [{
            "code": "standard", "name": "Tier 1, then Tier 2, then management", "repeat": 0,
            "steps": [_step("tier1", ["sms", "voice"], "5m"), _step("tier2", ["sms", "voice"], "5m"),
                      _step("management", ["sms", "voice"], "5m")],
        }],
        "customers": [],
    }  # fmt: skip
    storm: list[Caller] = []
    quiet_callers: list[Caller] = []
    for c in range(customers):
        code = f"customer-{c:03d}"
        contacts = []
        for k in range(contacts_per_customer):
            caller = Caller(contact_number(len(storm)), f"Caller {c}-{k}", code)
            storm.append(caller)
            contacts.append({"name": caller.name, "phone": caller.number, "role": "primary"})
        data["customers"].append(_customer(code, ZONES[c % len(ZONES)], "standard", contacts))
    for q in range(quiet):
        _own_policy(data, f"quiet-{q:03d}", [(analyst_number(q), ["sms", "voice"], "5m")])
        caller = Caller(contact_number(5000 + q), f"Quiet caller {q}", f"quiet-{q:03d}")
        quiet_callers.append(caller)
        contact = {"name": caller.name, "phone": caller.number, "role": "primary"}
        data["customers"].append(_customer(caller.customer, ZONES[0], caller.customer, [contact]))
    for n in range(lateness):
        first, second = analyst_number(2000 + 2 * n), analyst_number(2001 + 2 * n)
        _own_policy(
            data, f"late-{n:03d}", [(first, ["sms"], lateness_delay), (second, ["sms"], "5m")]
        )
        contact = {"name": f"Late caller {n}", "phone": contact_number(7000 + n), "role": "primary"}
        data["customers"].append(_customer(f"late-{n:03d}", ZONES[0], f"late-{n:03d}", [contact]))
    return data, storm, quiet_callers


def _customer(code: str, zone: str, policy: str, contacts: list[dict[str, str]]) -> dict[str, Any]:
    return {"code": code, "name": code.replace("-", " ").title(), "time_zone": zone,
            "plan": "diamond", "escalation_policy": policy, "contacts": contacts}  # fmt: skip


def _own_policy(data: dict[str, Any], code: str, steps: list[tuple[str, list[str], str]]) -> None:
    """Add a policy ``code`` whose steps each page one analyst of their own rotation."""
    policy_steps = []
    for i, (number, channels, delay) in enumerate(steps):
        who = f"{code}-{i}"
        data["analysts"].append({"code": who, "name": f"Analyst {who}", "phone": number})
        data["rotations"].append(_rotation(who, [who]))
        policy_steps.append(_step(who, channels, delay))
    data["policies"].append({"code": code, "name": code, "repeat": 0, "steps": policy_steps})


def load(session: Session, data: dict[str, Any]) -> None:
    """Check and load ``data`` with the product's loader, as ``directory load`` would."""
    load_directory(session, read_directory_text(yaml.safe_dump(data), "bench.yaml"), actor="bench")
