"""The report's counts and percentiles over a month of history, against the clocks themselves.

bench.history writes a month of stopped callback clocks straight into the tables (nine in
ten met, the rest breached with a credit), as the product stores them. The test reads every
clock back as plain rows and works out each target's figures on its own: the counts, and the
median and 90th percentile by nearest rank, ceil(p x N / 100) in integers over the sorted
seconds. It runs on SQLite, and on PostgreSQL when VOICELINE_TEST_DATABASE_URL names one.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

from sqlalchemy import select

from bench.history import add_incident_history
from tests.conftest import EXAMPLE_DIRECTORY
from voiceline.customers.models import Customer
from voiceline.db import Database
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory
from voiceline.incidents.models import Incident
from voiceline.sla.models import SlaClock
from voiceline.sla.reports import monthly_report

OCTOBER = date(2026, 10, 1)
AS_OF = datetime(2026, 11, 10, tzinfo=UTC)


def nearest(values: list[int], percent: int) -> int:
    """Return the nearest-rank percentile: the ceil(percent x N / 100)-th smallest value."""
    rank = -(-percent * len(values) // 100)
    return sorted(values)[rank - 1]


def test_every_targets_counts_and_percentiles_match_its_clocks(database: Database) -> None:
    with database.session() as session:
        load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))
    # The history keeps a day clear of the month's edges: every clock is October's.
    add_incident_history(database, 1_500, OCTOBER)
    walls: dict[tuple[str, tuple[str, str, int, str]], list[int]] = defaultdict(list)
    business: dict[tuple[str, tuple[str, str, int, str]], list[int]] = defaultdict(list)
    outcomes: dict[tuple[str, tuple[str, str, int, str]], list[bool]] = defaultdict(list)
    with database.session() as session:
        clocks = session.execute(
            select(Customer.code, SlaClock.metric, SlaClock.priority, SlaClock.target_minutes,
                   SlaClock.clock, SlaClock.wall_seconds, SlaClock.business_seconds,
                   SlaClock.is_met)
            .join(Incident, Incident.id == SlaClock.incident_id)
            .join(Customer, Customer.id == Incident.customer_id)
        )  # fmt: skip
        for code, metric, priority, minutes, clock, wall, spent, met in clocks:
            key = (code, (metric, priority, minutes, clock))
            walls[key].append(wall)
            business[key].append(spent)
            outcomes[key].append(met)
        report = monthly_report(session, OCTOBER, as_of=AS_OF, with_breaches=False)
    assert sum(len(v) for v in walls.values()) == 1_500
    assert len(walls) >= 2, "the history should spread over several customers"
    shown = {
        (c.code, (t.metric, t.priority, t.target_minutes, t.clock)): t
        for c in report.customers
        for t in c.targets
    }
    for key, seconds in walls.items():
        line = shown[key]
        assert (line.incidents, line.met, line.breached, line.open) == (
            len(seconds),
            outcomes[key].count(True),
            outcomes[key].count(False),
            0,
        ), key
        assert all(outcomes[key].count(m) for m in (True, False)), "met and breached both"
        assert (line.median_wall, line.p90_wall) == (nearest(seconds, 50), nearest(seconds, 90))
        assert (line.median_business, line.p90_business) == (
            nearest(business[key], 50),
            nearest(business[key], 90),
        ), key
