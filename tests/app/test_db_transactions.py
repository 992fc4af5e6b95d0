"""Transactions on the project's engines: a savepoint never commits on its own, and on
SQLite reads neither wait for a writer nor spoil the write that follows them."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from voiceline.admin.models import AdminNotice
from voiceline.db import Database, sync_to_disk_later

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


class LaterFailure(Exception):
    """Something that goes wrong after the savepoint was released."""


def notices(database: Database) -> list[str]:
    with database.session() as session:
        return list(session.scalars(select(AdminNotice.kind).order_by(AdminNotice.id)))


def test_a_released_savepoint_after_reads_rolls_back_with_its_session(database) -> None:
    with pytest.raises(LaterFailure), database.session() as session:
        session.scalar(select(func.count(AdminNotice.id)))  # only reads so far
        with session.begin_nested():
            session.add(AdminNotice(at=AT, kind="inside", message="written in a savepoint"))
            session.flush()
        raise LaterFailure
    assert notices(database) == []


def test_a_savepoint_as_the_first_statement_rolls_back_with_its_session(database) -> None:
    with pytest.raises(LaterFailure), database.session() as session:
        with session.begin_nested():
            session.add(AdminNotice(at=AT, kind="inside", message="written in a savepoint"))
        raise LaterFailure
    assert notices(database) == []


def test_a_savepoint_and_the_rest_commit_together(database) -> None:
    with database.session() as session:
        session.scalar(select(func.count(AdminNotice.id)))
        with session.begin_nested():
            session.add(AdminNotice(at=AT, kind="inside", message="in the savepoint"))
        session.add(AdminNotice(at=AT, kind="after", message="after it"))
    assert notices(database) == ["inside", "after"]


def test_a_rolled_back_savepoint_keeps_what_came_before(database) -> None:
    with database.session() as session:
        session.add(AdminNotice(at=AT, kind="before", message="before it"))
        session.flush()
        savepoint = session.begin_nested()
        session.add(AdminNotice(at=AT, kind="inside", message="undone"))
        session.flush()
        savepoint.rollback()
        session.add(AdminNotice(at=AT, kind="after", message="after it"))
    assert notices(database) == ["before", "after"]


def sqlite_path(database: Database) -> str:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's locking; PostgreSQL has row locks and MVCC")
    path = make_url(database.url).database
    assert path
    return path


def test_a_read_does_not_wait_for_another_processs_write_lock(database) -> None:
    blocker = sqlite3.connect(sqlite_path(database), timeout=0)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        assert notices(database) == []
        waited = time.monotonic() - started
    finally:
        blocker.rollback()
        blocker.close()
    assert waited < 1.0, f"a read waited {waited:.2f}s behind a writer"


def test_a_write_after_reads_waits_for_a_writer_who_commits_in_between(database) -> None:
    """A session that read before another process wrote must still get to write."""
    path = sqlite_path(database)
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    read_done, written = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def read_then_write() -> None:
        try:
            with database.session() as session:
                session.scalar(select(func.count(AdminNotice.id)))
                read_done.set()
                assert written.wait(5)
                session.add(AdminNotice(at=AT, kind="second", message="after the other"))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=read_then_write)
    thread.start()
    assert read_done.wait(5)
    other.execute(
        "INSERT INTO admin_notices (at, kind, message) VALUES (?, 'first', 'other process')",
        (AT.replace(tzinfo=None).isoformat(sep=" "),),
    )
    written.set()
    thread.join(10)
    other.close()
    assert errors == []
    assert notices(database) == ["first", "second"]


def _synchronous(session) -> int:
    return session.connection().exec_driver_sql("PRAGMA synchronous").scalar()


def _sqlite_only(database: Database) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's synchronous level; PostgreSQL's: tests/line/test_line_durability.py")


def test_every_sqlite_commit_waits_for_the_disk_unless_told(database) -> None:
    _sqlite_only(database)
    with database.session() as session:
        assert _synchronous(session) == 2  # FULL


def test_a_relaxed_transaction_commits_at_normal_and_its_connection_goes_back_to_full(
    database,
) -> None:
    _sqlite_only(database)
    with database.session() as session:
        sync_to_disk_later(session)
        assert _synchronous(session) == 1  # NORMAL, for this transaction's commit
        session.add(AdminNotice(at=AT, kind="relaxed", message="written at NORMAL"))
    assert notices(database) == ["relaxed"]
    # One connection in the pool at a time: the next session gets the same one back.
    database.engine.pool.dispose()
    with database.session() as first:
        sync_to_disk_later(first)
        raw = first.connection().connection.dbapi_connection
    with database.session() as second:
        assert second.connection().connection.dbapi_connection is raw
        assert _synchronous(second) == 2


def test_a_transaction_that_already_wrote_keeps_full(database) -> None:
    _sqlite_only(database)
    with database.session() as session:
        session.add(AdminNotice(at=AT, kind="first", message="written at FULL"))
        session.flush()
        sync_to_disk_later(session)  # too late to change: SQLite refuses inside a transaction
        assert _synchronous(session) == 2
    assert notices(database) == ["first"]


def _server_only(database: Database) -> None:
    if database.engine.dialect.name == "sqlite":
        pytest.skip("a connection to a server that can go away; SQLite is a file")


def _kill_pooled_connection(database: Database) -> int:
    """End the server process behind the pool's one connection; return its pid."""
    database.engine.pool.dispose()
    with database.session() as session:
        pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
    killer = Database(database.url)
    try:
        with killer.session() as session:
            session.connection().exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
    finally:
        killer.dispose()
    time.sleep(0.2)  # the server ends the process
    return int(pid)


def test_a_connection_dead_after_an_idle_spell_is_replaced_before_use(database_url) -> None:
    database = Database(database_url, ping_after_idle=0.5)
    try:
        _server_only(database)
        dead = _kill_pooled_connection(database)
        time.sleep(0.6)  # idle longer than the threshold: tested on the way out
        with database.session() as session:
            alive = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        assert alive != dead
    finally:
        database.dispose()


def test_a_connection_used_moments_ago_is_not_tested(database_url) -> None:
    # The price of no round trip per request: a restart within the idle spell is met by
    # the request, which fails, and the pool then drops its connections.
    database = Database(database_url, ping_after_idle=60)
    try:
        _server_only(database)
        _kill_pooled_connection(database)
        with pytest.raises(OperationalError), database.session() as session:
            session.connection().exec_driver_sql("SELECT 1")
        with database.session() as session:
            assert session.connection().exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        database.dispose()
