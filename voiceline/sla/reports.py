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

``monthly_report`` has the database aggregate the month's stopped clocks and measures the
running ones here (voiceline.sla.report_queries); a report with its breaches reads them
once and adds up their credits from that read. A report made without its breaches
(``with_breaches=False``, the admin page) lists them a page at a time
(voiceline.sla.report_pages) or streams them (``iter_breaches``). Renderers for text, CSV and JSON are in
voiceline.report_formats.

Errors (ValueError): ReportError for a bad month or an unknown customer.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, select
from sqlalchemy.orm import Session, selectinload

from voiceline.customers.business_time import BusinessCalendar
from voiceline.customers.models import Customer, Plan
from voiceline.customers.services import calendar_for
from voiceline.errors import InvalidInput
from voiceline.sla.report_queries import (
    ZERO,
    BreachKey,
    Scope,
    StoppedTotals,
    TargetKey,
    all_stopped_breaches,
    credit_of,
    incident_counts,
    local_month_bounds,
    month_scope,
    running_clocks,
    stopped_breaches,
    stopped_totals,
)
from voiceline.sla.report_shapes import (
    ClockFact,
    CustomerMonth,
    Report,
    TargetLine,
    compliance_percent,
    describe_target,
)
from voiceline.sla.sla_math import (
    CreditRule,
    CreditRuleError,
    breach_credit,
    capped_total,
    measure,
    minutes_in_month,
    minutes_over,
    parse_credit_rule,
    parse_money,
    target_of,
)

# Where the report's shapes and the month's bounds have always been imported from.
__all__ = [
    "ClockFact",
    "CustomerMonth",
    "Report",
    "TargetLine",
    "compliance_percent",
    "describe_target",
    "local_month_bounds",
]

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


# --- aggregation ------------------------------------------------------------------------


def _target_line(
    key: TargetKey, stopped: StoppedTotals | None, running: Sequence[ClockFact]
) -> TargetLine:
    """Return one target's month: the stopped clocks' totals plus the running clocks."""
    done = stopped or StoppedTotals(percentiles={})
    ranks = done.percentiles or {}
    met = done.met + sum(1 for f in running if f.is_met is True)
    breached = done.breached + sum(1 for f in running if f.is_met is False)
    incidents = done.stopped + len(running)
    return TargetLine(
        metric=key[0],
        priority=key[1],
        target_minutes=key[2],
        clock=key[3],
        incidents=incidents,
        met=met,
        breached=breached,
        open=incidents - met - breached,
        compliance=compliance_percent(met, breached),
        median_wall=ranks.get(("wall", 50)),
        p90_wall=ranks.get(("wall", 90)),
        median_business=ranks.get(("business", 50)),
        p90_business=ranks.get(("business", 90)),
        minutes_over=done.minutes_over + sum(f.minutes_over for f in running if f.is_met is False),
        credits=done.credits + sum((f.credit for f in running), Decimal("0.00")),
    )


def _customer_month(
    customer: CustomerInfo,
    customer_id: int,
    stopped: dict[TargetKey, StoppedTotals],
    running: Sequence[ClockFact],
    incidents: int,
) -> CustomerMonth:
    """Return one customer's month from its stopped totals and its running clocks."""
    by_target: dict[TargetKey, list[ClockFact]] = {k: [] for k in customer.plan_targets}
    for key in stopped:
        by_target.setdefault(key, [])
    for fact in running:
        key = (fact.metric, fact.priority, fact.target_minutes, fact.clock)
        by_target.setdefault(key, []).append(fact)
    order = {"callback": 0, "restoration": 1}
    keys = sorted(by_target, key=lambda k: (order.get(k[0], 9), k[1], k[2], k[3]))
    lines = tuple(_target_line(k, stopped.get(k), by_target[k]) for k in keys)
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
        breaches=(),
        credits_before_cap=before_cap,
        credits=capped_total(customer.rule, customer.monthly_fee, [before_cap]),
        credit_error=customer.credit_error,
        customer_id=customer_id,
        running_breaches=tuple(sorted((f for f in running if f.is_met is False), key=breach_key)),
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


def breach_key(fact: ClockFact) -> BreachKey:
    """Return a breach's place in the report: by start, then incident, then metric."""
    return (fact.started_at, fact.incident_id, fact.metric)


def _stopped_fact(clock: Row[Any]) -> ClockFact:
    """Return a stopped clock as recorded at its stop."""
    # CLOCK_COLUMNS begin with ClockFact's fields, in order (the credit's amount in its
    # place): read by position, which is quicker than by name over a month's breaches.
    fields: tuple[Any, ...] = clock[:15]
    (incident, metric, priority, minutes, kind, zone, started, deadline, stopped, stop_kind,
     wall, business, is_met, over, amount) = fields  # fmt: skip
    return ClockFact(
        incident, metric, priority, minutes, kind, zone, started, deadline, stopped,
        stop_kind, wall or 0, business or 0, is_met, over or 0, credit_of(amount),
    )  # fmt: skip


def _running_fact(
    clock: Row[Any], info: CustomerInfo, calendar: Callable[[], BusinessCalendar], as_of: datetime
) -> ClockFact:
    """Return a running clock as it stands at ``as_of``, measured on the customer's calendar."""
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


