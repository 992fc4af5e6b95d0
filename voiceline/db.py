"""The single place that wires the database: engine, sessions, and the Flask hook."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from voiceline import db_deadline

if TYPE_CHECKING:  # Flask only where a request runs: a command such as the report starts without it
    from flask import Flask

# A pooled connection to a server can be dead without anyone knowing: the server restarted
# or failed over in a quiet hour. Testing every connection as it leaves the pool (the
# pool's pre-ping) costs a round trip on every request, each caller's answer included; a
# connection used moments ago is alive but for a restart in those moments, which the
# request then meets as an error: the caller gets the fallback that takes the message,
# and the pool drops every connection older than the error.
PING_AFTER_IDLE_SECONDS = 5.0
_LAST_USED = "voiceline.last_used"
# How long a SQLite connection waits for another writer's lock (outside a deadline).
SQLITE_BUSY_TIMEOUT_MS = 15_000


def make_engine(
    url: str, *, ping_after_idle: float = PING_AFTER_IDLE_SECONDS, **kwargs: Any
) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys, a busy timeout and whole savepoints.

    A server's connections are tested before use once idle ``ping_after_idle`` seconds.
    Every connection keeps the deadline of a thread that has one (``db_deadline``).
    """
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
            cursor.close()

        event.listen(engine, "savepoint", _begin_before_savepoint)
        event.listen(engine.pool, "checkin", _restore_synchronous)
        db_deadline.install(engine, SQLITE_BUSY_TIMEOUT_MS)
        return engine
    kwargs.setdefault("connect_args", {"connect_timeout": 2})
    engine = create_engine(url, **kwargs)
    # First: the idle test below is held to a deadline too.
    db_deadline.install(engine, SQLITE_BUSY_TIMEOUT_MS)
    _ping_when_idle(engine, ping_after_idle)
    return engine


def _ping_when_idle(engine: Engine, idle: float) -> None:
    """Test a connection leaving the pool when it has been idle ``idle`` seconds or more."""

    @event.listens_for(engine, "connect")
    def _new(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _test_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_LAST_USED, 0.0) < idle:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # dead: the pool drops it and checks out another
            raise DisconnectionError(f"a pooled connection was dead: {exc}") from exc


# Every commit waits until the disk has it (WAL mode's FULL), unless the transaction was
# marked by ``sync_to_disk_later`` before its first write.
SQLITE_SYNCHRONOUS = "FULL"
_RELAXED = "voiceline.synchronous_relaxed"


def sync_to_disk_later(session: Session) -> None:
    """Let this transaction's commit return before the disk has it (SQLite only).

    For a row that can be lost to a power cut without harm, written on a path where
    the wait matters: a call's first answer. SQLite holds its one write lock while a
    commit is flushed to disk (about a millisecond here), so every caller's commit queues
    behind every other's. With WAL's NORMAL level the commit is safe from a crash of the
    process and never corrupts, and reaches the disk with the next FULL commit of any
    connection, or the next checkpoint; only a crash of the machine in between loses it.
    The level can only change outside a transaction: a transaction that already wrote
    keeps FULL. The connection goes back to FULL when it returns to the pool.
    On PostgreSQL this does nothing: a ``SET LOCAL`` would cost a round trip, so the
    statement that writes such a row turns ``synchronous_commit`` off itself
    (``voiceline.orm.insert_unless_present``).
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is None or dbapi_connection.in_transaction:
        return
    connection.exec_driver_sql("PRAGMA synchronous=NORMAL")
    connection.connection.info[_RELAXED] = True


def each_statement_commits(session: Session) -> None:
    """Let each statement of this new session commit on its own, until ``begin_writes``.

    For a request that reads, then writes at most one statement, and needs no snapshot
    common to its reads (PostgreSQL's READ COMMITTED takes one per statement anyway):
    a call's answer. PostgreSQL then spends no round trip on BEGIN and none on COMMIT,
    each a wait on the server while the caller waits and a sync web worker serves
    nobody else. A request that finds it must write more than
    once calls ``begin_writes`` first. On SQLite this does nothing: pysqlite begins a
    transaction only at the first write already. Call it before the session's first
    statement; the pool puts the connection back in its usual mode when it returns.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def begin_writes(session: Session) -> None:
    """Open a transaction for the writes that follow, where ``each_statement_commits`` ran.

    They then commit together, with the session; elsewhere the session's transaction is
    already open and this does nothing.
    """
    connection = session.connection()
    dbapi_connection = connection.connection.dbapi_connection
    if (
        connection.dialect.name == "postgresql"
        and getattr(dbapi_connection, "autocommit", False)
        and dbapi_connection.info.transaction_status == _IDLE  # type: ignore[union-attr]
    ):
        connection.exec_driver_sql("BEGIN")


_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE: no transaction open on the connection


def _restore_synchronous(dbapi_connection: Any, record: Any) -> None:
    if record.info.pop(_RELAXED, False) and dbapi_connection is not None:
        dbapi_connection.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")


def _begin_before_savepoint(conn: Connection, _name: str | None) -> None:
    """Open a real transaction before a SAVEPOINT that would otherwise start one itself."""
    # pysqlite emits BEGIN only before INSERT/UPDATE/DELETE, so a SAVEPOINT after nothing
    # but reads ran outside any transaction, and releasing it committed: the rows it wrote
    # outlived a rollback of the session. SQLAlchemy's pysqlite recipe (emit BEGIN
    # ourselves) is applied here, where the gap is, not at every session's first
    # statement: a deferred BEGIN there makes a session that read and then writes fail at
    # once ("database is locked") whenever another process wrote in between, and
    # BEGIN IMMEDIATE there queues every read, an admin report's too, behind the write
    # lock while a caller waits. IMMEDIATE here takes the write lock the savepoint is
    # about to need, waiting out the busy timeout like any other write.
    dbapi_conn = conn.connection.dbapi_connection
    if dbapi_conn is not None and not dbapi_conn.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_sqlite(engine: Engine) -> bool:
    """Return True for a SQLite engine."""
    return engine.dialect.name == "sqlite"


class Database:
    """An engine plus a session factory, one per app or worker process."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a session that commits on success and rolls back on error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> bool:
        """Return True when the database answers a trivial query."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def init_app(app: Flask, database: Database) -> None:
    """Attach ``database`` to ``app``: one session per request, closed at teardown."""
    from flask import g

    app.extensions["voiceline.db"] = database

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def request_session() -> Session:
    """Return this request's session, opening it on first use."""
    from flask import current_app, g

    if "db_session" not in g:
        database: Database = current_app.extensions["voiceline.db"]
        g.db_session = database.sessions()
    session: Session = g.db_session
    return session
