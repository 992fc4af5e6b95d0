"""The monthly SLA report as text, CSV and JSON, and the small formatters the page shares.

Durations print as H:MM:SS, compliance as a percentage to 0.1, money with two decimals;
the CSV and JSON give minutes and seconds as plain numbers for spreadsheets and scripts.
Local times are in the customer's zone, with its abbreviation (PST, GMT).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from voiceline.sla.reports import ClockFact, CustomerMonth, Report, TargetLine, month_label

TARGET_COLUMNS = (
    "month",
    "customer",
    "customer_name",
    "metric",
    "priority",
    "target_minutes",
    "clock",
    "incidents",
    "met",
    "breached",
    "open",
    "compliance_percent",
    "median_wall_minutes",
    "p90_wall_minutes",
    "median_business_minutes",
    "p90_business_minutes",
    "minutes_over",
    "credits_before_cap",
)
BREACH_COLUMNS = (
    "month",
    "customer",
    "incident",
    "metric",
    "priority",
    "target_minutes",
    "clock",
    "started_local",
    "deadline_local",
    "stopped_local",
    "stopped_by",
    "wall_minutes",
    "business_minutes",
    "minutes_over",
    "credit",
)


def format_duration(seconds: int | None) -> str:
    """Return seconds as H:MM:SS ("-" for none; negative with a leading minus)."""
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    minutes, secs = divmod(abs(int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}"


def format_percent(value: Decimal | None) -> str:
    """Return "97.5%" or "-" when nothing was decided."""
    return "-" if value is None else f"{value}%"


def format_local(at: datetime | None, time_zone: str) -> str:
    """Return ``at`` on the customer's wall clock, e.g. "2026-11-03 02:41 PST"."""
    if at is None:
        return "-"
    # strftime("%Y-%m-%d %H:%M %Z") spelt out: a report lists three times per breach, and
    # over a big month strftime was a tenth of the command's time. Same text, %Y unpadded.
    t = at.astimezone(ZoneInfo(time_zone))
    return f"{t.year}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d} {t.tzname()}"


