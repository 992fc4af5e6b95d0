"""The monthly SLA report over a generated month of incidents, from the CLI in every format.

About 200 incidents are opened and called back through the SLA services (open_incident
starts the clocks; stop_callback and mark_restored stop them) across four customers in
three time zones, over both DST changes and Thanksgiving, with deliberate cases on the
month's edges. The test keeps its own account of what it generated (the delay of each
callback, on the target's clock) and checks the report against that account, not against
the code's arithmetic.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import random
import shutil
import socketserver
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes
from email.message import Message
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tests.admin_helpers import create_admin, log_in
from tests.conftest import EXAMPLE_DIRECTORY, TEST_SECRET_KEY, app_config, postgres_url
from voiceline import extensions
from voiceline.app import create_app
from voiceline.cli import main
from voiceline.clock import ManualClock
from voiceline.customers.business_time import add_business_time
from voiceline.customers.services import calendar_for, find_caller
from voiceline.db import Database
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory
from voiceline.line.incidents import open_incident
from voiceline.migrate import upgrade
from voiceline.sla.clocks import mark_restored, stop_callback
from voiceline.sla.report_formats import format_duration, render_csv, render_text
from voiceline.sla.reports import (
    CustomerMonth,
    Report,
    ReportError,
    TargetLine,
    monthly_report,
    parse_month,
)

AS_OF = datetime(2026, 12, 10, tzinfo=UTC)
NOVEMBER = date(2026, 11, 1)
CUSTOMERS = {
    # code: (caller, zone, priorities)
    "acme-dental": ("+15035550111", "America/Los_Angeles", ("emergency", "standard")),
    "harbor-law": ("+12125550131", "America/New_York", ("standard",)),
    "thames-print": ("+442079460321", "Europe/London", ("emergency", "standard")),
    "bayside-cafe": ("+14155550144", "America/Los_Angeles", ("billable", "standard")),
}
TARGETS = {  # (code, priority) -> [(metric, minutes, clock)]
    ("acme-dental", "emergency"): [("callback", 30, "wall")],
    ("acme-dental", "standard"): [("callback", 240, "business")],
    ("harbor-law", "standard"): [("callback", 240, "business")],
    ("thames-print", "emergency"): [("callback", 240, "wall"), ("restoration", 720, "wall")],
    ("thames-print", "standard"): [("callback", 480, "business")],
    ("bayside-cafe", "billable"): [("callback", 60, "wall")],
    ("bayside-cafe", "standard"): [("callback", 480, "business")],
}


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)  # type: ignore[misc]


# Starts placed on the month's edges, each with the month it belongs to in local time.
EDGE_STARTS = [
    ("acme-dental", "emergency", local("America/Los_Angeles", 2026, 10, 31, 20, 0)),  # Oct
    ("acme-dental", "emergency", local("America/Los_Angeles", 2026, 11, 1, 0, 0)),  # Nov
    ("acme-dental", "emergency", datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),  # 01:30 PDT
    ("acme-dental", "emergency", datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),  # 01:30 PST
    ("harbor-law", "standard", local("America/New_York", 2026, 11, 30, 22, 0)),  # Nov
    ("harbor-law", "standard", local("America/New_York", 2026, 12, 1, 0, 0)),  # Dec
    ("thames-print", "emergency", local("Europe/London", 2026, 11, 30, 23, 30)),  # Nov
    ("thames-print", "emergency", local("Europe/London", 2026, 10, 31, 23, 59)),  # Oct
    ("bayside-cafe", "billable", local("America/Los_Angeles", 2026, 11, 26, 10, 0)),  # holiday
]


@dataclass
class Expected:
    """The test's own account of one customer's month, per target."""

    incidents: int = 0
    outcomes: dict[tuple[str, str, int, str], list[bool | None]] = field(
        default_factory=lambda: defaultdict(list)
    )
    walls: dict[tuple[str, str, int, str], list[int]] = field(
        default_factory=lambda: defaultdict(list)
    )
    business: dict[tuple[str, str, int, str], list[int]] = field(
        default_factory=lambda: defaultdict(list)
    )


def generate_month(session: Session, count: int = 200, seed: int = 20261101) -> dict[str, Expected]:
    """Open and call back ``count`` incidents; return what November should report."""
    rng = random.Random(seed)
    first, last = datetime(2026, 10, 29, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC)
    starts = list(EDGE_STARTS)
    while len(starts) < count:
        code = rng.choice(sorted(CUSTOMERS))
        priority = rng.choice(CUSTOMERS[code][2])
        at = first + timedelta(seconds=rng.randrange(int((last - first).total_seconds())))
        starts.append((code, priority, at))
    expected: dict[str, Expected] = defaultdict(Expected)
    for n, (code, priority, start) in enumerate(starts):
        number, zone, _ = CUSTOMERS[code]
        caller = find_caller(session, number)
        incident, _ = open_incident(
            session,
            call_sid=f"CA{n:032x}",
            caller=caller,
            priority=priority,
            clock_started_at=start,
            now=start,
        )
        local_start = start.astimezone(ZoneInfo(zone))
        in_november = (local_start.year, local_start.month) == (2026, 11)
        account = expected[code]
        account.incidents += in_november
        assert caller.customer is not None
        calendar = calendar_for(caller.customer)
        for metric, minutes, clock in TARGETS[(code, priority)]:
            key = (metric, priority, minutes, clock)
            if rng.random() < 0.1:  # left running: by AS_OF every target is long past
                if in_november:
                    account.outcomes[key].append(False)
                continue
            # a delay on the target's own clock in whole seconds: mostly 30-100% of the
            # target, one in five late by up to 60%
            late = rng.random() < 0.2
            low, high = (1.0, 1.6) if late else (0.3, 1.0)
            delay = rng.randrange(int(minutes * 60 * low), int(minutes * 60 * high) + 1)
            if clock == "wall":
                stop = start + timedelta(seconds=delay)
            else:
                stop = add_business_time(start, timedelta(seconds=delay), calendar)
            if metric == "callback":
                stop_callback(session, incident, stop, rng.choice(["bridge", "sms", "web"]), True)
            else:
                mark_restored(session, incident, stop, "admin")
            if in_november:
                account.outcomes[key].append(delay <= minutes * 60)
                (account.walls if clock == "wall" else account.business)[key].append(delay)
    session.flush()
    return expected


def nearest(values: list[int], percent: int) -> int | None:
    if not values:
        return None
    return sorted(values)[math.ceil(percent * len(values) / 100) - 1]


@pytest.fixture(scope="module")
def month_db(
    _migrated_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, Expected]]]:
    """Return a database of its own holding a generated month, built once for this module.

    On PostgreSQL it is a separate database: the per-test ``database`` fixture empties the
    shared one after every test.
    """
    admin = None
    if postgres_url() is None:
        path = tmp_path_factory.mktemp("sla-month") / "voiceline.db"
        shutil.copy(_migrated_template, path)
        url = f"sqlite:///{path}"
    else:
        base = make_url(_migrated_template)
        name = f"voiceline_sla_month_{os.getpid()}"
        admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    if admin is not None:
        upgrade(database.engine)
    with database.session() as session:
        load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))
        session.flush()
        expected = generate_month(session)
    database.dispose()
    yield url, expected
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


def run_cli(url: str, *args: str, env: dict[str, str] | None = None) -> Any:
    environment = {"DATABASE_URL": url, "SECRET_KEY": TEST_SECRET_KEY, **(env or {})}
    return CliRunner().invoke(main, ["report", *args], env=environment)


def report_json(url: str, *extra: str) -> dict[str, Any]:
    result = run_cli(
        url, "--month", "2026-11", "--format", "json", "--as-of", AS_OF.isoformat(), *extra
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- the numbers -----------------------------------------------------------------------


def test_the_cli_json_matches_what_was_generated(month_db) -> None:
    url, expected = month_db
    data = report_json(url)
    assert data["month"] == "2026-11"
    assert [c["code"] for c in data["customers"]] == [
        "acme-dental",
        "bayside-cafe",
        "harbor-law",
        "thames-print",
    ]  # by name
    total = 0
    for customer in data["customers"]:
        account = expected[customer["code"]]
        assert customer["incidents"] == account.incidents
        total += customer["incidents"]
        seen = set()
        for row in customer["targets"]:
            key = (row["metric"], row["priority"], row["target_minutes"], row["clock"])
            seen.add(key)
            outcomes = account.outcomes.get(key, [])
            met, breached = outcomes.count(True), outcomes.count(False)
            assert (row["incidents"], row["met"], row["breached"], row["open"]) == (
                len(outcomes),
                met,
                breached,
                0,
            ), (customer["code"], key)
            if met + breached:
                percent = (Decimal(100 * met) / (met + breached)).quantize(Decimal("0.1"))
                assert Decimal(row["compliance_percent"]) == percent
            else:
                assert row["compliance_percent"] is None
            if key[3] == "wall":
                assert row["median_wall_seconds"] == nearest(account.walls[key], 50)
                assert row["p90_wall_seconds"] == nearest(account.walls[key], 90)
            else:
                assert row["median_business_seconds"] == nearest(account.business[key], 50)
                assert row["p90_business_seconds"] == nearest(account.business[key], 90)
        assert seen >= set(account.outcomes)  # every generated target has its row
    assert total > 150  # most of the ~200 fall in November


def test_credits_follow_the_diamond_rule_and_its_cap(month_db) -> None:
    url, expected = month_db
    data = report_json(url, "--customer", "acme-dental")
    [acme] = data["customers"]
    breaches = sum(o.count(False) for o in expected["acme-dental"].outcomes.values())
    assert breaches > 5  # enough to reach the cap
    # 10% of 1500.00 = 150.00 per breach; capped at 50% of the fee = 750.00 a month
    assert Decimal(acme["credits_before_cap"]) == Decimal("150.00") * breaches
    assert Decimal(acme["credits"]) == min(Decimal("150.00") * breaches, Decimal("750.00"))
    assert len(acme["breaches"]) == breaches
    for breach in acme["breaches"]:
        assert breach["minutes_over"] >= 1 and breach["credit"] == "150.00"
    harbor = report_json(url, "--customer", "harbor-law")["customers"][0]
    assert harbor["credits"] == "0.00"  # Pro has no credit rule


def test_the_months_edges_are_local(month_db) -> None:
    url, _ = month_db
    data = report_json(url)
    started = {(c["code"], b["started_at"]) for c in data["customers"] for b in c["breaches"]}
    # every breach listed started in November on its customer's wall clock
    zones = {c["code"]: c["time_zone"] for c in data["customers"]}
    for code, at in started:
        moment = datetime.fromisoformat(at).astimezone(ZoneInfo(zones[code]))
        assert (moment.year, moment.month) == (2026, 11)


def test_text_and_csv_print_the_same_table(month_db) -> None:
    url, _ = month_db
    data = report_json(url)
    text = run_cli(url, "--month", "2026-11", "--as-of", AS_OF.isoformat())
    assert text.exit_code == 0, text.output
    assert text.stdout.startswith("SLA report, November 2026")
    assert "Acme Dental (acme-dental): Diamond (24x7 emergency cover)" in text.stdout
    assert "Compl" in text.stdout and "P90 wall" in text.stdout
    result = run_cli(url, "--month", "2026-11", "--format", "csv", "--as-of", AS_OF.isoformat())
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    flat = [(c["code"], t) for c in data["customers"] for t in c["targets"]]
    assert len(rows) == len(flat)
    for row, (code, target) in zip(rows, flat, strict=True):
        assert row["customer"] == code
        assert (int(row["incidents"]), int(row["met"]), int(row["breached"])) == (
            target["incidents"],
            target["met"],
            target["breached"],
        )
        assert row["compliance_percent"] == (target["compliance_percent"] or "")
        line = f"{row['metric']}, {row['priority']}:"
        assert line in text.stdout


def test_the_report_can_be_written_to_a_file(month_db, tmp_path) -> None:
    url, _ = month_db
    out = tmp_path / "november.csv"
    result = run_cli(url, "--month", "2026-11", "--format", "csv", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("month,customer,customer_name,metric")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--month", "2026-13"], "YYYY-MM"),
        (["--month", "Nov"], "YYYY-MM"),
        (["--month", "2026-11", "--customer", "nobody"], "no customer with code 'nobody'"),
        (["--month", "2026-11", "--as-of", "2026-12-01T00:00"], "UTC offset"),
        (["--month", "2026-11", "--email", "boss@example.com"], "SMTP_URL is not set"),
    ],
)
def test_bad_report_requests_say_why(month_db, args, message) -> None:
    url, _ = month_db
    result = run_cli(url, *args)
    assert result.exit_code == 2
    assert message in result.stderr


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


# --- the admin page --------------------------------------------------------------------


class _ReportPage(HTMLParser):
    """Collect the report page's cells: customer -> target -> {class: text}."""

    def __init__(self) -> None:
        super().__init__()
        self.customers: dict[str, dict[str, Any]] = {}
        self.customer: str | None = None
        self.target: str | None = None
        self.cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section" and found.get("data-customer"):
            self.customer = found["data-customer"]
            self.customers[self.customer] = {"targets": {}}
        elif tag == "tr" and found.get("data-target") and self.customer:
            self.target = found["data-target"]
            self.customers[self.customer]["targets"][self.target] = {}
        elif tag == "td" and self.target:
            self.cell = found.get("class")
        elif tag == "strong" and self.customer and found.get("class"):
            self.cell = found["class"]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "strong"):
            self.cell = None
        elif tag == "tr":
            self.target = None

    def handle_data(self, data: str) -> None:
        if self.cell is None or self.customer is None:
            return
        if self.target is not None:
            self.customers[self.customer]["targets"][self.target][self.cell] = data.strip()
        else:
            self.customers[self.customer][self.cell] = data.strip()


