"""Which commits of a call wait for the server's disk (PostgreSQL's ``synchronous_commit``).

The answer writes the call's row, which says which way the call went and is written
again by the call's next step: its commit need not wait for the WAL flush. Each of the
answer's statements commits on its own (``voiceline.db.each_statement_commits``: no
BEGIN and no COMMIT to wait for), and the one that writes turns ``synchronous_commit``
off for its own transaction. A repeat call writes its row and the incident's log
together, in one transaction. The message, its recording and every later step wait for
the flush: each is checked here as it commits.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from line_desk import PAT, ROBIN, STRANGER
from psycopg.pq import TransactionStatus
from sqlalchemy import event, text

from tests.line_helpers import CallDriver
from voiceline import extensions


class Commits:
    """The ``synchronous_commit`` each commit of the request's thread ran under, in order.

    Paging hands over on threads of its own (their commits are not the call's).
    """

    def __init__(self) -> None:
        self.levels: list[str] = []
        self.thread = threading.get_ident()

    def __call__(self, conn: Any) -> None:
        if threading.get_ident() != self.thread:
            return
        raw = conn.connection.dbapi_connection
        self.levels.append(raw.execute("SHOW synchronous_commit").fetchone()[0])

    def of(self, work: Any) -> list[str]:
        self.levels = []
        work()
        return self.levels


class Statements:
    """Each statement the request's thread ran, its parameters, and whether a transaction
    was open after it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any, bool]] = []
        self.thread = threading.get_ident()

    def __call__(self, conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if threading.get_ident() != self.thread:
            return
        status = conn.connection.dbapi_connection.info.transaction_status
        self.seen.append((statement, parameters, status != TransactionStatus.IDLE))

    def of(self, work: Any) -> list[tuple[str, Any, bool]]:
        self.seen = []
        work()
        return self.seen


@pytest.fixture
def commits(line: Flask) -> Iterator[Commits]:
    engine = extensions.database(line).engine
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's synchronous_commit; SQLite's level is tested in tests/app")
    seen = Commits()
    event.listen(engine, "commit", seen)
    yield seen
    event.remove(engine, "commit", seen)


@pytest.fixture
def statements(line: Flask, commits: Commits) -> Iterator[Statements]:
    engine = extensions.database(line).engine
    seen = Statements()
    event.listen(engine, "after_cursor_execute", seen)
    yield seen
    event.remove(engine, "after_cursor_execute", seen)


def _writes(seen: list[tuple[str, Any, bool]]) -> list[tuple[str, Any, bool]]:
    return [row for row in seen if row[0].split()[0].upper() in ("INSERT", "UPDATE")]


def test_each_statement_of_an_answer_commits_alone(line, client, statements) -> None:
    for number in (PAT, STRANGER):
        seen = statements.of(lambda n=number: CallDriver(client, n).dial())
        assert seen, "the answer ran no statement"
        # No transaction is left open after any statement: none was begun, none waits.
        assert [open_ for _, _, open_ in seen] == [False] * len(seen), seen
        [(insert, parameters, _)] = _writes(seen)
        assert insert.startswith("INSERT INTO calls") and "RETURNING set_config(" in insert
        assert {"synchronous_commit", "off"} <= set(parameters.values())


def test_a_statement_that_commits_alone_commits_under_its_own_setting(line) -> None:
    # What the answer's INSERT relies on: ``set_config(..., true)`` holds for the rest of
    # the statement's own transaction, and the next statement is back to the default.
    engine = extensions.database(line).engine
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's synchronous_commit")
    with engine.connect() as conn:
        alone = conn.execution_options(isolation_level="AUTOCOMMIT")
        during = alone.execute(
            text(
                "SELECT set_config('synchronous_commit', 'off', true), "
                "current_setting('synchronous_commit')"
            )
        ).one()
        after = alone.execute(text("SHOW synchronous_commit")).scalar_one()
    assert tuple(during) == ("off", "off")
    assert after == "on"


def test_a_repeat_call_writes_its_row_and_the_log_together(
    line, client, caller, clock, statements, commits
) -> None:
    first = caller(PAT)
    first.dial()
    first.press("1")
    first.leave_message()
    clock.advance(timedelta(minutes=5))
    levels = commits.of(lambda: statements.of(caller(ROBIN).dial))
    writes = _writes(statements.seen)
    assert len(writes) >= 2  # the call's row and the incident's log
    assert all(open_ for _, _, open_ in writes), writes
    assert levels == ["off"]


def test_a_retried_answer_and_the_message_wait_for_the_flush(line, client, commits) -> None:
    call = CallDriver(client, STRANGER)
    call.dial()
    # The retry inserts nothing; a connection's next transaction is synchronous again.
    assert set(commits.of(call.dial)) <= {"on"}
    assert set(commits.of(call.leave_message)) == {"on"}
    assert set(commits.of(call.hang_up)) == {"on"}
