"""The monthly report's reads: a month of clocks aggregated in SQL, and its breaches by page.

A month of a hundred thousand clocks must not come back to Python one by one. The stopped
clocks, whose outcome, times and credit were recorded at their stop, are counted and
summed in the database: one query, from one covering index by customer and start (each
clock carries its incident's customer), returns per customer, target and outcome the
counts, minutes over, and the wall and business seconds as strings of integers, which are
sorted here and ranked for the median and 90th percentile by
voiceline.sla_math.nearest_rank (exact integer arithmetic, whatever the database). The
breaches' credits are added up per amount, so that money is summed exactly in Python as
Decimal. Running clocks are few and must be measured at ``as_of`` on the customer's
calendar, so they are read whole. Breaches are read in their report order, all of them
for the exports or a page at a time for the admin page.

A clock belongs to the month in which it started on the wall clocks of its own zone: the
``Scope`` holds each zone's bounds, found once per report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC as _UTC
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    case,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from voiceline.incidents.models import Incident
from voiceline.sla.models import SlaClock
from voiceline.sla.report_sql import JoinedIntegers, NotAnIndex, UtcInstant
from voiceline.sla.sla_math import nearest_rank

PERCENTILES = (50, 90)
ZERO = Decimal("0.00")


def local_month_bounds(time_zone: str, month: date) -> tuple[datetime, datetime]:
    """Return the UTC instants where ``month`` begins and ends on ``time_zone``'s wall clocks."""
    zone = ZoneInfo(time_zone)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return (
        datetime.combine(month, time.min, zone).astimezone(_UTC),
        datetime.combine(following, time.min, zone).astimezone(_UTC),
    )


@dataclass(frozen=True)
class Scope:
    """Which clocks a report covers: its customers, and each clock zone's local month."""

    month: date
    customer_ids: tuple[int, ...]
    bounds: tuple[tuple[str, datetime, datetime], ...]  # zone, start, end (UTC)
    lo: datetime  # every zone's month lies inside [lo, hi)
    hi: datetime

    def clocks_in_month(self) -> ColumnElement[bool]:
        """Return the SQL condition: the clock started inside its own zone's month."""
        if not self.bounds:
            return false()
        return and_(
            SlaClock.started_at >= self.lo,
            SlaClock.started_at < self.hi,
            or_(
                *(
                    and_(SlaClock.time_zone == zone, SlaClock.started_at >= start,
                         SlaClock.started_at < end)
                    for zone, start, end in self.bounds
                )
            ),
        )  # fmt: skip


def month_scope(session: Session, month: date, customers: Sequence[tuple[int, str]]) -> Scope:
    """Return the scope of ``month`` over ``customers`` (id, time zone)."""
    ids = tuple(i for i, _ in customers)
    if not customers:
        return Scope(
            month, ids, (), datetime.min.replace(tzinfo=_UTC), datetime.min.replace(tzinfo=_UTC)
        )
    own = [local_month_bounds(zone, month) for zone in {z for _, z in customers}]
    # Every zone is within a day of UTC: clocks kept in another zone than their customer's
    # today still start within a day of the customers' months.
    lo = min(b[0] for b in own) - timedelta(days=1)
    hi = max(b[1] for b in own) + timedelta(days=1)
    zones = session.scalars(
        select(SlaClock.time_zone)
        .distinct()
        .where(SlaClock.started_at >= lo, SlaClock.started_at < hi)
    )
    bounds = tuple((z, *local_month_bounds(z, month)) for z in sorted(zones))
    if bounds:
        lo, hi = min(b[1] for b in bounds), max(b[2] for b in bounds)
    return Scope(month, ids, bounds, lo, hi)


