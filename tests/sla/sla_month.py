"""A generated month of incidents and the test's own account of it, for the SLA report tests."""

from __future__ import annotations

import json
import math
import os
import random
import shutil
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tests.conftest import EXAMPLE_DIRECTORY, TEST_SECRET_KEY, postgres_url
from voiceline.cli import main
from voiceline.customers.business_time import add_business_time
from voiceline.customers.services import calendar_for, find_caller
from voiceline.db import Database
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory
from voiceline.line.incidents import open_incident
from voiceline.migrate import upgrade
from voiceline.sla.clocks import mark_restored, stop_callback

# About 200 incidents are opened and called back through the SLA services (open_incident
# starts the clocks; stop_callback and mark_restored stop them) across four customers in
# three time zones, over both DST changes and Thanksgiving, with deliberate cases on the
# month's edges. The tests keep their own account of what was generated (the delay of each
# callback, on the target's clock) and check the report against that account, not against
# the code's arithmetic.

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
    """Return the UTC instant of a wall-clock time in ``zone``."""
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
    """Return the nearest-rank percentile of ``values``, or None when there are none."""
    if not values:
        return None
    return sorted(values)[math.ceil(percent * len(values) / 100) - 1]


@contextmanager
def generated_month_database(
    template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, Expected]]]:
    """Yield the URL of a database of its own holding a generated month, and its account."""
    # On PostgreSQL it is a separate database: the per-test ``database`` fixture empties the
    # shared one after every test.
    admin = None
    if postgres_url() is None:
        path = tmp_path_factory.mktemp("sla-month") / "voiceline.db"
        shutil.copy(template, path)
        url = f"sqlite:///{path}"
    else:
        base = make_url(template)
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
    """Run ``voiceline report`` on the database at ``url``."""
    environment = {"DATABASE_URL": url, "SECRET_KEY": TEST_SECRET_KEY, **(env or {})}
    return CliRunner().invoke(main, ["report", *args], env=environment)


def report_json(url: str, *extra: str) -> dict[str, Any]:
    """Return November's report as of ``AS_OF`` as JSON, failing if the command fails."""
    result = run_cli(
        url, "--month", "2026-11", "--format", "json", "--as-of", AS_OF.isoformat(), *extra
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
