"""The monthly report's figures on a small, fixed month, worked out by hand.

Nineteen incidents of the example directory's customers, each placed to exercise one
rule: the month's local edges, the night the clocks went back (1 November, Oregon), a
holiday that stops business time (Election Day in New York, Thanksgiving), a target met
to the second and missed by one second, clocks still running past their target and
within it, a paused restoration, per-breach credits held to their monthly cap, and
prorated credits per minute over. Every expected figure below is derived from the
scenario in the comments beside it; none is read back from the code.

November 2026 as of Tuesday 1 December 12:00 UTC (04:00 in Oregon, 07:00 in New York).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.admin_helpers import create_admin, log_in
from tests.conftest import EXAMPLE_DIRECTORY, app_config
from voiceline import extensions
from voiceline.app import create_app
from voiceline.clock import ManualClock
from voiceline.customers.models import Plan
from voiceline.customers.services import find_caller
from voiceline.db import Database
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory
from voiceline.incidents.models import Incident
from voiceline.line.incidents import open_incident
from voiceline.sla.clocks import mark_restored, pause, resume, stop_callback
from voiceline.sla.report_formats import render_csv, report_dict
from voiceline.sla.report_pages import breach_page
from voiceline.sla.reports import Report, monthly_report

NOVEMBER = date(2026, 11, 1)
AS_OF = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CALLERS = {
    "acme-dental": "+15035550111",  # Diamond: 30 min wall, 4 h business; 150.00 a breach
    "harbor-law": "+12125550131",  # Pro: 4 h business; here 100% prorated per minute over
    "thames-print": "+442079460321",  # Cat2: 4 h wall, 8 h business, 12 h wall restoration
}
H, M = 3600, 60


def at(zone: str, *args: int) -> datetime:
    """Return the UTC instant of a wall-clock time in ``zone``."""
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)  # type: ignore[misc]


LA, NY, LONDON = "America/Los_Angeles", "America/New_York", "Europe/London"


def _open(session, n: int, code: str, priority: str, start: datetime) -> Incident:  # type: ignore[no-untyped-def]
    incident, created = open_incident(
        session,
        call_sid=f"CA{n:032x}",
        caller=find_caller(session, CALLERS[code]),
        priority=priority,
        clock_started_at=start,
        now=start,
    )
    assert created
    return incident


def _month(session) -> None:  # type: ignore[no-untyped-def]
    """Open, call back, restore and pause the month's incidents."""
    pro = session.scalars(select(Plan).filter_by(code="pro")).one()
    pro.credit_rule = {"kind": "prorated", "per": "time_over"}  # 100% of 600.00, prorated
    session.flush()
    n = iter(range(1, 100))

    def called_back(code: str, priority: str, start: datetime, after: timedelta) -> Incident:
        incident = _open(session, next(n), code, priority, start)
        stop_callback(session, incident, start + after, "bridge", False)
        return incident

    # --- Acme Dental (Oregon; business mon-fri 08:00-16:30; Thanksgiving 26 Nov) -------
    # A1: Saturday 31 October 20:00 PDT is 1 November in UTC, but October's: left out.
    called_back("acme-dental", "emergency", at(LA, 2026, 10, 31, 20, 0), timedelta(minutes=40))
    # A2: 01:30 PDT on the night the clocks go back, called back at 01:45 PST: 75 min.
    called_back("acme-dental", "emergency", at(LA, 2026, 11, 1, 1, 30), timedelta(minutes=75))
    # A3: Tue 3 Nov 02:00 PST, 20 min: met, no business time.
    called_back("acme-dental", "emergency", at(LA, 2026, 11, 3, 2, 0), timedelta(minutes=20))
    # A4: Thu 5 Nov 10:00 PST, exactly 30 min: met (all of it business time).
    called_back("acme-dental", "emergency", at(LA, 2026, 11, 5, 10, 0), timedelta(minutes=30))
    # A5: Fri 6 Nov 10:00 PST, 30 min 1 s: breached, 1 minute over (rounded up).
    called_back("acme-dental", "emergency", at(LA, 2026, 11, 6, 10, 0), timedelta(seconds=1801))
    # A6: standard, Wed 25 Nov 15:00 PST; Thanksgiving closed; Fri 27 10:00: 1.5 h + 2 h.
    called_back("acme-dental", "standard", at(LA, 2026, 11, 25, 15, 0), timedelta(hours=43))
    # A7: standard, Mon 2 Nov 16:00 PST, called back Tue 12:00: 0.5 h + 4 h, 30 min over.
    called_back("acme-dental", "standard", at(LA, 2026, 11, 2, 16, 0), timedelta(hours=20))
    # A8: emergency Mon 9 Nov 02:00 PST, never called back: breached, still open.
    _open(session, next(n), "acme-dental", "emergency", at(LA, 2026, 11, 9, 2, 0))
    # A9: standard Mon 30 Nov 15:00 PST, running: 1.5 h of 4 h by as_of, so open.
    _open(session, next(n), "acme-dental", "standard", at(LA, 2026, 11, 30, 15, 0))
    # A10: emergency Sat 7 Nov 12:00 PST, 2.5 h: 120 min over.
    called_back("acme-dental", "emergency", at(LA, 2026, 11, 7, 12, 0), timedelta(minutes=150))
    # A11: emergency Mon 30 Nov 20:00 PST (1 December in UTC): November's; 10 min, met.
    called_back("acme-dental", "emergency", at(LA, 2026, 11, 30, 20, 0), timedelta(minutes=10))
    # A12: standard Tue 24 Nov 08:00 PST, running: 24, 25, 27, 30 Nov open = 34 h business.
    _open(session, next(n), "acme-dental", "standard", at(LA, 2026, 11, 24, 8, 0))

    # --- Harbor Law (New York; mon-fri 08:00-16:30; Election Day 3 Nov, Thanksgiving) ---
    # H1: Mon 2 Nov 15:00 EST, called back Tue 13:00: Election Day, so 1.5 h: met.
    called_back("harbor-law", "standard", at(NY, 2026, 11, 2, 15, 0), timedelta(hours=22))
    # H2: Wed 25 Nov 15:00 EST, running: 1.5 h + Fri 8.5 h + Mon 8.5 h = 18.5 h.
    _open(session, next(n), "harbor-law", "standard", at(NY, 2026, 11, 25, 15, 0))
    # H3: Tue 10 Nov 09:00 EST, 2 h: met.
    called_back("harbor-law", "standard", at(NY, 2026, 11, 10, 9, 0), timedelta(hours=2))
    # H4: Wed 4 Nov 09:00 EST, 5.5 h: 90 min over.
    called_back("harbor-law", "standard", at(NY, 2026, 11, 4, 9, 0), timedelta(hours=5.5))

    # --- Thames Print (London, GMT; mon-fri 09:00-17:00; no credit rule) ---------------
    # T1: emergency Tue 10 Nov 09:00; callback 12:00 (met); restoration paused 11:00-16:00
    # waiting for access, restored at midnight: 15 h - 5 h = 10 h of 12 h, met.
    start = at(LONDON, 2026, 11, 10, 9, 0)
    t1 = _open(session, next(n), "thames-print", "emergency", start)
    pause(session, t1, "waiting for access", start + timedelta(hours=2), "admin")
    stop_callback(session, t1, start + timedelta(hours=3), "sms", True)
    resume(session, t1, start + timedelta(hours=7), "admin")
    mark_restored(session, t1, start + timedelta(hours=15), "admin")
    # T2: emergency Thu 12 Nov 09:00; callback at 5 h, restored at 13 h: each 60 min over.
    start = at(LONDON, 2026, 11, 12, 9, 0)
    t2 = called_back("thames-print", "emergency", start, timedelta(hours=5))
    mark_restored(session, t2, start + timedelta(hours=13), "admin")
    # T3: standard Fri 27 Nov 16:00, called back Mon 30 Nov 15:00: 1 h + 6 h of 8 h.
    called_back("thames-print", "standard", at(LONDON, 2026, 11, 27, 16, 0), timedelta(hours=71))
    session.flush()