def incident_counts(
    session: Session, month: date, customers: Sequence[tuple[int, str]]
) -> dict[int, int]:
    """Return how many incidents each customer had in ``month`` (by its own zone), by id."""
    by_zone: dict[str, list[int]] = {}
    for customer_id, zone in customers:
        by_zone.setdefault(zone, []).append(customer_id)
    if not by_zone:
        return {}
    terms: list[ColumnElement[bool]] = []
    ids: list[int] = []
    starts: list[datetime] = []
    ends: list[datetime] = []
    for zone, owners in by_zone.items():
        start, end = local_month_bounds(zone, month)
        terms.append(and_(Incident.customer_id.in_(owners), Incident.clock_started_at >= start,
                          Incident.clock_started_at < end))  # fmt: skip
        ids += owners
        starts.append(start)
        ends.append(end)
    # The terms' customers and their widest month too, spelt out: SQLite then seeks the
    # index by customer and clock start and reads nothing else (with the terms alone it
    # read each incident the index found).
    rows = session.execute(
        select(Incident.customer_id, func.count())
        .where(
            Incident.customer_id.in_(ids),
            Incident.clock_started_at >= min(starts),
            Incident.clock_started_at < max(ends),
            or_(*terms),
        )
        .group_by(Incident.customer_id)
    )
    return {customer_id: count for customer_id, count in rows if customer_id is not None}


# --- the stopped clocks, aggregated ---------------------------------------------------

TargetKey = tuple[str, str, int, str]  # metric, priority, minutes, clock


@dataclass
class StoppedTotals:
    """One customer's stopped clocks of one target: what the SQL aggregate gave."""

    stopped: int = 0
    met: int = 0
    breached: int = 0
    minutes_over: int = 0  # of the breached
    credits: Decimal = ZERO
    percentiles: dict[tuple[str, int], int] | None = None  # ("wall", 50) -> seconds


def _group() -> tuple[Any, ...]:
    return (SlaClock.customer_id, SlaClock.metric, SlaClock.priority, SlaClock.target_minutes,
            SlaClock.clock)  # fmt: skip


def _customer() -> Any:
    return NotAnIndex(SlaClock.customer_id)


def _of_scope(scope: Scope, *columns: Any, by_customer: bool = False) -> Any:
    """Select ``columns`` of the scope's clocks; ``by_customer``: seek them by customer and
    start (the totals' covering index), else through the index the other terms match."""
    customer = SlaClock.customer_id if by_customer else _customer()
    return (
        select(*columns)
        .select_from(SlaClock)
        .where(customer.in_(scope.customer_ids), scope.clocks_in_month())
    )


def _integers(joined: str) -> list[int]:
    # read as a JSON array: one C call, half the time of int() on each of split(",")
    values: list[int] = json.loads(f"[{joined}]")
    return values


def stopped_totals(
    session: Session,
    scope: Scope,
    credits: dict[tuple[int, TargetKey], Decimal] | None = None,
) -> dict[tuple[int, TargetKey], StoppedTotals]:
    """Return the stopped clocks' counts, minutes over, credits and percentiles per target.

    One pass of the month's stopped clocks, from their covering index alone, grouped by
    target and outcome: counts and minutes over are summed there, and each group's wall
    and business seconds come back as one string of integers. A target's values from all
    its groups are sorted here and ranked by voiceline.sla_math.nearest_rank: exact, and
    much cheaper than ranking every clock in the database (two window sorts over the whole
    month). The credits, which only breaches earn, are a second, smaller pass over the
    month's breaches (``_breach_credits``), unless the caller, who read every breach
    already, gives their sums (``credits``).
    """
    wall = func.coalesce(SlaClock.wall_seconds, 0)
    business = func.coalesce(SlaClock.business_seconds, 0)
    query = (
        _of_scope(
            scope,
            *_group(),
            SlaClock.is_met,
            func.count(),
            func.sum(func.coalesce(SlaClock.minutes_over, 0)),
            JoinedIntegers(wall),
            JoinedIntegers(business),
            by_customer=True,
        )
        .where(SlaClock.stopped_at.is_not(None))
        .group_by(*_group(), SlaClock.is_met)
    )
    totals: dict[tuple[int, TargetKey], StoppedTotals] = {}
    values: dict[tuple[int, TargetKey], tuple[list[int], list[int]]] = {}
    for row in session.execute(query):
        key = (row[0], (row[1], row[2], row[3], row[4]))
        is_met, count, over = row[5], row[6], row[7] or 0
        line = totals.setdefault(key, StoppedTotals(percentiles={}))
        line.stopped += count
        if is_met is True:
            line.met += count
        elif is_met is False:
            line.breached += count
            line.minutes_over += over
        walls, businesses = values.setdefault(key, ([], []))
        walls += _integers(row[8])
        businesses += _integers(row[9])
    for key, credit in (_breach_credits(session, scope) if credits is None else credits).items():
        if key in totals:  # else a clock stopped since the totals were read
            totals[key].credits = credit
    for key, line in totals.items():
        assert line.percentiles is not None
        for kind, seconds in zip(("wall", "business"), values[key], strict=True):
            seconds.sort()
            for p in PERCENTILES:
                value = nearest_rank(seconds, p)
                if value is not None:
                    line.percentiles[(kind, p)] = value
    return totals


