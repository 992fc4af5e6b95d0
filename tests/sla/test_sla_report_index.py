"""The monthly report reads through its indexes: incident counts, zones, running clocks, breaches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import event, select

from bench.history import add_incident_history
from tests.conftest import EXAMPLE_DIRECTORY
from voiceline.customers.models import Customer
from voiceline.db import Database
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory
from voiceline.sla.report_queries import (
    all_stopped_breaches,
    incident_counts,
    month_scope,
    running_clocks,
    stopped_totals,
)

OCTOBER = date(2026, 10, 1)


def _october_history(database: Database) -> None:
    """Load the example directory and 500 incidents of October 2026."""
    with database.session() as session:
        load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))
    add_incident_history(database, 500, OCTOBER)


@contextmanager
def _statements(database: Database, naming: str = "") -> Iterator[list[tuple[str, Any]]]:
    """Collect each statement (with its parameters) that contains ``naming``, until the end."""
    seen: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if naming in statement:
            seen.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", keep)


def test_the_incident_count_reads_the_customer_and_clock_start_index(database: Database) -> None:
    _october_history(database)
    with database.session() as session:
        customers = [(c.id, c.time_zone) for c in session.scalars(select(Customer))]
        with _statements(database, "FROM incidents") as seen:
            counts = incident_counts(session, OCTOBER, customers)
        assert sum(counts.values()) > 0, "the history should fill October"
        [(statement, parameters)] = seen
        connection = session.connection()
        if database.engine.dialect.name == "sqlite":
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            details = " ".join(str(row[-1]) for row in plan)
            assert "ix_incidents_customer_id_clock_started_at" in details, details
        else:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = [
                row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            ]
            assert any("ix_incidents_customer_id_clock_started_at" in line for line in plan), plan


def _plan(connection: Any, statement: str, parameters: Any, kind: str) -> str:
    if kind == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return " ".join(str(row[-1]) for row in rows)
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return " ".join(
        row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
    )


def test_the_zones_running_clocks_and_breaches_are_read_through_their_indexes(
    database: Database,
) -> None:
    _october_history(database)
    kind = database.engine.dialect.name
    with database.session() as session:
        customers = [(c.id, c.time_zone) for c in session.scalars(select(Customer))]
        with _statements(database) as seen:
            scope = month_scope(session, OCTOBER, customers)
            running = running_clocks(session, scope)
            breaches = list(all_stopped_breaches(session, scope, [i for i, _ in customers]))
        assert running == [] and len(breaches) > 0, "the history's clocks are all stopped"
        [zones, running_read, breach_read] = seen
        connection = session.connection()
        for (statement, parameters), index in (
            (zones, "ix_sla_clocks_started_at_time_zone"),
            (running_read, "ix_sla_clocks_running_started_at"),
            (breach_read, "ix_sla_clocks_breached_started_at"),
        ):
            plan = _plan(connection, statement, parameters, kind)
            assert index in plan, (index, plan)


def test_the_stopped_totals_read_their_covering_index_alone(database: Database) -> None:
    _october_history(database)
    kind = database.engine.dialect.name
    if kind == "postgresql":  # the planner's statistics, as a deployment's autovacuum keeps
        with database.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    with database.session() as session:
        customers = [(c.id, c.time_zone) for c in session.scalars(select(Customer))]
        scope = month_scope(session, OCTOBER, customers)
        with _statements(database) as seen:
            totals = stopped_totals(session, scope)
        assert sum(t.stopped for t in totals.values()) == 500
        assert sum(t.credits for t in totals.values()) > 0, "some breaches earned credit"
        [(statement, parameters), (credits, credit_parameters)] = seen
        assert "incidents" not in statement and "incidents" not in credits
        connection = session.connection()
        plan = _plan(connection, statement, parameters, kind)
        if kind == "sqlite":
            assert "COVERING INDEX ix_sla_clocks_report_totals" in plan, plan
            # the breaches' credits: found in the same index, then their rows read
            credit_plan = _plan(connection, credits, credit_parameters, kind)
            assert "ix_sla_clocks_report_totals" in credit_plan, credit_plan
        else:
            assert "ix_sla_clocks_report_totals" in plan, plan
