"""The monthly report's reads: a month of clocks aggregated in SQL, and its breaches by page.

A month of a hundred thousand clocks must not come back to Python one by one. The stopped
clocks, whose outcome, times and credit were recorded at their stop, are counted, summed
and ranked in the database: one query returns per customer and target (and per outcome
and credit amount, so money is summed exactly in Python as Decimal) the counts, minutes
over, and the median and 90th percentile wall and business times by nearest rank (window
functions; the rank is ceil(p x N / 100) in integer arithmetic, as
voiceline.sla_math.nearest_rank computes it). Running clocks are few and must be measured
at ``as_of`` on the customer's calendar, so they are read whole. Breaches are read in
their report order, all of them for the exports or a page at a time for the admin page.

A clock belongs to the month in which it started on the wall clocks of its own zone: the
``Scope`` holds each zone's bounds, found once per report.
"""

from __future__ import annotations

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
    terms = []
    for zone, ids in by_zone.items():
        start, end = local_month_bounds(zone, month)
        terms.append(and_(Incident.customer_id.in_(ids), Incident.clock_started_at >= start,
                          Incident.clock_started_at < end))  # fmt: skip
    rows = session.execute(
        select(Incident.customer_id, func.count()).where(or_(*terms)).group_by(Incident.customer_id)
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
    return (Incident.customer_id, SlaClock.metric, SlaClock.priority, SlaClock.target_minutes,
            SlaClock.clock)  # fmt: skip


def _of_scope(scope: Scope, *columns: Any) -> Any:
    return (
        select(*columns)
        .select_from(SlaClock)
        .join(Incident, Incident.id == SlaClock.incident_id)
        .where(Incident.customer_id.in_(scope.customer_ids), scope.clocks_in_month())
    )


def rank_expression(count: Any, percent: int) -> Any:
    """Return the SQL nearest rank of ``percent`` among ``count`` values: ceil(p x N / 100)."""
    return (count * percent + 99) // 100


def stopped_totals(session: Session, scope: Scope) -> dict[tuple[int, TargetKey], StoppedTotals]:
    """Return the stopped clocks' counts, minutes over, credits and percentiles per target."""
    group = _group()
    wall = func.coalesce(SlaClock.wall_seconds, 0)
    business = func.coalesce(SlaClock.business_seconds, 0)
    ranked = (
        _of_scope(
            scope,
            *group,
            SlaClock.is_met.label("is_met"),
            func.coalesce(SlaClock.minutes_over, 0).label("over"),
            SlaClock.credit["amount"].as_string().label("amount"),
            wall.label("wall"),
            business.label("business"),
            func.row_number().over(partition_by=group, order_by=wall).label("wall_rank"),
            func.row_number().over(partition_by=group, order_by=business).label("business_rank"),
            func.count().over(partition_by=group).label("n"),
        )
        .where(SlaClock.stopped_at.is_not(None))
        .subquery()
    )
    c = ranked.c
    picks = [
        func.max(case((getattr(c, f"{kind}_rank") == rank_expression(c.n, p), getattr(c, kind))))
        for kind in ("wall", "business")
        for p in PERCENTILES
    ]
    query = select(
        c.customer_id, c.metric, c.priority, c.target_minutes, c.clock, c.is_met, c.amount,
        func.count(), func.sum(c.over), *picks,
    ).group_by(c.customer_id, c.metric, c.priority, c.target_minutes, c.clock, c.is_met, c.amount)  # fmt: skip
    totals: dict[tuple[int, TargetKey], StoppedTotals] = {}
    for row in session.execute(query):
        key = (row[0], (row[1], row[2], row[3], row[4]))
        is_met, amount, count, over = row[5], row[6], row[7], row[8] or 0
        line = totals.setdefault(key, StoppedTotals(percentiles={}))
        line.stopped += count
        if is_met is True:
            line.met += count
        elif is_met is False:
            line.breached += count
            line.minutes_over += over
        if amount is not None:
            line.credits += Decimal(amount) * count
        assert line.percentiles is not None
        for (kind, p), value in zip(
            ((k, p) for k in ("wall", "business") for p in PERCENTILES), row[9:], strict=True
        ):
            if value is not None:
                line.percentiles[(kind, p)] = value
    return totals


# --- running clocks and breaches, as rows ---------------------------------------------

# What a report reads of one clock it lists or measures.
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
    Incident.customer_id,
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
    position = case({cid: n for n, cid in enumerate(customer_order)}, value=Incident.customer_id)
    query = (
        _of_scope(scope, *CLOCK_COLUMNS)
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
        query = _of_scope(scope, *CLOCK_COLUMNS).where(
            Incident.customer_id == customer_id,
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
