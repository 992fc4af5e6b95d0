"""A strict directory file, part two: entries alone, refusals that change nothing, a 10 MB file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_directory_strict import EXAMPLE, edited, line_of, refusal

from bench.directory_load import big_directory
from tests.conftest import EXAMPLE_DIRECTORY, TEST_SECRET_KEY
from voiceline.customers.models import Contact, Customer
from voiceline.db import Database
from voiceline.directory.checker import read_directory_file, read_directory_text
from voiceline.directory.entries import Refs, check_customer, check_policy, check_service
from voiceline.directory.loader import dump_directory_yaml, load_directory
from voiceline.directory.reading import Problem, read_yaml

# --- one entry at a time ----------------------------------------------------------------------


def test_one_customer_is_checked_without_a_file() -> None:
    customer = {
        "code": "acme",
        "name": "Acme",
        "time_zone": "America/Los_Angeles",
        "plan": "gold",
        "contacts": [{"name": "Pat", "phone": "(503) 555-0111", "authorised": False}],
    }
    assert check_customer(customer) == [
        Problem(0, "customer acme contact: unknown key 'authorised'; did you mean 'authorized'?")
    ]
    customer["contacts"] = [{"name": "Pat", "phone": "(503) 555-0111"}]
    assert check_customer(customer) == []
    assert check_customer(customer, Refs(plans={"silver"})) == [
        Problem(0, "customer acme: unknown plan 'gold'")
    ]
    assert check_customer(customer, Refs(region="GB")) == [
        Problem(
            0,
            "customer acme contact: bad phone number: '(503) 555-0111' is not a valid phone number",
        )
    ]


def test_an_entry_read_alone_keeps_its_own_lines() -> None:
    entry = read_yaml(
        "code: standard\n"
        "name: Standard\n"
        "steps:\n"
        "  - {targets: [{on_call: tier1}], delay: 5m}\n"
        "  - {targets: [{analyst: ghost}], delay: 5m}\n"
        "  - {targets: [{on_call: tier2}], delay: forever}\n"
    )
    assert check_policy(entry, Refs(analysts={"alex"}, rotations={"tier1", "tier2"})) == [
        Problem(
            6,
            "policy standard: policy 'Standard' step 3: cannot read delay 'forever'; "
            "use e.g. 90s, 5m, 1h30m or PT5M",
        )
    ]
    entry["steps"].pop()
    assert check_policy(entry, Refs(analysts={"alex"}, rotations={"tier1"})) == [
        Problem(5, "policy standard: unknown analyst 'ghost'")
    ]


def test_the_service_block_names_what_it_does_not_know() -> None:
    service = read_yaml("name: Desk\ndefault_escalation_policy: standrd\ntranscribe: 'yes'\n")
    assert check_service(service, Refs(policies={"standard"})) == [
        Problem(2, "service: unknown escalation policy 'standrd'"),
        Problem(3, "service: transcribe must be true or false, not the text 'yes'"),
    ]


def test_a_second_target_for_the_same_priority_is_refused() -> None:
    # The database holds one target per metric and priority; the old loader kept the last.
    text = edited(
        "      - {metric: callback, priority: standard, within: 4h, clock: business}\n  - code: pro",
        "      - {metric: callback, priority: standard, within: 4h, clock: business}\n"
        "      - {metric: callback, priority: standard, within: 2h, clock: business}\n"
        "  - code: pro",
    )
    line = line_of(text, "within: 2h")
    assert refusal(text) == [
        f"d.yaml:{line}: plan diamond: a second callback target for standard (line {line - 1})"
    ]


# --- a refused file changes nothing ------------------------------------------------------------


def run_cli(args: list[str], database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": TEST_SECRET_KEY, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "voiceline.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


BAD_FILES = {
    "huge integer": edited("callback_target: 30m", "callback_target: 99999999999999999999")
    .replace("Acme Dental", "Acme Dental Renamed")
    .encode(),
    "quoted false": edited(
        "after_hours_cover: true\n    cover_hours: 24x7",
        'after_hours_cover: "false"\n    cover_hours: 24x7',
    ).encode(),
    "latin-1": EXAMPLE.replace("name: Bayside Cafe", "name: Bayside Café").encode("latin-1"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_the_cli_refuses_a_bad_file_and_changes_nothing(
    case: str, database_url: str, database: Database, tmp_path: Path
) -> None:
    with database.session() as session:
        load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))
        before = dump_directory_yaml(session)
    path = tmp_path / "bad.yaml"
    path.write_bytes(BAD_FILES[case])
    refused = run_cli(["directory", "load", str(path)], database_url, tmp_path)
    assert refused.returncode == 1, refused.stderr
    assert "Traceback" not in refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert lines[-1] == f"voiceline: {path} refused; nothing was loaded"
    assert all(line.startswith(f"{path}:") for line in lines[:-1]) and lines[:-1], lines
    with database.session() as session:
        assert dump_directory_yaml(session) == before


# --- a large directory -------------------------------------------------------------------------


def test_a_large_directory_loads_twice_and_keeps_edits_exact(database: Database) -> None:
    text = big_directory(60_000)
    with database.session() as session:
        first = load_directory(session, read_directory_text(text))
    customers = sum(1 for name in first.created if name.startswith("customer "))
    assert customers > 100
    with database.session() as session:
        assert load_directory(session, read_directory_text(text)).summary() == (
            "directory unchanged"
        )
    moved = text.replace("name: Contact 4,", "name: Contact Four,").replace(
        '      - {name: Contact 0, phone: "+1 503 200 0000", role: primary}\n', ""
    )
    moved = moved.replace(
        "    contacts:\n      - {name: Contact 3,",
        '    contacts:\n      - {name: Contact 0, phone: "+1 503 200 0000", role: primary}\n'
        "      - {name: Contact 3,",
    )
    moved += "  - {code: newcomer, name: Newcomer, time_zone: UTC, plan: pro, contacts: []}\n"
    with database.session() as session:
        changes = load_directory(session, read_directory_text(moved))
    assert changes.created == ["customer newcomer"]
    assert sorted(changes.updated) == ["contact +15032000000", "contact +15032000004"]
    with database.session() as session:
        contact = session.scalars(select(Contact).filter_by(phone="+15032000000")).one()
        assert contact.customer.code == "customer-000001"
        assert session.scalar(select(func.count(Customer.id))) == customers + 1


@pytest.mark.slow
def test_a_10mb_directory_is_checked_and_loaded(database: Database, tmp_path: Path) -> None:
    """Check and load 10 MB (about 23,000 customers and 69,000 contacts).

    How long it takes (under 10 s of CPU) is a figure of ``make bench`` (its
    ``directory`` section), not asserted here: a test's speed is the machine's as much
    as the code's.
    """
    path = tmp_path / "big.yaml"
    path.write_text(big_directory(10_000_000), encoding="utf-8")
    data = read_directory_file(path)
    with database.session() as session:
        changes = load_directory(session, data)
    with database.session() as session:
        assert session.scalar(select(func.count(Contact.id))) > 60_000
    assert len(changes.created) > 90_000
