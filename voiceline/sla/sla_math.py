"""SLA arithmetic: elapsed time, met or breached, minutes over, warnings, credits, percentiles.

Pure: plain values and ``now`` in, plain values out; no database, no Flask. The rules,
in the order a service-desk manager would ask about them:

* **Elapsed** time is measured from the clock's start to its stop (or to ``now`` while it
  runs), minus paused spans, on two clocks at once: wall (real time, subtracted in UTC)
  and business (only while the customer's calendar is open, via voiceline.business_time).
* A target is **met** when the elapsed time on the target's own clock is at most the
  target (``elapsed <= target``); breached otherwise. For a wall clock that is exactly
  "stopped at or before the deadline". For a business clock the deadline is the first
  instant the target is used up, so a callback after the deadline but before the calendar
  reopens (the evening of a deadline that fell at closing time) is still met: no business
  time ran in between.
* **Minutes over** a breached target: the excess on the target's clock, rounded *up* to
  whole minutes (30 min 01 s on a 30-minute target is 1 minute over); 0 when met.
* **Warning levels** for a running clock: "ok" below 50% of the target used, "50" from
  50%, "75" from 75%, "breached" once the target is exceeded.
* **Credits** follow the plan's ``credit_rule`` (see parse_credit_rule); amounts are
  Decimal money rounded half-up to cents.
* **Percentiles** use the nearest-rank method: the p-th percentile of N sorted values is
  the value at rank ceil(p/100 x N), counting from 1. Every figure is then an actual
  incident's time (the median of an even count is the lower middle value).

Errors, all ValueError:

    SlaMathError             an instant, duration, clock kind or pause that cannot be used
     └── CreditRuleError     a plan credit rule or monthly fee that cannot be applied
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar
from zoneinfo import ZoneInfo

from voiceline.customers.business_time import BusinessCalendar, business_time_between
from voiceline.errors import InvalidInput

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

CLOCK_KINDS = ("wall", "business")
Level = Literal["ok", "50", "75", "breached"]
CENT = Decimal("0.01")
CREDIT_KINDS = ("prorated",)
CREDIT_PER = ("breach", "time_over")
T = TypeVar("T", bound="SupportsRichComparison")


class SlaMathError(InvalidInput):
    """An instant, duration, clock kind or pause that cannot be used."""


class CreditRuleError(SlaMathError):
    """A plan credit rule or monthly fee that cannot be applied."""


# --- elapsed time ------------------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    """A span during which a clock did not run; ``end`` is None while it lasts."""

    start: datetime
    end: datetime | None
    reason: str


@dataclass(frozen=True)
class Elapsed:
    """Time a clock ran: wall-clock always, business time when a calendar was given."""

    wall: timedelta
    business: timedelta | None

    def on(self, clock: str) -> timedelta:
        """Return the elapsed time on ``clock`` ("wall" or "business")."""
        check_clock_kind(clock)
        if clock == "wall":
            return self.wall
        if self.business is None:
            raise SlaMathError("business time was not measured: no calendar was given")
        return self.business


def check_clock_kind(clock: str) -> str:
    """Return ``clock`` when it is "wall" or "business", else raise SlaMathError."""
    if clock not in CLOCK_KINDS:
        raise SlaMathError(f"clock must be 'wall' or 'business', got {clock!r}")
    return clock


def _aware(at: datetime, what: str) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise SlaMathError(f"{what} must be a timezone-aware datetime, got {at!r}")
    return at.astimezone(UTC)


def _clipped(
    pauses: Iterable[Pause], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Return the pauses cut to [start, end], an open pause running until ``end``."""
    spans = []
    for pause in pauses:
        lo = max(_aware(pause.start, "pause start"), start)
        hi = min(_aware(pause.end, "pause end") if pause.end is not None else end, end)
        if hi > lo:
            spans.append((lo, hi))
    return spans


def elapsed(
    start: datetime,
    end: datetime,
    pauses: Iterable[Pause] = (),
    calendar: BusinessCalendar | None = None,
) -> Elapsed:
    """Return the time run from ``start`` to ``end`` minus pauses, wall and business."""
    lo, hi = _aware(start, "start"), _aware(end, "end")
    if hi < lo:
        raise SlaMathError(
            f"a clock cannot stop ({hi.isoformat()}) before it started ({lo.isoformat()})"
        )
    spans = _clipped(pauses, lo, hi)
    wall = (hi - lo) - sum((b - a for a, b in spans), timedelta(0))
    business = None
    if calendar is not None:
        business = business_time_between(lo, hi, calendar) - sum(
            (business_time_between(a, b, calendar) for a, b in spans), timedelta(0)
        )
    return Elapsed(wall, business)


