"""Migration 0010 on a database that holds clocks: each clock gets its incident's customer.

Going down to 0009 drops the column and its index; coming up again fills the column from
the incidents, and the month's report reads the same totals as before.

Runs on SQLite, and on PostgreSQL in the PostgreSQL run (a database of its own).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import inspect, select

from bench.history import add_incident_history
from tests.app.night_db import own_database
from tests.conftest import EXAMPLE_DIRECTORY
from voiceline.db import Database
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory
from voiceline.incidents.models import Incident
from voiceline.migrate import downgrade, upgrade
from voiceline.sla.models import SlaClock
from voiceline.sla.report_formats import render_json
from voiceline.sla.reports import monthly_report

OCTOBER = date(2026, 10, 1)
AS_OF = datetime(2026, 11, 10, tzinfo=UTC)


def _report(database: Database) -> str:
    with database.session() as session:
        return render_json(monthly_report(session, OCTOBER, as_of=AS_OF))


def test_going_down_and_up_again_gives_every_clock_its_incidents_customer(
    tmp_path: Path,
) -> None:
    with own_database(tmp_path, "rpt_clock_customer") as url:
        database = Database(url)
        try:
            upgrade(database.engine)
            with database.session() as session:
                load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))
            add_incident_history(database, 300, OCTOBER)
            before = _report(database)
            assert sum(c["incidents"] for c in json.loads(before)["customers"]) == 300

            downgrade(database.engine, "0009")
            columns = {c["name"] for c in inspect(database.engine).get_columns("sla_clocks")}
            indexes = {i["name"] for i in inspect(database.engine).get_indexes("sla_clocks")}
            assert "customer_id" not in columns
            assert "ix_sla_clocks_report_totals" not in indexes

            upgrade(database.engine)
            with database.session() as session:
                pairs = session.execute(
                    select(SlaClock.customer_id, Incident.customer_id).join(
                        Incident, Incident.id == SlaClock.incident_id
                    )
                ).all()
            assert len(pairs) == 300
            assert all(mine == theirs is not None for mine, theirs in pairs)
            assert _report(database) == before
        finally:
            database.dispose()