def _cell(text: str) -> str:
    """Return free text safe for a spreadsheet: a leading = + - @ would start a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _minutes(seconds: int | None) -> str:
    return "" if seconds is None else f"{Decimal(seconds) / 60:.1f}"


def breach_state(fact: ClockFact) -> str:
    """Return how a breached clock stopped: "sms", "bridge", "restored" or "still open"."""
    return fact.stop_kind or "still open"


# --- text -------------------------------------------------------------------------------


def _target_text(line: TargetLine) -> str:
    return (
        f"  {line.label:<38} {line.incidents:>5} {line.met:>5} {line.breached:>5} {line.open:>5}"
        f" {format_percent(line.compliance):>7}"
        f" {format_duration(line.median_wall):>9} {format_duration(line.p90_wall):>9}"
        f" {format_duration(line.median_business):>9} {format_duration(line.p90_business):>9}"
        f" {line.credits:>9}"
    )


def _customer_text(month: CustomerMonth) -> list[str]:
    lines = [
        f"{month.name} ({month.code}): {month.plan}, {month.time_zone}",
        f"  Incidents: {month.incidents}   Credits: {month.credits}"
        + (
            f" ({month.credits_before_cap} before the {month.cap_percent}% cap)"
            if month.credits != month.credits_before_cap
            else ""
        ),
    ]
    if month.credit_error:
        lines.append(f"  Credit rule not applied: {month.credit_error}")
    header = (
        f"  {'Target':<38} {'Inc':>5} {'Met':>5} {'Brch':>5} {'Open':>5} {'Compl':>7}"
        f" {'Med wall':>9} {'P90 wall':>9} {'Med bus':>9} {'P90 bus':>9} {'Credits':>9}"
    )
    lines += ["", header]
    lines += [_target_text(line) for line in month.targets] or ["  (no targets)"]
    if month.breaches:
        lines += ["", "  Breaches:"]
        for b in month.breaches:
            lines.append(
                f"  #{b.incident_id} {b.metric}, {b.priority}"
                f"  started {format_local(b.started_at, b.time_zone)}"
                f"  due {format_local(b.deadline_at, b.time_zone)}"
                f"  stopped {format_local(b.stopped_at, b.time_zone)} ({breach_state(b)})"
                f"  {b.minutes_over} min over  credit {b.credit}"
            )
    return lines


def render_text(report: Report) -> str:
    """Return the report as a plain-text table, one block per customer."""
    lines = [
        f"SLA report, {month_label(report.month)}"
        f" (as of {report.as_of.strftime('%Y-%m-%d %H:%M UTC')})",
        "Compliance = met / (met + breached); times are medians and 90th percentiles"
        " (nearest rank) of stopped clocks, H:MM:SS.",
    ]
    for month in report.customers:
        lines += ["", *_customer_text(month)]
    if not report.customers:
        lines += ["", "No customers."]
    return "\n".join(lines) + "\n"


# --- CSV --------------------------------------------------------------------------------


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def render_csv(report: Report, table: str = "targets") -> str:
    """Return one CSV table: "targets" (a row per customer and target) or "breaches"."""
    month = report.month.strftime("%Y-%m")
    if table == "targets":
        rows = [
            {
                "month": month,
                "customer": c.code,
                "customer_name": _cell(c.name),
                "metric": t.metric,
                "priority": t.priority,
                "target_minutes": t.target_minutes,
                "clock": t.clock,
                "incidents": t.incidents,
                "met": t.met,
                "breached": t.breached,
                "open": t.open,
                "compliance_percent": "" if t.compliance is None else str(t.compliance),
                "median_wall_minutes": _minutes(t.median_wall),
                "p90_wall_minutes": _minutes(t.p90_wall),
                "median_business_minutes": _minutes(t.median_business),
                "p90_business_minutes": _minutes(t.p90_business),
                "minutes_over": t.minutes_over,
                "credits_before_cap": str(t.credits),
            }
            for c in report.customers
            for t in c.targets
        ]
        return _csv(TARGET_COLUMNS, rows)
    if table == "breaches":
        rows = [_breach_row(month, c, b) for c in report.customers for b in c.breaches]
        return _csv(BREACH_COLUMNS, rows)
    raise ValueError(f"a CSV table is 'targets' or 'breaches', got {table!r}")


def _breach_row(month: str, c: CustomerMonth, b: ClockFact) -> dict[str, Any]:
    return {
        "month": month,
        "customer": c.code,
        "incident": b.incident_id,
        "metric": b.metric,
        "priority": b.priority,
        "target_minutes": b.target_minutes,
        "clock": b.clock,
        "started_local": format_local(b.started_at, b.time_zone),
        "deadline_local": format_local(b.deadline_at, b.time_zone),
        "stopped_local": format_local(b.stopped_at, b.time_zone),
        "stopped_by": breach_state(b),
        "wall_minutes": _minutes(b.wall_seconds),
        "business_minutes": _minutes(b.business_seconds),
        "minutes_over": b.minutes_over,
        "credit": str(b.credit),
    }


def iter_breaches_csv(
    report: Report, breaches: Iterable[tuple[CustomerMonth, ClockFact]], chunk: int = 500
) -> Iterator[str]:
    """Yield the breaches CSV table of ``breaches`` (customer, breach) in pieces as they come."""
    month = report.month.strftime("%Y-%m")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=BREACH_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for n, (customer, breach) in enumerate(breaches, 1):
        writer.writerow(_breach_row(month, customer, breach))
        if n % chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# --- JSON -------------------------------------------------------------------------------


def _target_dict(t: TargetLine) -> dict[str, Any]:
    return {
        "metric": t.metric,
        "priority": t.priority,
        "target_minutes": t.target_minutes,
        "clock": t.clock,
        "incidents": t.incidents,
        "met": t.met,
        "breached": t.breached,
        "open": t.open,
        "compliance_percent": None if t.compliance is None else str(t.compliance),
        "median_wall_seconds": t.median_wall,
        "p90_wall_seconds": t.p90_wall,
        "median_business_seconds": t.median_business,
        "p90_business_seconds": t.p90_business,
        "minutes_over": t.minutes_over,
        "credits_before_cap": str(t.credits),
    }


def _breach_dict(b: ClockFact) -> dict[str, Any]:
    return {
        "incident": b.incident_id,
        "metric": b.metric,
        "priority": b.priority,
        "target_minutes": b.target_minutes,
        "clock": b.clock,
        "time_zone": b.time_zone,
        "started_at": b.started_at.isoformat(),
        "deadline_at": b.deadline_at.isoformat(),
        "stopped_at": None if b.stopped_at is None else b.stopped_at.isoformat(),
        "stopped_by": breach_state(b),
        "wall_seconds": b.wall_seconds,
        "business_seconds": b.business_seconds,
        "minutes_over": b.minutes_over,
        "credit": str(b.credit),
    }


def report_dict(report: Report) -> dict[str, Any]:
    """Return the report as JSON-ready data (money and percentages as exact strings)."""
    return {
        "month": report.month.strftime("%Y-%m"),
        "as_of": report.as_of.isoformat(),
        "customers": [
            {
                "code": c.code,
                "name": c.name,
                "plan": c.plan,
                "time_zone": c.time_zone,
                "incidents": c.incidents,
                "monthly_fee": None if c.monthly_fee is None else str(c.monthly_fee),
                "cap_percent": None if c.cap_percent is None else str(c.cap_percent),
                "credits_before_cap": str(c.credits_before_cap),
                "credits": str(c.credits),
                "credit_error": c.credit_error,
                "targets": [_target_dict(t) for t in c.targets],
                "breaches": [_breach_dict(b) for b in c.breaches],
            }
            for c in report.customers
        ],
    }


def render_json(report: Report) -> str:
    """Return the report as indented JSON."""
    return json.dumps(report_dict(report), indent=2) + "\n"