def is_met(measured: timedelta, target: timedelta) -> bool:
    """Return True when ``measured`` time on the target's clock is within the target."""
    return measured <= target


def minutes_over(measured: timedelta, target: timedelta) -> int:
    """Return whole minutes (rounded up) by which ``measured`` exceeds ``target``; 0 if met."""
    excess = measured - target
    if excess <= timedelta(0):
        return 0
    return math.ceil(excess / timedelta(minutes=1))


def level_for(measured: timedelta, target: timedelta) -> Level:
    """Return the warning level of a clock that has used ``measured`` of ``target``."""
    if target <= timedelta(0):
        raise SlaMathError(f"a target must be positive, got {target}")
    if measured > target:
        return "breached"
    if measured * 4 >= target * 3:
        return "75"
    if measured * 2 >= target:
        return "50"
    return "ok"


# --- clocks as stored: anything with the SlaClock attributes --------------------------


class ClockReading(Protocol):
    """What the arithmetic reads of an SLA clock (an SlaClock row satisfies it)."""

    @property
    def started_at(self) -> datetime: ...
    @property
    def target_minutes(self) -> int: ...
    @property
    def clock(self) -> str: ...
    @property
    def stopped_at(self) -> datetime | None: ...
    @property
    def pauses(self) -> list[Any]: ...


def pause_record(start: datetime, reason: str, actor: str | None) -> dict[str, Any]:
    """Return the JSON form of a pause that begins at ``start``."""
    return {
        "from": _aware(start, "pause start").isoformat(),
        "to": None,
        "reason": reason,
        "actor": actor,
    }


def pauses_of(raw: Sequence[Any]) -> tuple[Pause, ...]:
    """Return the pauses stored in a clock's JSON ``pauses`` list."""
    found = []
    for item in raw or ():
        try:
            start = datetime.fromisoformat(item["from"])
            end = datetime.fromisoformat(item["to"]) if item.get("to") else None
        except (KeyError, TypeError, ValueError) as exc:
            raise SlaMathError(f"unreadable pause record {item!r}") from exc
        found.append(Pause(start, end, str(item.get("reason") or "")))
    return tuple(found)


def measure(clock: ClockReading, now: datetime, calendar: BusinessCalendar | None) -> Elapsed:
    """Return the clock's elapsed time at ``now`` (or at its stop, if earlier)."""
    check_clock_kind(clock.clock)
    if clock.clock == "business" and calendar is None:
        raise SlaMathError("a business-hours clock needs the customer's calendar")
    end = _aware(now, "now")
    if clock.stopped_at is not None:
        end = min(end, _aware(clock.stopped_at, "stopped_at"))
    end = max(end, _aware(clock.started_at, "started_at"))  # a view rendered a moment early
    return elapsed(clock.started_at, end, pauses_of(clock.pauses), calendar)


def target_of(clock: ClockReading) -> timedelta:
    """Return the clock's target as a duration."""
    return timedelta(minutes=clock.target_minutes)


def time_left(
    clock: ClockReading, now: datetime, calendar: BusinessCalendar | None = None
) -> timedelta:
    """Return the target time still left on the clock's own clock (negative once breached)."""
    return target_of(clock) - measure(clock, now, calendar).on(clock.clock)


def warning_level(
    clock: ClockReading, now: datetime, calendar: BusinessCalendar | None = None
) -> Level:
    """Return "ok", "50", "75" or "breached" for the clock at ``now``.

    ``calendar`` is the customer's business calendar; only business-hours clocks need it.
    """
    return level_for(measure(clock, now, calendar).on(clock.clock), target_of(clock))


def is_paused(clock: ClockReading) -> bool:
    """Return True while the clock has a pause without an end."""
    return any(p.end is None for p in pauses_of(clock.pauses))


# --- credits -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditRule:
    """A plan's credit when a target is missed.

    ``per="breach"``: each breach credits ``percent`` of the monthly fee.
    ``per="time_over"``: each breach credits ``percent`` of the monthly fee prorated by the
    minutes over target against the minutes in that (local) month: the seed contracts'
    "prorated amount of the monthly fee for the period the service was not restored".
    ``cap_percent`` caps a customer's credits in one month; ``metrics`` limits the rule to
    some targets (e.g. only restoration); None means every target.
    """

    kind: str
    per: str
    percent: Decimal
    cap_percent: Decimal | None
    metrics: frozenset[str] | None