@pytest.fixture
def report(database: Database) -> Report:
    with database.session() as session:
        load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))
        session.flush()
        _month(session)
    with database.session() as session:
        return monthly_report(session, NOVEMBER, as_of=AS_OF)


TARGET_FIELDS = ("incidents", "met", "breached", "open", "compliance_percent",
                 "median_wall_seconds", "p90_wall_seconds", "median_business_seconds",
                 "p90_business_seconds", "minutes_over", "credits_before_cap")  # fmt: skip
# Prorated credit for Harbor: 600.00 x minutes over / minutes in November in New York,
# which has 30 days and the hour the clocks went back: 43,260 minutes.
NY_NOVEMBER = 30 * 24 * 60 + 60
EXPECTED_TARGETS = {
    "acme-dental": {
        # A2 75 min (45 over), A3 20, A4 30, A5 30:01 (1 over), A8 running (22 days 2 h
        # to as_of: 31,770 over), A10 150 min (120 over), A11 10 min. Business time of the
        # stopped ones: only A4 (30 min) and A5 (30:01) fall inside opening hours.
        ("callback", "emergency", 30, "wall"): (
            7, 3, 4, 0, "42.9",
            1800, 150 * M, 0, 1801,  # walls 600 1200 1800 1801 4500 9000: ranks 3 and 6
            45 + 1 + 31770 + 120, "600.00",
        ),
        # A6 met (12,600 s business, 43 h wall), A7 30 over (16,200 s, 20 h), A9 open, A12
        # running 34 h (1,800 over).
        ("callback", "standard", 240, "business"): (
            4, 1, 2, 1, "33.3",
            20 * H, 43 * H, 12600, 16200,
            30 + 1800, "300.00",
        ),
    },
    "bayside-cafe": {
        ("callback", "billable", 60, "wall"): (0, 0, 0, 0, None, None, None, None, None, 0, "0.00"),
        ("callback", "standard", 480, "business"): (
            0, 0, 0, 0, None, None, None, None, None, 0, "0.00",
        ),
    },
    "harbor-law": {
        # H1 met (22 h wall, 1.5 h business), H3 met (2 h), H4 90 over (5.5 h), H2 running
        # 18.5 h business = 870 over. Credits 600 x 90 / 43,260 = 1.25 and
        # 600 x 870 / 43,260 = 12.07.
        ("callback", "standard", 240, "business"): (
            4, 2, 2, 0, "50.0",
            5 * H + 30 * M, 22 * H, 2 * H, 5 * H + 30 * M,
            90 + 870, "13.32",
        ),
    },
    "thames-print": {
        # T1 3 h (all business), T2 5 h (all business, 60 over).
        ("callback", "emergency", 240, "wall"): (
            2, 1, 1, 0, "50.0", 3 * H, 5 * H, 3 * H, 5 * H, 60, "0.00",
        ),
        # T3: 71 h wall, 7 h business.
        ("callback", "standard", 480, "business"): (
            1, 1, 0, 0, "100.0", 71 * H, 71 * H, 7 * H, 7 * H, 0, "0.00",
        ),
        # T1 10 h wall (3 h business: 09-11 and 16-17), T2 13 h (8 h business, 60 over).
        ("restoration", "emergency", 720, "wall"): (
            2, 1, 1, 0, "50.0", 10 * H, 13 * H, 3 * H, 8 * H, 60, "0.00",
        ),
    },
}  # fmt: skip
EXPECTED_CUSTOMERS = {
    # incidents, credits before the cap, credits: Acme's six breaches at 150.00 are held
    # to 50% of 1500.00.
    "acme-dental": (11, "900.00", "750.00"),
    "bayside-cafe": (0, "0.00", "0.00"),
    "harbor-law": (4, "13.32", "13.32"),
    "thames-print": (3, "0.00", "0.00"),
}
# Breaches in order of their start: (incident's call, metric, minutes over, credit,
# stopped by, wall seconds); the incident numbers are those opened above, in order.
EXPECTED_BREACHES = {
    "acme-dental": [
        (2, "callback", 45, "150.00", "bridge", 75 * M),
        (7, "callback", 30, "150.00", "bridge", 20 * H),
        (5, "callback", 1, "150.00", "bridge", 1801),
        (10, "callback", 120, "150.00", "bridge", 150 * M),
        (8, "callback", 31770, "150.00", "still open", (22 * 24 + 2) * H),
        (12, "callback", 1800, "150.00", "still open", (7 * 24 - 4) * H),
    ],
    "bayside-cafe": [],
    "harbor-law": [
        (16, "callback", 90, "1.25", "bridge", 5 * H + 30 * M),
        (14, "callback", 870, "12.07", "still open", (5 * 24 + 16) * H),
    ],
    "thames-print": [
        (18, "callback", 60, "0.00", "bridge", 5 * H),
        (18, "restoration", 60, "0.00", "restored", 13 * H),
    ],
}


