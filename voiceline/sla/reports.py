"""The monthly SLA report: per customer and target, compliance, breaches, times and credits.

What counts, decided once here so the CLI, the admin page, the CSV and the email agree:

* **Month**: an incident (and each of its clocks) belongs to the month in which its clock
  started, in the customer's local time (the zone stored on the clock). A message left at
  20:00 on 31 October in Oregon is October's, though it is 1 November in UTC.
* **Outcome** at the report's ``as_of`` moment: a stopped clock is met or breached as
  recorded; a running clock already past its target is a breach "still open" (minutes
  over so far); a running clock within its target is *open* and left out of compliance.
* **Compliance** = met / (met + breached), as a percentage rounded half-up to 0.1; none
  when nothing was decided.
* **Times** to callback (or restoration) are over stopped clocks, wall and business time
  (net of pauses), as the median and 90th percentile by nearest rank (voiceline.sla_math).
* **Credits**: each breach earns what the plan's rule gives (stored at the stop; for a
  breach still open, computed at ``as_of``); the month's total per customer is then held
  to the rule's ``cap_percent`` of the monthly fee.

``monthly_report`` loads the rows; ``aggregate`` is the pure part. Renderers for text,
CSV and JSON are in voiceline.report_formats.

Errors (ValueError): ReportError for a bad month or an unknown customer.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from voiceline.customers.business_time import BusinessCalendar
from voiceline.customers.models import Customer
from voiceline.customers.services import calendar_for
from voiceline.errors import InvalidInput
from voiceline.incidents.models import Incident
from voiceline.sla.models import SlaClock
from voiceline.sla.sla_math import (
    CreditRule,
    CreditRuleError,
    breach_credit,
    capped_total,
    measure,
    minutes_in_month,
    minutes_over,
    nearest_rank,
    parse_credit_rule,
    parse_money,
    target_of,
)

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class ReportError(InvalidInput):
    """A report that cannot be made as asked: a bad month or an unknown customer."""


def parse_month(text: str) -> date:
    """Return the first day of a month written ``YYYY-MM``."""
    match = _MONTH_RE.match((text or "").strip())
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1900:
        raise ReportError(f"a month is written YYYY-MM (e.g. 2026-11), got {text!r}")
    return date(int(match[1]), int(match[2]), 1)


def month_label(month: date) -> str:
    """Return "November 2026"."""
    return month.strftime("%B %Y")


def in_local_month(at: datetime, time_zone: str, month: date) -> bool:
    """Return True when ``at`` falls in ``month`` on the wall clocks of ``time_zone``."""
    local = at.astimezone(ZoneInfo(time_zone))
    return (local.year, local.month) == (month.year, month.month)


# --- the report's shape -----------------------------------------------------------------


@dataclass(frozen=True)
class ClockFact:
    """One clock as the report sees it at ``as_of``: plain values only."""

    incident_id: int
    metric: str
    priority: str
    target_minutes: int
    clock: str
    time_zone: str
    started_at: datetime
    deadline_at: datetime
    stopped_at: datetime | None
    stop_kind: str | None
    wall_seconds: int  # to the stop, or to as_of while running
    business_seconds: int
    is_met: bool | None  # None: running and still within target
    minutes_over: int
    credit: Decimal


@dataclass(frozen=True)
class TargetLine:
    """One target's month for one customer."""

    metric: str
    priority: str
    target_minutes: int
    clock: str
    incidents: int
    met: int
    breached: int
    open: int
    compliance: Decimal | None  # percent, 0.1
    median_wall: int | None  # seconds, over stopped clocks
    p90_wall: int | None
    median_business: int | None
    p90_business: int | None
    minutes_over: int
    credits: Decimal  # before the monthly cap

    @property
    def label(self) -> str:
        """Return e.g. "callback, emergency: 30 min wall"."""
        return f"{self.metric}, {self.priority}: {describe_target(self.target_minutes, self.clock)}"


@dataclass(frozen=True)
class CustomerMonth:
    """One customer's month."""

    code: str
    name: str
    plan: str
    time_zone: str
    monthly_fee: Decimal | None
    cap_percent: Decimal | None
    incidents: int
    targets: tuple[TargetLine, ...]
    breaches: tuple[ClockFact, ...]
    credits_before_cap: Decimal
    credits: Decimal
    credit_error: str | None = None


@dataclass(frozen=True)
class Report:
    """The month's report over one or all customers."""

    month: date
    as_of: datetime
    customers: tuple[CustomerMonth, ...] = field(default_factory=tuple)


def describe_target(minutes: int, clock: str) -> str:
    """Return "30 min wall" or "4 h business"."""
    amount = f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
    return f"{amount} {clock}"