def _percent(raw: Mapping[str, Any], key: str, default: Decimal | None) -> Decimal | None:
    value = raw.get(key)
    if value is None:
        return default
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise CreditRuleError(f"credit {key} must be a number, got {value!r}") from exc
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(100):
        raise CreditRuleError(f"credit {key} must be between 0 and 100, got {value!r}")
    return number


def parse_credit_rule(raw: Mapping[str, Any] | None) -> CreditRule | None:
    """Return the credit rule in a plan's ``credit_rule`` JSON; None when the plan has none."""
    if not raw:
        return None
    if not isinstance(raw, Mapping):
        raise CreditRuleError(f"a credit rule must be a mapping, got {raw!r}")
    known = {"kind", "per", "percent_of_monthly_fee", "cap_percent", "metrics"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise CreditRuleError(f"unknown credit rule keys {unknown}; known: {sorted(known)}")
    kind = str(raw.get("kind", "prorated"))
    if kind not in CREDIT_KINDS:
        raise CreditRuleError(f"credit kind must be one of {CREDIT_KINDS}, got {kind!r}")
    per = str(raw.get("per", "breach"))
    if per not in CREDIT_PER:
        raise CreditRuleError(f"credit 'per' must be one of {CREDIT_PER}, got {per!r}")
    default = Decimal(100) if per == "time_over" else None
    percent = _percent(raw, "percent_of_monthly_fee", default)
    if percent is None:
        raise CreditRuleError("a per-breach credit needs percent_of_monthly_fee")
    metrics = raw.get("metrics")
    if metrics is not None:
        if isinstance(metrics, str) or not all(m in ("callback", "restoration") for m in metrics):
            raise CreditRuleError(f"credit metrics must list callback/restoration, got {metrics!r}")
        metrics = frozenset(metrics)
    return CreditRule(kind, per, percent, _percent(raw, "cap_percent", None), metrics)


def parse_money(text: str | None) -> Decimal:
    """Return a monthly fee such as "1500.00" as Decimal."""
    if text is None or str(text).strip() == "":
        raise CreditRuleError("the plan has a credit rule but no monthly fee")
    try:
        amount = Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise CreditRuleError(f"monthly fee must be an amount like 1500.00, got {text!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise CreditRuleError(f"monthly fee must be a non-negative amount, got {text!r}")
    return amount


def money(amount: Decimal) -> Decimal:
    """Return ``amount`` rounded half-up to cents."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def minutes_in_month(year: int, month: int, time_zone: str) -> int:
    """Return the real minutes in a local calendar month (DST months gain or lose an hour)."""
    tz = ZoneInfo(time_zone)
    first = datetime(year, month, 1, tzinfo=tz)
    following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return int((following.astimezone(UTC) - first.astimezone(UTC)) // timedelta(minutes=1))


def breach_credit(
    rule: CreditRule, monthly_fee: Decimal, metric: str, over: int, month_minutes: int
) -> Decimal:
    """Return the credit one breach earns before the monthly cap; 0.00 if the rule skips it."""
    if over <= 0 or (rule.metrics is not None and metric not in rule.metrics):
        return money(Decimal(0))
    share = rule.percent / 100
    if rule.per == "time_over":
        if month_minutes <= 0:
            raise CreditRuleError(f"a month has positive minutes, got {month_minutes}")
        share *= Decimal(min(over, month_minutes)) / Decimal(month_minutes)
    return money(monthly_fee * share)


def capped_total(
    rule: CreditRule | None, monthly_fee: Decimal | None, amounts: Iterable[Decimal]
) -> Decimal:
    """Return one customer-month's credits summed and held to the rule's monthly cap."""
    total = money(sum(amounts, Decimal(0)))
    if rule is None or rule.cap_percent is None or monthly_fee is None:
        return total
    return min(total, money(monthly_fee * rule.cap_percent / 100))


# --- percentiles -------------------------------------------------------------------------


def nearest_rank(values: Sequence[T], percent: float) -> T | None:
    """Return the nearest-rank ``percent``-th percentile of ``values``; None if empty."""
    if not 0 < percent <= 100:
        raise SlaMathError(f"a percentile is in (0, 100], got {percent}")
    if not values:
        return None
    ordered = sorted(values)
    # Exact arithmetic: 0.9 * 30 in floats is 27.000000000000004, whose ceiling is 28.
    rank = math.ceil(Fraction(str(percent)) * len(ordered) / 100)
    return ordered[max(rank, 1) - 1]