def _breach_credits(session: Session, scope: Scope) -> dict[tuple[int, TargetKey], Decimal]:
    """Return the credits the month's stopped breaches earned, per customer and target.

    Grouped by amount in SQL, so that money is added up exactly here, as Decimal.
    """
    amount = SlaClock.credit["amount"].as_string()
    query = (
        _of_scope(scope, *_group(), amount, func.count(), by_customer=True)
        .where(SlaClock.stopped_at.is_not(None), SlaClock.is_met.is_(False))
        .group_by(*_group(), amount)
    )
    credits: dict[tuple[int, TargetKey], Decimal] = {}
    for row in session.execute(query):
        if row[5] is not None:
            key = (row[0], (row[1], row[2], row[3], row[4]))
            credits[key] = credits.get(key, ZERO) + Decimal(row[5]) * row[6]
    return credits


# --- running clocks and breaches, as rows ---------------------------------------------

# What a report reads of one clock it lists or measures: ClockFact's fields in order (the
# credit's amount in its place; voiceline.sla.reports reads them by position), then the rest.
CLOCK_COLUMNS = (
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
    SlaClock.credit["amount"].as_string().label("amount"),
    SlaClock.customer_id,
)
# The same of a stopped clock, its instants read the quick way (none of them is NULL).
STOPPED_COLUMNS = tuple(
    UtcInstant(c).label(c.key) if c.key in ("started_at", "deadline_at", "stopped_at") else c
    for c in CLOCK_COLUMNS
)
BreachKey = tuple[datetime, int, str]  # started_at, incident, metric: the report's order


def running_clocks(session: Session, scope: Scope) -> list[Row[Any]]:
    """Return the month's running clocks (with their pauses), in start order."""
    query = _of_scope(scope, *CLOCK_COLUMNS, SlaClock.pauses).where(SlaClock.stopped_at.is_(None))
    return list(
        session.execute(query.order_by(SlaClock.started_at, SlaClock.incident_id, SlaClock.metric))
    )


def all_stopped_breaches(
    session: Session, scope: Scope, customer_order: Sequence[int], batch: int = 1000
) -> Iterator[Row[Any]]:
    """Yield every stopped breach of the scope: by customer in ``customer_order``, then in
    report order; one query, read ``batch`` rows at a time."""
    if not customer_order:
        return iter(())
    position = case({cid: n for n, cid in enumerate(customer_order)}, value=SlaClock.customer_id)
    query = (
        _of_scope(scope, *STOPPED_COLUMNS)
        .where(SlaClock.stopped_at.is_not(None), SlaClock.is_met.is_(False))
        .order_by(position, SlaClock.started_at, SlaClock.incident_id, SlaClock.metric)
        .execution_options(yield_per=batch)
    )
    return iter(session.execute(query))


def stopped_breaches(
    session: Session,
    scope: Scope,
    customer_id: int,
    *,
    after: BreachKey | None = None,
    batch: int = 1000,
) -> Iterator[Row[Any]]:
    """Yield one customer's stopped breaches in report order, after ``after``, in batches."""
    key = (SlaClock.started_at, SlaClock.incident_id, SlaClock.metric)
    while True:
        query = _of_scope(scope, *STOPPED_COLUMNS).where(
            _customer() == customer_id,
            SlaClock.stopped_at.is_not(None),
            SlaClock.is_met.is_(False),
        )
        if after is not None:
            started, incident, metric = after
            query = query.where(
                or_(
                    key[0] > started,
                    and_(key[0] == started, key[1] > incident),
                    and_(key[0] == started, key[1] == incident, key[2] > metric),
                )
            )
        rows = list(session.execute(query.order_by(*key).limit(batch)))
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1]
        after = (last.started_at, last.incident_id, last.metric)


def credit_of(amount: str | None) -> Decimal:
    """Return a stored credit amount as money (none recorded: 0.00)."""
    return ZERO if amount is None else Decimal(amount)
