"""The admin page's share of a monthly report: its breaches a page at a time, and the
checks that give a bad request its answer before any clock is read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from voiceline.sla.report_queries import BreachKey
from voiceline.sla.report_shapes import ClockFact, CustomerMonth, Report
from voiceline.sla.reports import ReportError, breach_key, iter_breaches, unknown_customer

Cursor = tuple[str, BreachKey]  # customer code, the last breach shown


def _not_in_report(code: str) -> ReportError:
    return ReportError(f"no customer {code!r} in this report")


def check_page_request(
    codes: Sequence[str], customer_code: str | None, after: Cursor | None
) -> None:
    """Raise the ReportError that ``monthly_report`` and then ``breach_page`` would raise
    for this customer and page, given every customer's code: before either reads a clock.
    """
    if customer_code is not None and customer_code not in codes:
        raise unknown_customer(customer_code)
    in_report = codes if customer_code is None else [customer_code]
    if after is not None and after[0] not in in_report:
        raise _not_in_report(after[0])


@dataclass(frozen=True)
class BreachPage:
    """One page of a report's breaches, in report order, and where the next one starts."""

    rows: tuple[tuple[CustomerMonth, ClockFact], ...]
    next_after: Cursor | None


def breach_page(
    session: Session, report: Report, size: int, after: Cursor | None = None
) -> BreachPage:
    """Return up to ``size`` breaches following ``after`` (from the first when None)."""
    rows: list[tuple[CustomerMonth, ClockFact]] = []
    customers = list(report.customers)
    if after is not None:
        codes = [c.code for c in customers]
        if after[0] not in codes:
            raise _not_in_report(after[0])
        customers = customers[codes.index(after[0]) :]
    for customer in customers:
        if customer.breach_count == 0:
            continue
        key = after[1] if after is not None and customer.code == after[0] else None
        for fact in iter_breaches(session, report, customer, after=key, batch=size + 1):
            if len(rows) == size:
                last_customer, last = rows[-1]
                return BreachPage(tuple(rows), (last_customer.code, breach_key(last)))
            rows.append((customer, fact))
    return BreachPage(tuple(rows), None)