def test_the_months_figures_are_the_ones_worked_out_by_hand(
    report: Report, database: Database
) -> None:
    data = report_dict(report)
    assert data["month"] == "2026-11" and data["as_of"] == AS_OF.isoformat()
    assert [c["code"] for c in data["customers"]] == list(EXPECTED_CUSTOMERS)
    with database.session() as session:
        number = {i.id: int(i.call_sid[2:], 16) for i in session.scalars(select(Incident))}
    for customer in data["customers"]:
        code = customer["code"]
        got = (customer["incidents"], customer["credits_before_cap"], customer["credits"])
        assert got == EXPECTED_CUSTOMERS[code], code
        lines = {
            (t["metric"], t["priority"], t["target_minutes"], t["clock"]): tuple(
                t[f] for f in TARGET_FIELDS
            )
            for t in customer["targets"]
        }
        assert lines == EXPECTED_TARGETS[code], code
        breaches = [
            (number[b["incident"]], b["metric"], b["minutes_over"], b["credit"],
             b["stopped_by"], b["wall_seconds"])
            for b in customer["breaches"]
        ]  # fmt: skip
        assert breaches == EXPECTED_BREACHES[code], code


def test_the_prorated_credits_follow_the_minutes_in_new_yorks_november() -> None:
    # the two Harbor credits above, from the rule rather than from the code
    for over, credit in ((90, "1.25"), (870, "12.07")):
        exact = Decimal(600) * over / NY_NOVEMBER
        assert exact.quantize(Decimal("0.01")) == Decimal(credit)


