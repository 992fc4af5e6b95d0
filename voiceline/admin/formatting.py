"""How every admin page writes times, money, durations and SLA terms: one way each.

Times: one format, ``Sun 22 Nov 2026 02:30 PST``, always in the zone that matters (the
customer's on incidents and SLA pages, the rotation's on the rota), with the zone's
abbreviation so nobody has to guess. ``seconds=True`` adds seconds where order within a
minute matters (an incident's timeline). Money: the amount with its currency, the way
people write it (``$1,500.00``, ``€20.00``, ``¥1,500``), by Babel's currency data.
Phone numbers: international format (``+1 503-555-0111``). Durations: ``2 d 3 h 15 min``,
``4 min 10 s``, ``8 s``. SLA words: the plain phrase an operator reads, with the
technical term kept for a tooltip.

Pure: plain values in, text out. ``voiceline.admin.filters`` offers each of these to every
admin template (``{{ at | when(zone) }}``, ``{{ at | time_tag(zone) }}``,
``{{ amount | money(currency) }}``, ``{{ seconds | duration }}``, ``{{ term("breached") }}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import format_currency, is_currency

from voiceline.errors import InvalidInput
from voiceline.phones import display

# The one date format of the admin pages: "Sun 22 Nov 2026 02:30 PST".
DATE_FORMAT = "%a %d %b %Y %H:%M %Z"
DATE_FORMAT_SECONDS = "%a %d %b %Y %H:%M:%S %Z"
LOCALE = "en_US"
DEFAULT_CURRENCY = "USD"


class FormattingError(InvalidInput):
    """A value the admin pages cannot write (a naive time, an unknown zone)."""


def zone_of(name: str | tzinfo | None) -> tzinfo:
    """Return the time zone named ``name`` (an IANA name); UTC when there is none."""
    if name is None or name == "":
        return UTC
    if isinstance(name, tzinfo):
        return name
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise FormattingError(f"unknown time zone {name!r}") from exc


def moment(at: datetime | str | None) -> datetime | None:
    """Return ``at`` as a datetime: stored ISO text (a spool entry's stamp) is read."""
    if at is None or at == "":
        return None
    if isinstance(at, str):
        try:
            return datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError as exc:
            raise FormattingError(f"not a time: {at!r}") from exc
    return at


def when(at: datetime | str | None, zone: str | tzinfo | None, *, seconds: bool = False) -> str:
    """Return ``at`` in the one date format, local to ``zone``; "" for no time."""
    at = moment(at)
    if at is None:
        return ""
    if at.tzinfo is None or at.utcoffset() is None:
        # A naive time would be written in whatever zone it happened to be read in.
        raise FormattingError(f"cannot write a naive time: {at!r}")
    local = at.astimezone(zone_of(zone))
    return local.strftime(DATE_FORMAT_SECONDS if seconds else DATE_FORMAT)


# An ISO 8601 stamp with its offset, as stored or logged: "2026-11-22T10:15:00+00:00".
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)")


def stamps_in(text: str, zone: str | tzinfo | None, *, seconds: bool = True) -> str:
    """Return ``text`` with every ISO stamp in it written in the one format, in ``zone``."""
    return STAMP.sub(lambda m: when(m.group(0), zone, seconds=seconds), text)


def zone_label(name: str | None, at: datetime) -> str:
    """Return a zone with its abbreviation at ``at``, e.g. "America/Los_Angeles (PST)"."""
    zone = zone_of(name)
    return f"{name or 'UTC'} ({at.astimezone(zone).tzname()})"


def iso(at: datetime | str | None) -> str:
    """Return ``at`` as an ISO 8601 UTC stamp for machines (``<time datetime>``); "" for none."""
    at = moment(at)
    if at is None:
        return ""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def utc_text(at: datetime | str | None) -> str:
    """Return ``at`` in the one date format in UTC, with seconds (for a tooltip)."""
    return when(at, UTC, seconds=True)


def phone(number: str | None) -> str:
    """Return an E.164 number written for people, e.g. "+1 503-555-0111"; "" for none."""
    return display(number) if number else ""


def money(amount: Decimal | str | int | None, currency: str | None = None) -> str:
    """Return ``amount`` with its currency, e.g. "$150.00"; "" for no amount."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise FormattingError(f"not an amount of money: {amount!r}") from exc
    code = (currency or DEFAULT_CURRENCY).strip().upper()
    if not is_currency(code, LOCALE):
        # Still say which currency: an unknown code is written out rather than dropped.
        return f"{value:,.2f} {code}"
    return str(format_currency(value, code, locale=LOCALE))


def duration(length: timedelta | float | None) -> str:
    """Return a length of time like "2 d 3 h 15 min", "4 min 10 s" or "8 s"; "" for none."""
    if length is None:
        return ""
    total = length.total_seconds() if isinstance(length, timedelta) else float(length)
    sign = "-" if total < 0 else ""
    seconds = int(round(abs(total)))
    days, rest = divmod(seconds, 24 * 3600)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{days} d" if days else "",
        f"{hours} h" if hours else "",
        f"{minutes} min" if minutes else "",
        # Seconds matter for a recording or a call, not beside hours.
        f"{secs} s" if secs and not (days or hours) else "",
    ]
    text = " ".join(p for p in parts if p)
    return sign + text if text else "0 s"


@dataclass(frozen=True)
class Term:
    """A word on an admin page: what an operator reads, and the technical term behind it."""

    plain: str
    technical: str


# The SLA's vocabulary in plain words; the technical term goes in the tooltip.
TERMS: dict[str, Term] = {
    "sla": Term("promise", "SLA (service-level agreement)"),
    "target": Term("promised within", "SLA target"),
    "deadline": Term("callback due", "SLA deadline"),
    "met": Term("promise kept", "SLA met"),
    "breached": Term("promise missed", "SLA breached"),
    "over": Term("late by", "minutes over the SLA target"),
    "credit": Term("credit owed", "SLA service credit, before the monthly cap"),
    "wall": Term("round the clock", "wall-clock SLA target"),
    "business": Term("counting business hours only", "business-hours SLA clock"),
    "paused": Term("clock paused", "SLA clock paused"),
    "callback": Term("callback", "callback SLA metric"),
    "restoration": Term("service restored", "restoration SLA metric"),
    "policy": Term("paging order", "escalation policy"),
    "pass": Term("round", "pass of the escalation policy"),
    "acknowledged": Term("taken", "acknowledged"),
}


def term(key: str) -> Term:
    """Return the plain word for an SLA or paging term, and its technical name."""
    found = TERMS.get(key)
    if found is None:
        raise FormattingError(f"no plain word for {key!r}: add it to TERMS")
    return found
