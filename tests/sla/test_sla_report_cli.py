"""The monthly SLA report from the CLI over a generated month: its numbers, formats, email."""

from __future__ import annotations

import csv
import gc
import io
import socketserver
import threading
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from email import message_from_bytes
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.sla.sla_month import (
    AS_OF,
    NOVEMBER,
    Expected,
    generated_month_database,
    nearest,
    report_json,
    run_cli,
)
from voiceline.db import Database
from voiceline.sla.report_formats import render_csv
from voiceline.sla.reports import monthly_report


@pytest.fixture(scope="module")
def month_db(
    _migrated_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, Expected]]]:
    """Return a database of its own holding a generated month, built once for this module."""
    with generated_month_database(_migrated_template, tmp_path_factory) as built:
        yield built


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


def test_the_command_leaves_the_cycle_collector_as_it_found_it(month_db) -> None:
    # it runs without collections; a caller in the same process (as here) keeps them
    url, _ = month_db
    assert gc.isenabled()
    assert run_cli(url, "--month", "2026-11").exit_code == 0
    assert run_cli(url, "--month", "2026-13").exit_code == 2
    assert gc.isenabled()


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