def test_the_csv_lists_every_breach(report: Report) -> None:
    rows = render_csv(report, "breaches").splitlines()
    assert len(rows) == 1 + sum(len(b) for b in EXPECTED_BREACHES.values())


def _flat(report: Report) -> list[tuple[str, int, str]]:
    return [(c.code, b.incident_id, b.metric) for c in report.customers for b in c.breaches]


def test_breaches_come_a_page_at_a_time_in_the_reports_order(
    report: Report, database: Database
) -> None:
    with database.session() as session:
        summary = monthly_report(session, NOVEMBER, as_of=AS_OF, with_breaches=False)
        assert all(c.breaches == () for c in summary.customers)
        assert [c.breach_count for c in summary.customers] == [
            len(EXPECTED_BREACHES[c.code]) for c in summary.customers
        ]
        pages, after = [], None
        while True:
            page = breach_page(session, summary, 4, after)
            pages.append([(c.code, b.incident_id, b.metric) for c, b in page.rows])
            if page.next_after is None:
                break
            after = page.next_after
    assert [len(p) for p in pages] == [4, 4, 2]
    assert [row for p in pages for row in p] == _flat(report)


def test_a_report_without_its_breaches_has_the_same_totals_and_credits(
    report: Report, database: Database
) -> None:
    # with its breaches the report adds up their credits from the breaches it read;
    # without, from a pass of its own over them
    with database.session() as session:
        summary = monthly_report(session, NOVEMBER, as_of=AS_OF, with_breaches=False)
    assert [replace(c, breaches=()) for c in report.customers] == list(summary.customers)
    assert any(t.credits for c in summary.customers for t in c.targets)


