"""A thread's database work gives up at its deadline (``voiceline.db_deadline``).

The line answers a caller on the request's own thread, so the database itself must stop
at the deadline: a statement that runs on, a lock held by another writer, a server that
no longer answers, a connection that cannot be opened. Each would otherwise keep the
caller in silence for seconds (SQLite's busy timeout is 15 s, a dead server's is the
network's). Elapsed times here are bounds well above the deadline and well below what
the same work takes without one.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.tcp_proxy import TcpProxy
from voiceline.db import Database
from voiceline.db_deadline import DeadlinePassed, held_to

# A statement that runs for many seconds on SQLite: counting to a billion.
LONG_SQLITE = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) "
    "SELECT count(*) FROM n"
)


def _busy_timeout(database: Database) -> int:
    with database.session() as session:
        return int(session.execute(text("PRAGMA busy_timeout")).scalar_one())


def _sqlite(database: Database) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's interrupt and busy timeout; PostgreSQL's cases are below")


def _postgres(database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (VOICELINE_TEST_DATABASE_URL); .ci/run sets it")


def test_a_long_sqlite_statement_is_interrupted_at_the_deadline(database: Database) -> None:
    _sqlite(database)
    started = time.monotonic()
    with (
        pytest.raises(DBAPIError, match="interrupted"),
        held_to(0.3) as deadline,
        database.session() as session,
    ):
        session.execute(text(LONG_SQLITE))
    assert time.monotonic() - started < 3.0
    assert deadline.expired
    with database.session() as session:  # the connection goes on serving
        assert session.execute(text("SELECT 1")).scalar_one() == 1


def test_a_writer_waits_for_sqlites_lock_only_until_the_deadline(database: Database) -> None:
    _sqlite(database)
    assert _busy_timeout(database) == 15_000
    blocker = sqlite3.connect(make_url(database.url).database or "", timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with (
            pytest.raises(DBAPIError, match="locked"),
            held_to(0.5),
            database.session() as session,
        ):
            session.execute(text("CREATE TABLE t (x INTEGER)"))
        assert time.monotonic() - started < 3.0
    finally:
        blocker.rollback()
        blocker.close()
    # Back in the pool, the connection waits for a writer as long as ever.
    assert _busy_timeout(database) == 15_000


def test_work_without_a_deadline_is_left_alone(database: Database) -> None:
    _sqlite(database)
    with held_to(5.0), database.session() as session:
        assert int(session.execute(text("PRAGMA busy_timeout")).scalar_one()) < 5_000
    assert _busy_timeout(database) == 15_000


def test_a_postgres_statement_that_runs_on_is_cut_at_the_deadline(database: Database) -> None:
    _postgres(database)
    started = time.monotonic()
    with (
        pytest.raises(DBAPIError),
        held_to(0.5) as deadline,
        database.session() as session,
    ):
        session.execute(text("SELECT pg_sleep(10)"))
    assert time.monotonic() - started < 3.0
    assert deadline.expired
    with database.session() as session:  # the pool replaced the connection it gave up on
        assert session.execute(text("SELECT 1")).scalar_one() == 1


def test_a_postgres_server_that_stopped_answering_is_given_up_at_the_deadline(
    database: Database,
) -> None:
    _postgres(database)
    url = make_url(database.url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = Database(url.set(host="127.0.0.1", port=proxy.port).render_as_string(False))
    try:
        with proxied.session() as session:  # a pooled connection, used a moment ago
            session.execute(text("SELECT 1"))
        proxy.black_hole()
        for what in ("a query on a pooled connection", "a new connection"):
            started = time.monotonic()
            with (
                pytest.raises((DBAPIError, DeadlinePassed)),
                held_to(0.5),
                proxied.session() as session,
            ):
                session.execute(text("SELECT 1"))
            assert time.monotonic() - started < 3.0, what
    finally:
        proxy.restore()
        proxied.dispose()
        proxy.close()


def test_a_connection_shut_as_its_work_ended_is_not_handed_on(database: Database) -> None:
    _postgres(database)
    with held_to(0.3) as deadline, database.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        connection.commit()
        time.sleep(0.6)  # the work is done, the connection not yet back in the pool
        assert deadline.expired
    # The next request gets a working connection, not the one whose socket was shut.
    with database.session() as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1