def iter_breaches(
    session: Session,
    report: Report,
    customer: CustomerMonth,
    *,
    after: BreachKey | None = None,
    batch: int = 1000,
) -> Iterator[ClockFact]:
    """Yield a customer's breaches of the report in order, those after ``after`` only."""
    if report.scope is None or customer.customer_id is None:
        yield from (b for b in customer.breaches if after is None or breach_key(b) > after)
        return
    stopped = (
        _stopped_fact(row)
        for row in stopped_breaches(
            session, report.scope, customer.customer_id, after=after, batch=batch
        )
    )
    running = [b for b in customer.running_breaches if after is None or breach_key(b) > after]
    yield from _merged(stopped, running)


def iter_all_breaches(
    session: Session, report: Report
) -> Iterator[tuple[CustomerMonth, ClockFact]]:
    """Yield every breach of the report, customer by customer in report order, from one
    query read in batches (for the whole report and the exports)."""
    if report.scope is None:
        yield from ((c, b) for c in report.customers for b in c.breaches)
        return
    order = [c.customer_id for c in report.customers if c.customer_id is not None]
    rows = all_stopped_breaches(session, report.scope, order)
    pending = next(rows, None)
    for customer in report.customers:
        stopped = []
        while pending is not None and pending.customer_id == customer.customer_id:
            stopped.append(_stopped_fact(pending))
            pending = next(rows, None)
        for fact in _merged(iter(stopped), list(customer.running_breaches)):
            yield customer, fact


def _merged(stopped: Iterator[ClockFact], running: list[ClockFact]) -> Iterator[ClockFact]:
    import heapq

    yield from heapq.merge(stopped, running, key=breach_key)


def monthly_report(
    session: Session,
    month: date,
    customer_code: str | None = None,
    *,
    as_of: datetime,
    with_breaches: bool = True,
) -> Report:
    """Return the SLA report for ``month`` over every customer, or the one named.

    ``with_breaches=False`` leaves each customer's ``breaches`` empty, for a caller that
    reads them a page at a time (``breach_page``) or streams them (``iter_breaches``).
    """
    month = month.replace(day=1)
    if as_of.tzinfo is None:
        raise ReportError("as_of must be a timezone-aware datetime")
    query = (
        select(Customer)
        .options(selectinload(Customer.plan).selectinload(Plan.targets))
        .order_by(Customer.name, Customer.code)
    )
    if customer_code is not None:
        query = query.where(Customer.code == customer_code)
    customers = list(session.scalars(query))
    if customer_code is not None and not customers:
        raise unknown_customer(customer_code)
    pairs = [(c.id, c.time_zone) for c in customers]
    scope = month_scope(session, month, pairs)
    counts = incident_counts(session, month, pairs)
    # A report with its breaches reads every stopped breach once, and adds up their
    # credits from that read instead of the totals' second pass.
    listed = _stopped_breaches_by_customer(session, scope) if with_breaches else None
    credits = None if listed is None else _credits_of(listed)
    stopped: dict[int, dict[TargetKey, StoppedTotals]] = defaultdict(dict)
    for (customer_id, key), totals in stopped_totals(session, scope, credits).items():
        stopped[customer_id][key] = totals
    running: dict[int, list[Row[Any]]] = defaultdict(list)
    for row in running_clocks(session, scope):
        running[row.customer_id].append(row)
    months = []
    for customer in customers:
        info = _customer_info(customer)
        # one calendar per customer and report, built only if a running clock needs it
        calendar = functools.cache(functools.partial(calendar_for, customer))
        facts = [_running_fact(row, info, calendar, as_of) for row in running[customer.id]]
        months.append(
            _customer_month(info, customer.id, stopped[customer.id], facts,
                            counts.get(customer.id, 0))
        )  # fmt: skip
    report = Report(month=month, as_of=as_of.astimezone(UTC), customers=tuple(months), scope=scope)
    if listed is None:
        return report
    whole = tuple(
        replace(c, breaches=tuple(_merged(iter(listed.get(c.customer_id or 0, ())),
                                          list(c.running_breaches))))
        for c in report.customers
    )  # fmt: skip
    return replace(report, customers=whole)


def _stopped_breaches_by_customer(session: Session, scope: Scope) -> dict[int, list[ClockFact]]:
    """Return every stopped breach of the scope, by customer id, each in report order."""
    listed: dict[int, list[ClockFact]] = {i: [] for i in scope.customer_ids}
    for row in all_stopped_breaches(session, scope, scope.customer_ids):
        listed[row.customer_id].append(_stopped_fact(row))
    return listed


def _credits_of(listed: dict[int, list[ClockFact]]) -> dict[tuple[int, TargetKey], Decimal]:
    """Return the credits of ``listed`` breaches added up per customer and target."""
    credits: dict[tuple[int, TargetKey], Decimal] = {}
    for customer_id, facts in listed.items():
        for f in facts:
            key = (customer_id, (f.metric, f.priority, f.target_minutes, f.clock))
            credits[key] = credits.get(key, ZERO) + f.credit
    return credits


def unknown_customer(code: str) -> ReportError:
    """Return the error for a report asked of a customer that does not exist."""
    return ReportError(f"no customer with code {code!r}")