def test_the_admin_page_lists_a_page_of_breaches_and_links_the_next(
    report: Report, database_url: str, twilio_api, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    app = create_app(
        app_config(database_url, twilio_api.base_url, VOICELINE_SPOOL_DIR=str(tmp_path / "spool")),
        clock=ManualClock(AS_OF),
    )
    create_admin(extensions.database(app))
    client = app.test_client()
    log_in(client)
    first = client.get("/admin/sla/report?month=2026-11").get_data(as_text=True)
    listed = re.findall(r'<tr data-customer="([^"]+)" data-incident="(\d+)">', first)
    assert [(c, int(i)) for c, i in listed] == [(c, i) for c, i, _ in _flat(report)]
    assert 'rel="next"' not in first  # ten breaches fit on one page
    # a page that starts after Acme's fourth breach lists the six after it
    fourth = report.customers[0].breaches[3]
    after = f"acme-dental|{fourth.started_at.isoformat()}|{fourth.incident_id}|{fourth.metric}"
    later = client.get("/admin/sla/report", query_string={"month": "2026-11", "after": after})
    rows = re.findall(r'data-incident="(\d+)"', later.get_data(as_text=True))
    assert [int(i) for i in rows] == [i for _, i, _ in _flat(report)][4:]
    assert "First page" in later.get_data(as_text=True)
    bad = client.get("/admin/sla/report", query_string={"month": "2026-11", "after": "x|y"})
    assert bad.status_code == 400 and "page link" in bad.get_data(as_text=True)
    csv_text = client.get("/admin/sla/report.csv?month=2026-11&table=breaches").get_data(
        as_text=True
    )
    assert csv_text == render_csv(report, "breaches")


def test_the_page_goes_out_before_its_figures_and_says_when_they_fail(
    report: Report, database: Database, database_url: str, twilio_api, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    app = create_app(
        app_config(database_url, twilio_api.base_url, VOICELINE_SPOOL_DIR=str(tmp_path / "spool")),
        clock=ManualClock(AS_OF),
    )
    create_admin(extensions.database(app))
    client = app.test_client()
    log_in(client)
    response = client.get("/admin/sla/report?month=2026-11", buffered=False)
    assert response.status_code == 200
    chunks = iter(response.response)
    first = next(chunks)
    first = first.decode() if isinstance(first, bytes) else first
    # the title, the filter and the as-of time, before the month is aggregated
    assert "<h1>SLA report, November 2026</h1>" in first and "As of" in first
    assert "data-customer" not in first
    rest = "".join(c.decode() if isinstance(c, bytes) else c for c in chunks)
    response.close()
    assert rest.count('<section class="card sla-customer"') == len(report.customers)
    assert rest.rstrip().endswith("</html>")
    # unknown customers and page links are refused before anything is sent
    unknown = client.get("/admin/sla/report?month=2026-11&customer=nobody")
    assert unknown.status_code == 400 and "no customer with code" in unknown.get_data(as_text=True)
    elsewhere = "bayside-cafe|2026-11-02T00:00:00+00:00|1|callback"
    other = client.get(
        "/admin/sla/report",
        query_string={"month": "2026-11", "customer": "acme-dental", "after": elsewhere},
    )
    assert other.status_code == 400 and "in this report" in other.get_data(as_text=True)
    # figures that cannot be made (here: their table is gone) are said to be missing
    with database.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE sla_clocks RENAME TO sla_clocks_away")
    try:
        failed = client.get("/admin/sla/report?month=2026-11").get_data(as_text=True)
    finally:
        with database.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE sla_clocks_away RENAME TO sla_clocks")
    assert "could not be made just now" in failed
    assert "data-customer" not in failed and failed.rstrip().endswith("</html>")
