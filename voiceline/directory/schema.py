"""The directory's schema: which keys each kind of entry has, and the check of each value.

Pure code, no I/O. A table per kind of entry names every known key with its check (from
``directory_values``); a key not in the table is an error that suggests the nearest known
key. The checks of one entry (``directory_entries``) are built on these tables.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from voiceline.directory.reading import Node, Seq
from voiceline.directory.values import (
    Check,
    closure,
    code,
    currency,
    delay,
    flag,
    handoff,
    hours,
    listing,
    mapping,
    minutes,
    money,
    number,
    one_of,
    phone,
    rate,
    region,
    shift,
    shown,
    text,
    time_zone,
    whole_number,
)
from voiceline.line.prompts import DEFAULTS


@dataclass(frozen=True)
class Field:
    """One key of an entry: its check, whether it must be given, and for a list, each item's."""

    check: Check
    required: bool = False
    item: Check | None = None


class Schema(dict[str, Field]):
    """The known keys of one kind of entry, each with its Field."""

    @functools.cached_property
    def required(self) -> tuple[str, ...]:
        """Return the keys an entry must give."""
        return tuple(key for key, spec in self.items() if spec.required)


def line_of(node: Any, key: str | None = None) -> int:
    """Return the line of ``key`` in a mapping read from a file (0 if not from a file)."""
    return node.line_of(key) if isinstance(node, Node) else 0


def line_at(items: Any, index: int) -> int:
    """Return the line of item ``index`` of a list read from a file (0 if not from a file)."""
    return items.line_at(index) if isinstance(items, Seq) else 0


def unknown_key(key: str, known: Mapping[str, Any] | set[str], what: str = "key") -> str:
    """Return the error for an unknown key, suggesting the nearest known one."""
    nearest = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    if nearest:
        return f"unknown {what} {shown(key)}; did you mean {nearest[0]!r}?"
    return f"unknown {what} {shown(key)}; expected one of {', '.join(sorted(known))}"


# --- the tables -------------------------------------------------------------------------------

PROMPTS = Schema({key: Field(text(None)) for key in (*DEFAULTS, "voice", "language")})
HOLIDAYS = Schema({"country": Field(text(8), required=True), "subdivision": Field(text(16))})
CREDIT = Schema(
    kind=Field(text(32)),
    per=Field(text(32)),
    percent_of_monthly_fee=Field(number),
    cap_percent=Field(number),
    metrics=Field(listing, item=one_of("callback", "restoration")),
)
SERVICE = Schema(
    name=Field(text()),
    emergency_number=Field(phone),
    desk_number=Field(phone),
    default_region=Field(region),
    time_zone=Field(time_zone),
    business_hours=Field(hours),
    holiday_country=Field(text(8)),
    holiday_subdivision=Field(text(16)),
    default_escalation_policy=Field(text(64)),
    remind_before=Field(delay),
    transcribe=Field(flag),
    page_unverified=Field(flag),
    prompts=Field(mapping),
    currency=Field(currency),
)
TARGET = Schema(
    metric=Field(one_of("callback", "restoration"), required=True),
    priority=Field(text(32), required=True),
    within=Field(minutes, required=True),
    clock=Field(one_of("wall", "business")),
    pausable=Field(flag),
)
PLAN = Schema(
    code=Field(code, required=True),
    name=Field(text(), required=True),
    business_hours=Field(hours),
    after_hours_cover=Field(flag),
    cover_hours=Field(hours),
    callback_target=Field(minutes),
    billable_emergency=Field(flag),
    billable_rate=Field(rate),
    monthly_fee=Field(money),
    credit=Field(mapping),
    prompts=Field(mapping),
    targets=Field(listing),
)
ANALYST = Schema(
    code=Field(code, required=True),
    name=Field(text(), required=True),
    email=Field(text()),
    phone=Field(phone),
    sms=Field(phone),
    voice=Field(phone),
)
ROTATION = Schema(
    code=Field(code, required=True),
    name=Field(text(), required=True),
    time_zone=Field(time_zone, required=True),
    shift=Field(shift),
    handoff=Field(handoff),
    hours=Field(hours),
    members=Field(listing, item=text(64)),
)
POLICY = Schema(
    code=Field(code, required=True),
    name=Field(text(), required=True),
    repeat=Field(whole_number),
    steps=Field(listing, required=True),
)
CONTACT = Schema(
    name=Field(text(), required=True),
    phone=Field(phone, required=True),
    role=Field(text(32)),
    authorized=Field(flag),
)
CUSTOMER = Schema(
    code=Field(code, required=True),
    name=Field(text(), required=True),
    time_zone=Field(time_zone, required=True),
    holidays=Field(mapping),
    business_hours=Field(hours),
    closures=Field(listing, item=closure),
    plan=Field(text(64), required=True),
    escalation_policy=Field(text(64)),
    desk_number=Field(phone),
    region=Field(region),
    prompts=Field(mapping),
    contacts=Field(listing),
)
SECTIONS = Schema(
    service=Field(mapping),
    plans=Field(listing),
    analysts=Field(listing),
    rotations=Field(listing),
    policies=Field(listing),
    customers=Field(listing),
)
