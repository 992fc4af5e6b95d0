"""Which commits of a call wait for the server's disk (PostgreSQL's ``synchronous_commit``).

The answer's transaction writes the call's row, which says which way the call went and is
written again by the call's next step: its COMMIT need not wait for the WAL flush. The
message, its recording and every later step must: each is checked here as it commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from line_desk import PAT, STRANGER
from sqlalchemy import event

from tests.line_helpers import CallDriver
from voiceline import extensions


class Commits:
    """The ``synchronous_commit`` each commit on an engine ran under, in order."""

    def __init__(self) -> None:
        self.levels: list[str] = []

    def __call__(self, conn: Any) -> None:
        raw = conn.connection.dbapi_connection
        self.levels.append(raw.execute("SHOW synchronous_commit").fetchone()[0])

    def of(self, work: Any) -> list[str]:
        self.levels = []
        work()
        return self.levels


@pytest.fixture
def commits(line: Flask) -> Iterator[Commits]:
    engine = extensions.database(line).engine
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's synchronous_commit; SQLite's level is tested in tests/app")
    seen = Commits()
    event.listen(engine, "commit", seen)
    yield seen
    event.remove(engine, "commit", seen)


def test_an_answer_commits_without_waiting_for_the_flush(line, client, commits) -> None:
    for number in (PAT, STRANGER):
        assert commits.of(lambda n=number: CallDriver(client, n).dial()) == ["off"]


def test_a_retried_answer_and_the_message_wait_for_the_flush(line, client, commits) -> None:
    call = CallDriver(client, STRANGER)
    call.dial()
    # The retry inserts nothing; a connection's next transaction is synchronous again.
    assert commits.of(call.dial) == ["on"]
    assert set(commits.of(call.leave_message)) == {"on"}
    assert set(commits.of(call.hang_up)) == {"on"}