def compliance_percent(met: int, breached: int) -> Decimal | None:
    """Return met / (met + breached) in percent, rounded half-up to 0.1; None if neither."""
    decided = met + breached
    if decided == 0:
        return None
    return (Decimal(100 * met) / Decimal(decided)).quantize(Decimal("0.1"), ROUND_HALF_UP)


# --- aggregation (pure) -----------------------------------------------------------------

TargetKey = tuple[str, str, int, str]  # metric, priority, minutes, clock


def _target_line(key: TargetKey, facts: Sequence[ClockFact]) -> TargetLine:
    met = sum(1 for f in facts if f.is_met is True)
    breached = sum(1 for f in facts if f.is_met is False)
    stopped = [f for f in facts if f.stopped_at is not None]
    walls = [f.wall_seconds for f in stopped]
    business = [f.business_seconds for f in stopped]
    return TargetLine(
        metric=key[0],
        priority=key[1],
        target_minutes=key[2],
        clock=key[3],
        incidents=len(facts),
        met=met,
        breached=breached,
        open=len(facts) - met - breached,
        compliance=compliance_percent(met, breached),
        median_wall=nearest_rank(walls, 50),
        p90_wall=nearest_rank(walls, 90),
        median_business=nearest_rank(business, 50),
        p90_business=nearest_rank(business, 90),
        minutes_over=sum(f.minutes_over for f in facts if f.is_met is False),
        credits=sum((f.credit for f in facts), Decimal("0.00")),
    )


def aggregate_customer(
    customer: CustomerInfo, facts: Iterable[ClockFact], incidents: int
) -> CustomerMonth:
    """Return one customer's month from its clocks (already chosen for the month)."""
    by_target: dict[TargetKey, list[ClockFact]] = {k: [] for k in customer.plan_targets}
    for fact in facts:
        key = (fact.metric, fact.priority, fact.target_minutes, fact.clock)
        by_target.setdefault(key, []).append(fact)
    order = {"callback": 0, "restoration": 1}
    keys = sorted(by_target, key=lambda k: (order.get(k[0], 9), k[1], k[2], k[3]))
    lines = tuple(_target_line(k, by_target[k]) for k in keys)
    breaches = sorted(
        (f for k in keys for f in by_target[k] if f.is_met is False),
        key=lambda f: (f.started_at, f.incident_id, f.metric),
    )
    before_cap = sum((line.credits for line in lines), Decimal("0.00"))
    return CustomerMonth(
        code=customer.code,
        name=customer.name,
        plan=customer.plan,
        time_zone=customer.time_zone,
        monthly_fee=customer.monthly_fee,
        cap_percent=customer.rule.cap_percent if customer.rule else None,
        incidents=incidents,
        targets=lines,
        breaches=tuple(breaches),
        credits_before_cap=before_cap,
        credits=capped_total(customer.rule, customer.monthly_fee, [before_cap]),
        credit_error=customer.credit_error,
    )


# --- loading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerInfo:
    """What the report needs of a customer and its plan."""

    code: str
    name: str
    plan: str
    time_zone: str
    monthly_fee: Decimal | None
    rule: CreditRule | None
    credit_error: str | None
    plan_targets: tuple[TargetKey, ...]


def _customer_info(customer: Customer) -> CustomerInfo:
    plan = customer.plan
    rule, fee, error = None, None, None
    try:
        rule = parse_credit_rule(plan.credit_rule)
        if plan.monthly_fee:
            fee = parse_money(plan.monthly_fee)
        if rule is not None and fee is None:
            raise CreditRuleError("the plan has a credit rule but no monthly fee")
    except CreditRuleError as exc:
        rule, error = None, str(exc)
    targets = tuple((t.metric, t.priority, t.minutes, t.clock) for t in plan.targets)
    if plan.callback_target_minutes and not any(
        t[:2] == ("callback", "emergency") for t in targets
    ):
        targets += (("callback", "emergency", plan.callback_target_minutes, "wall"),)
    return CustomerInfo(
        customer.code, customer.name, plan.name, customer.time_zone, fee, rule, error, targets
    )


# The columns a report reads of a clock: plain rows, not ORM objects, so a month of a
# hundred thousand clocks costs a tuple each.
_CLOCK_COLUMNS = (
    SlaClock.incident_id,
    SlaClock.metric,
    SlaClock.priority,
    SlaClock.target_minutes,
    SlaClock.clock,
    SlaClock.time_zone,
    SlaClock.started_at,
    SlaClock.deadline_at,
    SlaClock.stopped_at,
    SlaClock.stop_kind,
    SlaClock.wall_seconds,
    SlaClock.business_seconds,
    SlaClock.is_met,
    SlaClock.minutes_over,
    SlaClock.credit,
    SlaClock.pauses,
    Incident.customer_id,
)


