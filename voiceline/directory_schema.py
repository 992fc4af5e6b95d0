"""The directory's schema: which keys each kind of entry has, and what their values must be.

Pure code, no I/O. A table per kind of entry names every known key with its check; a key
not in the table is an error that suggests the nearest known key. The checks of one
entry (``directory_entries``) and of a whole file (``directory_file``) are built on these.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers

from escalation.errors import PolicyError
from escalation.policy import parse_delay
from voiceline.directory_yaml import Node, Seq
from voiceline.hours import HoursError, parse_hours, zone
from voiceline.prompts import DEFAULTS
from voiceline.sla_math import CreditRuleError, parse_money

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_DURATION_RE = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$")
_SHIFT_RE = re.compile(r"^\d{1,4}[hdw]$")
# Targets land in integer columns; past a year a target is a typo, and far below 2**31.
MAX_MINUTES = 366 * 24 * 60

# A check takes the key and its value and returns what is wrong, or None.
Check = Callable[[str, Any], str | None]


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


def describe(value: Any) -> str:
    """Return how a wrong value reads in an error: "the text 'false'", "a list", "5"."""
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return repr(value)


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
        return f"unknown {what} {key!r}; did you mean {nearest[0]!r}?"
    return f"unknown {what} {key!r}; expected one of {', '.join(sorted(known))}"


# --- value checks ---------------------------------------------------------------------------


def text(max_length: int | None = 200) -> Check:
    """Return a check for text of at most ``max_length`` characters."""

    def check(key: str, value: Any) -> str | None:
        if not isinstance(value, str):
            return f"{key} must be text, not {describe(value)} (put it in quotes)"
        if max_length is not None and len(value) > max_length:
            return f"{key} must be at most {max_length} characters"
        return None

    return check


def one_of(*choices: str) -> Check:
    """Return a check for one of ``choices``."""

    def check(key: str, value: Any) -> str | None:
        if value not in choices:
            return f"{key} must be one of {', '.join(choices)}, not {describe(value)}"
        return None

    return check


def flag(key: str, value: Any) -> str | None:
    """Check a boolean: a quoted "false" is text, and text is true, so refuse it."""
    if not isinstance(value, bool):
        return f"{key} must be true or false, not {describe(value)}"
    return None


def code(key: str, value: Any) -> str | None:
    """Check an entry's code (what other entries and the database refer to it by)."""
    if not isinstance(value, str) or not CODE_RE.match(value):
        return f"{key} {describe(value)} must be lowercase letters, digits, -_. (at most 64)"
    return None


def phone(key: str, value: Any) -> str | None:
    """Check that a phone number is written as text (YAML reads +4420... as a number)."""
    if not isinstance(value, str):
        return f'{key} must be text in quotes, e.g. "+15035550100", not {describe(value)}'
    return None


def region(key: str, value: Any) -> str | None:
    """Check a region code that national phone numbers are read in, e.g. US or GB."""
    if value not in phonenumbers.SUPPORTED_REGIONS:
        return f"{key} must be a two-letter region code such as US or GB, not {describe(value)}"
    return None


def time_zone(key: str, value: Any) -> str | None:
    """Check an IANA time zone name."""
    if not isinstance(value, str):
        return f"{key} must be a time zone name such as America/New_York"
    try:
        zone(value)
    except HoursError as exc:
        return str(exc)
    return None


def hours(key: str, value: Any) -> str | None:
    """Check weekly hours: "mon-fri 08:00-16:30", "24x7", "none" or a list of windows."""
    if not isinstance(value, str) and not (
        isinstance(value, list) and all(isinstance(item, str) for item in value)
    ):
        return f"{key} must be text like 'mon-fri 08:00-16:30', 24x7, none, or a list of windows"
    try:
        parse_hours(value)
    except HoursError as exc:
        return f"{key}: {exc}"
    return None


def parse_minutes(value: Any) -> int:
    """Return a duration such as ``30m``, ``4h``, ``1d 2h`` or ``90`` (minutes) in minutes."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"not a duration: {describe(value)}; use e.g. 30m, 4h, 1d")
    if isinstance(value, int):
        minutes = value
    else:
        match = _DURATION_RE.match(value.lower())
        if not match or not any(match.groups()):
            raise ValueError(f"cannot read duration {value!r}; use e.g. 30m, 4h, 1d")
        days, hours_, mins = (int(g) if g else 0 for g in match.groups())
        minutes = days * 1440 + hours_ * 60 + mins
    if minutes < 0:
        raise ValueError("a duration cannot be negative")
    if minutes > MAX_MINUTES:
        raise ValueError(f"a duration must be at most {MAX_MINUTES // 1440}d")
    return minutes


def format_minutes(minutes: int) -> str:
    """Return minutes in the form parse_minutes reads, e.g. ``30m``, ``4h``, ``1h30m``."""
    hours_, mins = divmod(minutes, 60)
    if hours_ and mins:
        return f"{hours_}h{mins}m"
    return f"{hours_}h" if hours_ else f"{mins}m"


def minutes(key: str, value: Any) -> str | None:
    """Check a duration in minutes (an SLA target)."""
    try:
        parse_minutes(value)
    except ValueError as exc:
        return f"{key}: {exc}"
    return None


def delay(key: str, value: Any) -> str | None:
    """Check a delay as the escalation engine reads it (90s, 5m, PT5M)."""
    try:
        parse_delay(value)
    except PolicyError as exc:
        return f"{key}: {exc}"
    return None


def money(key: str, value: Any) -> str | None:
    """Check an amount such as "1500.00"."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return f'{key} must be an amount like "1500.00", not {describe(value)}'
    if len(str(value)) > 32:
        return f"{key} must be at most 32 characters"
    try:
        parse_money(str(value))
    except CreditRuleError as exc:
        return f"{key}: {exc}"
    return None