def test_the_admin_page_shows_the_cli_numbers(month_db, twilio_api, tmp_path) -> None:
    url, _ = month_db
    data = report_json(url)
    app = create_app(
        app_config(url, twilio_api.base_url, VOICELINE_SPOOL_DIR=str(tmp_path / "spool")),
        clock=ManualClock(AS_OF),
    )
    create_admin(extensions.database(app))
    client = app.test_client()
    log_in(client)
    response = client.get("/admin/sla/report?month=2026-11")
    assert response.status_code == 200
    page = _ReportPage()
    page.feed(response.get_data(as_text=True))
    assert list(page.customers) == [c["code"] for c in data["customers"]]
    compared = 0
    for customer in data["customers"]:
        shown = page.customers[customer["code"]]
        assert shown["customer-incidents"] == str(customer["incidents"])
        assert shown["customer-credits"] == customer["credits"]
        for target in customer["targets"]:
            key = "|".join(
                str(target[k]) for k in ("metric", "priority", "target_minutes", "clock")
            )
            cells = shown["targets"][key]
            assert cells["incidents"] == str(target["incidents"])
            assert cells["met"] == str(target["met"])
            assert cells["breached"] == str(target["breached"])
            assert cells["open"] == str(target["open"])
            percent = target["compliance_percent"]
            assert cells["compliance"] == (f"{percent}%" if percent is not None else "-")
            for cls, name in (
                ("median-wall", "median_wall_seconds"),
                ("p90-wall", "p90_wall_seconds"),
                ("median-business", "median_business_seconds"),
                ("p90-business", "p90_business_seconds"),
            ):
                assert cells[cls] == format_duration(target[name]), (key, cls)
            assert cells["minutes-over"] == str(target["minutes_over"])
            assert cells["credits"] == target["credits_before_cap"]
            compared += 1
    assert compared >= 7
    # the chart has a bar per decided target, with its percentage
    svg = response.get_data(as_text=True).split("<svg", 1)[1].split("</svg>", 1)[0]
    decided = [
        t for c in data["customers"] for t in c["targets"] if t["compliance_percent"] is not None
    ]
    assert svg.count('height="15" fill="#eef1f5"') == len(decided)
    for target in decided:
        assert f">{target['compliance_percent']}%</text>" in svg


