"""The SLA report's rules on single cases: month parsing, open clocks, spreadsheet-safe CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import EXAMPLE_DIRECTORY
from tests.sla.sla_month import AS_OF, NOVEMBER
from voiceline.customers.services import find_caller
from voiceline.db import Database
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory
from voiceline.line.incidents import open_incident
from voiceline.sla.report_formats import format_local, render_csv, render_text
from voiceline.sla.reports import (
    CustomerMonth,
    Report,
    ReportError,
    TargetLine,
    monthly_report,
    parse_month,
)


def test_parse_month() -> None:
    assert parse_month("2026-11") == NOVEMBER
    for bad in ("2026-00", "2026-1", "", "1800-01"):
        with pytest.raises(ReportError):
            parse_month(bad)


def test_a_running_clock_within_target_is_open_not_breached(database: Database) -> None:
    with database.session() as session:
        load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))
        session.flush()
        start = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
        open_incident(
            session,
            call_sid="CA-open",
            caller=find_caller(session, "+15035550111"),
            priority="emergency",
            clock_started_at=start,
            now=start,
        )
        report = monthly_report(
            session, NOVEMBER, "acme-dental", as_of=start + timedelta(minutes=10)
        )
        [line] = [t for t in report.customers[0].targets if t.priority == "emergency"]
        assert (line.incidents, line.met, line.breached, line.open) == (1, 0, 0, 1)
        assert line.compliance is None and line.median_wall is None
        later = monthly_report(
            session, NOVEMBER, "acme-dental", as_of=start + timedelta(minutes=45)
        )
        [line] = [t for t in later.customers[0].targets if t.priority == "emergency"]
        assert (line.breached, line.open, line.minutes_over, line.credits) == (
            1,
            0,
            15,
            Decimal("150.00"),
        )
        assert "still open" in render_text(later)
        assert "still open" in render_csv(later, "breaches")


def test_csv_cells_cannot_start_a_spreadsheet_formula() -> None:
    customer = CustomerMonth(
        code="evil",
        name='=HYPERLINK("http://x.test")',
        plan="Pro",
        time_zone="UTC",
        monthly_fee=None,
        cap_percent=None,
        incidents=0,
        targets=(
            TargetLine(
                "callback",
                "standard",
                240,
                "business",
                0,
                0,
                0,
                0,
                None,
                None,
                None,
                None,
                None,
                0,
                Decimal("0.00"),
            ),
        ),  # fmt: skip
        breaches=(),
        credits_before_cap=Decimal("0.00"),
        credits=Decimal("0.00"),
    )
    report = Report(NOVEMBER, AS_OF, (customer,))
    [row] = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert row["customer_name"] == '\'=HYPERLINK("http://x.test")'
    assert row["compliance_percent"] == "" and row["median_wall_minutes"] == ""


def test_local_times_read_as_strftime_writes_them() -> None:
    # every 97 min 13 s over fifteen months, across both changes of the clocks, in zones
    # with half-hour offsets too, and years that strftime's %Y writes without padding
    zones = ("America/Los_Angeles", "Europe/London", "Asia/Kolkata", "America/St_Johns", "UTC")
    instants = [
        datetime(2025, 12, 1, tzinfo=UTC) + timedelta(seconds=5833 * n) for n in range(7000)
    ]
    instants += [datetime(year, 6, 1, 12, 30, tzinfo=UTC) for year in (1, 99, 999, 1900)]
    for zone in zones:
        for at in instants:
            expected = at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")
            assert format_local(at, zone) == expected, (at, zone)
    assert format_local(None, "UTC") == "-"
