"""The report's SQL helpers read what the models' own types read."""

from __future__ import annotations

from datetime import UTC, date

from sqlalchemy import select

from bench.history import add_incident_history
from tests.conftest import EXAMPLE_DIRECTORY
from voiceline.db import Database
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory
from voiceline.sla.models import SlaClock
from voiceline.sla.report_sql import UtcInstant


def test_a_utc_instant_reads_as_the_models_datetime_does(database: Database) -> None:
    with database.session() as session:
        load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))
    add_incident_history(database, 50, date(2026, 10, 1))
    columns = (SlaClock.started_at, SlaClock.deadline_at, SlaClock.stopped_at)
    with database.session() as session:
        rows = session.execute(
            select(*columns, *(UtcInstant(c) for c in columns)).order_by(SlaClock.id)
        ).all()
    assert len(rows) == 50
    for row in rows:
        assert tuple(row[3:]) == tuple(row[:3])
        assert all(at.tzinfo is UTC and at.isoformat().endswith("+00:00") for at in row)
        assert [at.isoformat() for at in row[3:]] == [at.isoformat() for at in row[:3]]
