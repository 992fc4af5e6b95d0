"""How much database work one inbound call costs: a regression guard, not a timing.

Twilio waits on ``POST /twilio/voice`` while a caller hears silence, and every call to the
line pays for it, so its SQL statements are counted here: a lazy relationship or a query
that grows with the history shows up as a higher count. Speed itself is measured by the
bench (``python -m bench --only webhooks``), never asserted in a unit test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from line_desk import PAT, STRANGER
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.history import add_incident_history
from tests.line_helpers import CallDriver
from voiceline import extensions

# A caller seen before is kept in memory (caller, plan and service block): the call's row
# is one INSERT that checks, as it writes, that the directory's version still holds and
# that the caller has no open incident, and that a retried request leaves alone. Raise
# it only with a reason.
STATEMENTS_PER_CALL = 1


class Statements:
    """The SQL statements an engine runs while counting."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.seen.append(statement)

    def of(self, work: Any) -> list[str]:
        """Return the statements ``work()`` ran (transaction control left out)."""
        self.seen = []
        event.listen(self.engine, "before_cursor_execute", self)
        try:
            work()
        finally:
            event.remove(self.engine, "before_cursor_execute", self)
        return [s for s in self.seen if s.split()[0].upper() in ("SELECT", "INSERT", "UPDATE")]


@pytest.fixture
def statements(line: Flask) -> Iterator[Statements]:
    yield Statements(extensions.database(line).engine)


def _dial(client: Any, number: str) -> None:
    # SIDs of their own: the history's calls are numbered from 1, as CallDriver's are.
    CallDriver(client, number, call_sid=f"CA{uuid.uuid4().hex}").dial()


def test_a_known_caller_after_hours_costs_a_few_statements(line, client, statements) -> None:
    _dial(client, PAT)  # the first call of a process may warm caches; count the second
    seen = statements.of(lambda: _dial(client, PAT))
    assert len(seen) <= STATEMENTS_PER_CALL, "\n".join(seen)


def test_an_unknown_caller_costs_no_more(line, client, statements) -> None:
    _dial(client, STRANGER)
    seen = statements.of(lambda: _dial(client, STRANGER))
    assert len(seen) <= STATEMENTS_PER_CALL, "\n".join(seen)


def test_history_does_not_add_statements(line, client, statements) -> None:
    _dial(client, PAT)
    empty = statements.of(lambda: _dial(client, PAT))
    # A month of closed incidents around the test clock, some of them Acme Dental's.
    add_incident_history(extensions.database(line), 1_000, date(2026, 11, 1))
    full = statements.of(lambda: _dial(client, PAT))
    assert len(full) == len(empty), "\n".join(full)


def test_the_repeat_caller_check_reads_an_index_not_the_table(line, client) -> None:
    database = extensions.database(line)
    add_incident_history(database, 1_000, date(2026, 11, 1))
    _dial(client, PAT)  # kept from now on: the check is read beside the directory's version
    seen: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM incidents" in statement:
            seen.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", keep)
    try:
        _dial(client, PAT)
    finally:
        event.remove(database.engine, "before_cursor_execute", keep)
    [(statement, parameters)] = seen
    assert "directory_version" in statement, statement
    with database.session() as session:
        connection = session.connection()
        if database.engine.dialect.name == "sqlite":
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            details = " ".join(str(row[-1]) for row in plan)
            assert "USING INDEX" in details and "SCAN incidents" not in details, details
        else:
            # A small table is cheaper to scan: ask whether an index could serve at all.
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = [
                row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            ]
            assert any("Index" in line for line in plan), plan
