"""The monthly report's shape: plain values the CLI, the admin page and the exports share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from voiceline.sla.report_queries import Scope

# --- the report's shape -----------------------------------------------------------------


class ClockFact(NamedTuple):
    """One clock as the report sees it at ``as_of``: plain values only.

    A named tuple, not a frozen dataclass: a big month lists ten thousand breaches, and
    this is five times quicker to make.
    """

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
    breaches: tuple[ClockFact, ...]  # empty in a report made without them
    credits_before_cap: Decimal
    credits: Decimal
    credit_error: str | None = None
    customer_id: int | None = None
    running_breaches: tuple[ClockFact, ...] = ()  # the breaches measured at as_of

    @property
    def breach_count(self) -> int:
        """Return how many clocks of the month were breached (listed or not)."""
        return sum(line.breached for line in self.targets)


@dataclass(frozen=True)
class Report:
    """The month's report over one or all customers."""

    month: date
    as_of: datetime
    customers: tuple[CustomerMonth, ...] = field(default_factory=tuple)
    scope: Scope | None = None  # what the month's clocks are, to read its breaches


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