def _fact(
    clock: Row[Any], info: CustomerInfo, calendar: Callable[[], BusinessCalendar], as_of: datetime
) -> ClockFact:
    """Return the clock as it stands at ``as_of``; a running one is measured now."""
    credit = Decimal(clock.credit.get("amount", "0.00")) if clock.credit else Decimal("0.00")
    if clock.stopped_at is not None:
        return ClockFact(
            clock.incident_id, clock.metric, clock.priority, clock.target_minutes, clock.clock,
            clock.time_zone, clock.started_at, clock.deadline_at, clock.stopped_at,
            clock.stop_kind, clock.wall_seconds or 0, clock.business_seconds or 0,
            clock.is_met, clock.minutes_over or 0, credit,
        )  # fmt: skip
    spent = measure(clock, as_of, calendar())
    assert spent.business is not None
    over = minutes_over(spent.on(clock.clock), target_of(clock))
    credit = Decimal("0.00")
    if over and info.rule is not None and info.monthly_fee is not None:
        local = clock.started_at.astimezone(ZoneInfo(clock.time_zone))
        month_minutes = minutes_in_month(local.year, local.month, clock.time_zone)
        credit = breach_credit(info.rule, info.monthly_fee, clock.metric, over, month_minutes)
    return ClockFact(
        clock.incident_id, clock.metric, clock.priority, clock.target_minutes, clock.clock,
        clock.time_zone, clock.started_at, clock.deadline_at, None, None,
        int(spent.wall.total_seconds()), int(spent.business.total_seconds()),
        False if over else None, over, credit,
    )  # fmt: skip


def local_month_bounds(time_zone: str, month: date) -> tuple[datetime, datetime]:
    """Return the UTC instants where ``month`` begins and ends on ``time_zone``'s wall clocks."""
    zone = ZoneInfo(time_zone)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return (
        datetime.combine(month, time.min, zone).astimezone(UTC),
        datetime.combine(following, time.min, zone).astimezone(UTC),
    )


def monthly_report(
    session: Session, month: date, customer_code: str | None = None, *, as_of: datetime
) -> Report:
    """Return the SLA report for ``month`` over every customer, or the one named."""
    month = month.replace(day=1)
    if as_of.tzinfo is None:
        raise ReportError("as_of must be a timezone-aware datetime")
    query = select(Customer).order_by(Customer.name, Customer.code)
    if customer_code is not None:
        query = query.where(Customer.code == customer_code)
    customers = list(session.scalars(query))
    if customer_code is not None and not customers:
        raise ReportError(f"no customer with code {customer_code!r}")
    bounds: dict[str, tuple[datetime, datetime]] = {}

    def month_of(time_zone: str) -> tuple[datetime, datetime]:
        if time_zone not in bounds:
            bounds[time_zone] = local_month_bounds(time_zone, month)
        return bounds[time_zone]

    # Every zone is within a day of UTC: load a day either side, then keep the local month.
    lo = min((month_of(c.time_zone)[0] for c in customers), default=None)
    hi = max((month_of(c.time_zone)[1] for c in customers), default=None)
    if lo is None or hi is None:
        return Report(month=month, as_of=as_of.astimezone(UTC), customers=())
    lo, hi = lo - timedelta(days=1), hi + timedelta(days=1)
    by_customer: dict[int, list[Row[Any]]] = {c.id: [] for c in customers}
    rows = session.execute(
        select(*_CLOCK_COLUMNS)
        .join(Incident, Incident.id == SlaClock.incident_id)
        .where(
            Incident.customer_id.in_(list(by_customer)),
            SlaClock.started_at >= lo,
            SlaClock.started_at < hi,
        )
        .order_by(SlaClock.started_at, SlaClock.id)
    )
    for row in rows:
        start, end = month_of(row.time_zone)
        if start <= row.started_at < end:
            by_customer[row.customer_id].append(row)
    months = []
    for customer in customers:
        info = _customer_info(customer)
        start, end = month_of(customer.time_zone)
        count = session.scalar(
            select(func.count(Incident.id)).where(
                Incident.customer_id == customer.id,
                Incident.clock_started_at >= start,
                Incident.clock_started_at < end,
            )
        )
        calendar = functools.cache(functools.partial(calendar_for, customer))
        facts = [_fact(row, info, calendar, as_of) for row in by_customer[customer.id]]
        months.append(aggregate_customer(info, facts, count or 0))
    return Report(month=month, as_of=as_of.astimezone(UTC), customers=tuple(months))