def number(key: str, value: Any) -> str | None:
    """Check a number (a percentage); the credit rule checks its range."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return f"{key} must be a number, not {describe(value)}"
    try:
        Decimal(str(value))
    except InvalidOperation:
        return f"{key} must be a number, not {describe(value)}"
    return None


def rate(key: str, value: Any) -> str | None:
    """Check a billable rate, text such as 1.5x (a bare number is read as its text)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return f"{key} must be text such as 1.5x, not {describe(value)}"
    return text(32)(key, str(value))


def shift(key: str, value: Any) -> str | None:
    """Check a rotation's shift length."""
    if not isinstance(value, str) or not _SHIFT_RE.match(value):
        return f"shift {value!r} must be like 12h, 1d or 1w"
    return None


def handoff(key: str, value: Any) -> str | None:
    """Check a rotation's handoff: a local date and time."""
    if isinstance(value, datetime | date):
        return None
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
            return None
        except ValueError:
            pass
    return f"handoff {value!r} must be a local time like 2026-01-05T08:00"


def whole_number(key: str, value: Any) -> str | None:
    """Check a whole number (the engine checks its range)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{key} must be a whole number, not {describe(value)}"
    return None


def mapping(key: str, value: Any) -> str | None:
    """Check that a value is a mapping (its keys are checked with its own schema)."""
    if not isinstance(value, Mapping):
        return f"{key} must be a mapping, not {describe(value)}"
    return None


def listing(key: str, value: Any) -> str | None:
    """Check that a value is a list (its items are checked one by one)."""
    if not isinstance(value, list):
        return f"{key} must be a list, not {describe(value)}"
    return None


def closure(key: str, value: Any) -> str | None:
    """Check a closure date (a day the customer's business is shut)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        return f"closure {value!r} must be a date like 2026-12-24"
    return None


# --- the tables -------------------------------------------------------------------------------

PROMPTS = Schema({key: Field(text(None)) for key in (*DEFAULTS, "voice", "language")})
HOLIDAYS = Schema({"country": Field(text(8), required=True), "subdivision": Field(text(16))})
CREDIT = Schema(
    {
        "kind": Field(text(32)),
        "per": Field(text(32)),
        "percent_of_monthly_fee": Field(number),
        "cap_percent": Field(number),
        "metrics": Field(listing, item=one_of("callback", "restoration")),
    }
)
SERVICE = Schema(
    {
        "name": Field(text()),
        "emergency_number": Field(phone),
        "desk_number": Field(phone),
        "default_region": Field(region),
        "time_zone": Field(time_zone),
        "business_hours": Field(hours),
        "holiday_country": Field(text(8)),
        "holiday_subdivision": Field(text(16)),
        "default_escalation_policy": Field(text(64)),
        "remind_before": Field(delay),
        "transcribe": Field(flag),
        "page_unverified": Field(flag),
        "prompts": Field(mapping),
    }
)
TARGET = Schema(
    {
        "metric": Field(one_of("callback", "restoration"), required=True),
        "priority": Field(text(32), required=True),
        "within": Field(minutes, required=True),
        "clock": Field(one_of("wall", "business")),
        "pausable": Field(flag),
    }
)
PLAN = Schema(
    {
        "code": Field(code, required=True),
        "name": Field(text(), required=True),
        "business_hours": Field(hours),
        "after_hours_cover": Field(flag),
        "cover_hours": Field(hours),
        "callback_target": Field(minutes),
        "billable_emergency": Field(flag),
        "billable_rate": Field(rate),
        "monthly_fee": Field(money),
        "credit": Field(mapping),
        "prompts": Field(mapping),
        "targets": Field(listing),
    }
)
ANALYST = Schema(
    {
        "code": Field(code, required=True),
        "name": Field(text(), required=True),
        "email": Field(text()),
        "phone": Field(phone),
        "sms": Field(phone),
        "voice": Field(phone),
    }
)
ROTATION = Schema(
    {
        "code": Field(code, required=True),
        "name": Field(text(), required=True),
        "time_zone": Field(time_zone, required=True),
        "shift": Field(shift),
        "handoff": Field(handoff),
        "hours": Field(hours),
        "members": Field(listing, item=text(64)),
    }
)
POLICY = Schema(
    {
        "code": Field(code, required=True),
        "name": Field(text(), required=True),
        "repeat": Field(whole_number),
        "steps": Field(listing, required=True),
    }
)
CONTACT = Schema(
    {
        "name": Field(text(), required=True),
        "phone": Field(phone, required=True),
        "role": Field(text(32)),
        "authorized": Field(flag),
    }
)
CUSTOMER = Schema(
    {
        "code": Field(code, required=True),
        "name": Field(text(), required=True),
        "time_zone": Field(time_zone, required=True),
        "holidays": Field(mapping),
        "business_hours": Field(hours),
        "closures": Field(listing, item=closure),
        "plan": Field(text(64), required=True),
        "escalation_policy": Field(text(64)),
        "desk_number": Field(phone),
        "region": Field(region),
        "prompts": Field(mapping),
        "contacts": Field(listing),
    }
)
SECTIONS = Schema(
    {
        "service": Field(mapping),
        "plans": Field(listing),
        "analysts": Field(listing),
        "rotations": Field(listing),
        "policies": Field(listing),
        "customers": Field(listing),
    }
)
