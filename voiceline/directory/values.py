"""What a directory value must be: one check per kind of value, each saying what is wrong.

Pure code, no I/O. A check takes the key and the value and returns the error (without
the entry's name), or None; ``directory_schema`` says which key gets which check.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from babel.numbers import is_currency

from escalation.errors import PolicyError
from escalation.policy import parse_delay
from voiceline.hours import HoursError, parse_hours, zone
from voiceline.sla.sla_math import CreditRuleError, parse_money

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_DURATION_RE = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$")
_SHIFT_RE = re.compile(r"^\d{1,4}[hdw]$")
# Targets land in integer columns; past a year a target is a typo, and far below 2**31.
MAX_MINUTES = 366 * 24 * 60
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60

# A check takes the key and its value and returns what is wrong, or None.
Check = Callable[[str, Any], str | None]


def shown(value: Any) -> str:
    """Return ``repr(value)``, cut short: an error line should not repeat a megabyte."""
    return _SHORT.repr(value)


def describe(value: Any) -> str:
    """Return how a wrong value reads in an error: "the text 'false'", "a list", "5"."""
    if isinstance(value, str):
        return f"the text {shown(value)}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, date):
        return value.isoformat()
    return shown(value)


def text(max_length: int | None = 200) -> Check:
    """Return a check for text of at most ``max_length`` characters."""

    def check(key: str, value: Any) -> str | None:
        if isinstance(value, Mapping | list):
            return f"{key} must be text, not {describe(value)}"
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
    """Check a boolean; the text "false" would read as true, so text is refused."""
    if not isinstance(value, bool):
        return f"{key} must be true or false, not {describe(value)}"
    return None


def code(key: str, value: Any) -> str | None:
    """Check an entry's code (what other entries and the database refer to it by)."""
    if not isinstance(value, str):
        return text(64)(key, value)
    if not CODE_RE.match(value):
        return f"{key} {shown(value)} must be lowercase letters, digits, -_. (at most 64)"
    return None


def phone(key: str, value: Any) -> str | None:
    """Check that a phone number is written as text (YAML reads +4420... as a number)."""
    if not isinstance(value, str):
        return f'{key} must be text in quotes, e.g. "+15035550100", not {describe(value)}'
    if len(value) > 64:
        return f"{key} is too long to be a phone number"
    return None


def region(key: str, value: Any) -> str | None:
    """Check a region code that national phone numbers are read in, e.g. US or GB."""
    if not isinstance(value, str) or value not in phonenumbers.SUPPORTED_REGIONS:
        return f"{key} must be a two-letter region code such as US or GB, not {describe(value)}"
    return None


def currency(key: str, value: Any) -> str | None:
    """Check an ISO 4217 currency code that money on the admin pages is written in, e.g. USD."""
    if not isinstance(value, str) or not is_currency(value.strip().upper()):
        return f"{key} must be a currency code such as USD, EUR or GBP, not {describe(value)}"
    return None


def time_zone(key: str, value: Any) -> str | None:
    """Check an IANA time zone name."""
    if not isinstance(value, str) or len(value) > 64:
        return f"{key} must be a time zone name such as America/New_York, not {describe(value)}"
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
            raise ValueError(f"cannot read duration {shown(value)}; use e.g. 30m, 4h, 1d")
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
    if isinstance(value, bool) or not isinstance(value, int | float | str) or len(str(value)) > 32:
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
        return f"shift {shown(value)} must be like 12h, 1d or 1w"
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
    return f"handoff {shown(value)} must be a local time like 2026-01-05T08:00"


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
    if isinstance(value, str):
        return f"closure {shown(value)} must be a date like 2026-12-24, without quotes"
    if isinstance(value, datetime) or not isinstance(value, date):
        return f"closure {describe(value)} must be a date like 2026-12-24"
    return None