# --- email -----------------------------------------------------------------------------


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to take one message: EHLO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        server: Any = self.server
        envelope: dict[str, Any] = {"rcpt": []}
        self.reply("220 fake.smtp.test ESMTP")
        while line := self.rfile.readline():
            command = line.decode().rstrip("\r\n")
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 fake.smtp.test")
            elif verb == "MAIL":
                envelope["from"] = command
                self.reply("250 OK")
            elif verb == "RCPT":
                envelope["rcpt"].append(command)
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                envelope["data"] = data
                server.messages.append(envelope)
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Not implemented")


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    server: Any = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.daemon_threads = True
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_report_is_emailed_with_its_csvs(month_db, smtp_server) -> None:
    url, _ = month_db
    port = smtp_server.server_address[1]
    env = {"SMTP_URL": f"smtp://127.0.0.1:{port}", "VOICELINE_REPORT_FROM": "sla@cascade.example"}
    result = run_cli(
        url,
        "--month", "2026-11", "--customer", "acme-dental", "--as-of", AS_OF.isoformat(),
        "--email", "morgan@cascade.example", "--email", "pat@acme.example",
        env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "report emailed to morgan@cascade.example, pat@acme.example" in result.stderr
    [envelope] = smtp_server.messages
    recipients = [line.partition(":")[2] for line in envelope["rcpt"]]
    assert recipients == ["<morgan@cascade.example>", "<pat@acme.example>"]
    message: Message = message_from_bytes(envelope["data"])
    assert message["Subject"] == "SLA report November 2026: Acme Dental"
    assert message["From"] == "sla@cascade.example"
    parts = list(message.walk())
    body = next(p for p in parts if p.get_content_type() == "text/plain")
    assert "Acme Dental (acme-dental)" in body.get_payload(decode=True).decode()
    names = sorted(p.get_filename() for p in parts if p.get_filename())
    assert names == ["sla-2026-11-breaches.csv", "sla-2026-11-targets.csv"]
    targets = next(p for p in parts if p.get_filename() == "sla-2026-11-targets.csv")
    assert targets.get_payload(decode=True).decode() == render_csv(_acme_report(url), "targets")


def _acme_report(url: str) -> Any:
    database = Database(url)
    try:
        with database.session() as session:
            return monthly_report(session, NOVEMBER, "acme-dental", as_of=AS_OF)
    finally:
        database.dispose()


def test_an_unreachable_mail_server_fails_the_command(month_db) -> None:
    url, _ = month_db
    with socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler) as closed:
        port = closed.server_address[1]
    env = {"SMTP_URL": f"smtp://127.0.0.1:{port}", "VOICELINE_REPORT_FROM": "sla@cascade.example"}
    result = run_cli(url, "--month", "2026-11", "--email", "morgan@cascade.example", env=env)
    assert result.exit_code == 1
    assert "could not send the report" in result.stderr
