"""The directory file: idempotent load, round-trip dump, whole-file refusal with lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from oncall.models import Rotation
from tests.conftest import EXAMPLE_DIRECTORY, TEST_SECRET_KEY
from voiceline.customers.models import Contact, Customer, Plan
from voiceline.db import Database
from voiceline.directory.checker import DirectoryError, read_directory_file, read_directory_text
from voiceline.directory.loader import dump_directory, dump_directory_yaml, load_directory


def load_example(database: Database) -> str:
    with database.session() as session:
        return load_directory(session, read_directory_file(EXAMPLE_DIRECTORY)).summary()


def test_example_loads_the_seed_policies(database: Database) -> None:
    assert load_example(database).endswith("0 updated")
    with database.session() as session:
        plans = {p.code: p for p in session.scalars(select(Plan))}
        assert plans["diamond"].after_hours_cover and plans["diamond"].cover_hours == [
            "mon-sun 00:00-24:00"
        ]
        assert {(t.priority, t.minutes, t.clock) for t in plans["diamond"].targets} == {
            ("emergency", 30, "wall"),
            ("standard", 240, "business"),
        }
        assert plans["cat2"].cover_hours == ["mon-sun 07:00-23:00"]
        assert plans["adhoc"].billable_emergency and plans["adhoc"].billable_rate == "1.5x"
        zones = set(session.scalars(select(Customer.time_zone)))
        assert {"America/Los_Angeles", "America/New_York", "Europe/London"} <= zones
        pat = session.scalars(select(Contact).filter_by(name="Pat Jones")).one()
        assert pat.phone == "+15035550111"  # "(503) 555-0111" normalised to E.164
        alice = session.scalars(select(Contact).filter_by(name="Alice Smith")).one()
        assert alice.phone == "+442079460321"  # a UK national number read in region GB
        tier1 = session.scalars(select(Rotation).filter_by(code="tier1")).one()
        assert [m.analyst.code for m in tier1.members] == ["alex", "sam"]


def test_loading_twice_changes_nothing_and_dump_round_trips(database: Database) -> None:
    load_example(database)
    with database.session() as session:
        first = dump_directory(session)
    assert load_example(database) == "directory unchanged"
    with database.session() as session:
        text = dump_directory_yaml(session)
        assert dump_directory(session) == first
    # the dump is itself a valid directory that loads as "unchanged"
    data = read_directory_text(text, "dump.yaml")
    with database.session() as session:
        assert load_directory(session, data).summary() == "directory unchanged"


def test_editing_the_file_updates_in_place(database: Database) -> None:
    load_example(database)
    raw = yaml.safe_load(EXAMPLE_DIRECTORY.read_text())
    raw["rotations"][0]["members"] = ["sam", "alex"]
    raw["plans"][0]["targets"][0]["within"] = "20m"
    with database.session() as session:
        changes = load_directory(session, read_directory_text(yaml.safe_dump(raw)))
    assert set(changes.updated) == {"rotation tier1", "plan diamond"}
    assert changes.created == []
    with database.session() as session:
        tier1 = session.scalars(select(Rotation).filter_by(code="tier1")).one()
        assert [m.analyst.code for m in tier1.members] == ["sam", "alex"]


BROKEN = """\
plans:
  - code: gold
    name: Gold
customers:
  - code: acme
    name: Acme
    time_zone: America/Los_Angeles
    plan: platinum
    contacts:
      - {name: Pat, phone: "+1 503 555 0111"}
      - {name: Robin, phone: "not a number"}
  - code: other
    name: Other
    time_zone: Mars/Olympus
    plan: gold
    contacts:
      - {name: Lee, phone: "(503) 555-0111"}
"""


def test_a_broken_file_is_refused_whole_with_lines(database: Database) -> None:
    with pytest.raises(DirectoryError) as caught:
        read_directory_text(BROKEN, "broken.yaml")
    errors = caught.value.errors
    assert "broken.yaml:8: customer acme: unknown plan 'platinum'" in errors
    assert any(
        e.startswith("broken.yaml:11: customer acme contact: bad phone number") for e in errors
    )
    assert any(e.startswith("broken.yaml:14: customer other: unknown time zone") for e in errors)
    assert (
        "broken.yaml:17: customer other: duplicate contact number +15035550111 "
        "(already used at line 10)" in errors
    )


def test_a_bad_credit_rule_is_refused_with_its_line() -> None:
    text = "plans:\n  - code: gold\n    name: Gold\n    credit: {kind: refund-everything}\n"
    with pytest.raises(DirectoryError) as caught:
        read_directory_text(text, "plans.yaml")
    assert any(
        e.startswith("plans.yaml:4: plan gold: credit: credit kind") for e in caught.value.errors
    )
    assert (
        "plans.yaml:4: plan gold: a credit rule needs the plan's monthly_fee" in caught.value.errors
    )


def test_yaml_syntax_errors_carry_the_line() -> None:
    with pytest.raises(DirectoryError, match=r"^bad.yaml:4: expected"):
        read_directory_text("plans:\n  - code: a\n    name: [unclosed\n", "bad.yaml")


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


def test_cli_load_twice_dump_and_refuse(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    first = run_cli(["directory", "load", str(EXAMPLE_DIRECTORY)], database_url, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "created" in first.stdout
    second = run_cli(["directory", "load", str(EXAMPLE_DIRECTORY)], database_url, tmp_path)
    assert second.stdout.strip() == "directory unchanged"
    dumped = run_cli(["directory", "dump"], database_url, tmp_path)
    assert dumped.returncode == 0
    assert yaml.safe_load(dumped.stdout)["customers"][0]["code"] == "acme-dental"
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN)
    with database.session() as session:
        before = session.scalar(select(func.count(Customer.id)))
    refused = run_cli(["directory", "load", str(broken)], database_url, tmp_path)
    assert refused.returncode == 1
    assert f"{broken}:8: customer acme: unknown plan 'platinum'" in refused.stderr
    assert "nothing was loaded" in refused.stderr
    with database.session() as session:
        assert session.scalar(select(func.count(Customer.id))) == before
