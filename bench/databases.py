"""Scratch databases for one bench run: a SQLite file, or a PostgreSQL database of its own.

Each is migrated with the product's Alembic migrations (what ``voiceline db upgrade``
does) and removed afterwards; the PostgreSQL server is the one the test suite uses.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from voiceline.config import normalise_database_url
from voiceline.db import Database
from voiceline.migrate import upgrade

KINDS = ("sqlite", "postgresql")
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_server_url() -> str:
    """Return the URL of a database on the server where scratch databases are made."""
    return (
        os.environ.get("VOICELINE_BENCH_POSTGRES_URL")
        or os.environ.get("VOICELINE_TEST_DATABASE_URL")
        or DEFAULT_POSTGRES
    )


def postgres_problem() -> str | None:
    """Return why PostgreSQL cannot be used, or None when it answers."""
    try:
        engine = create_engine(
            normalise_database_url(postgres_server_url()), connect_args={"connect_timeout": 3}
        )
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure means: not measured, and say why
        return f"no PostgreSQL at {postgres_server_url()}: {type(exc).__name__}"
    return None


@contextmanager
def scratch_database(kind: str, workdir: Path, label: str) -> Iterator[str]:
    """Yield the URL of a new, migrated database of ``kind``; drop it afterwards."""
    if kind == "sqlite":
        path = workdir / f"{label}-{uuid.uuid4().hex[:6]}.db"
        url = f"sqlite:///{path}"
        _migrate(url)
        try:
            yield url
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    if kind != "postgresql":
        raise ValueError(f"unknown database kind {kind!r}; use one of {KINDS}")
    base = make_url(normalise_database_url(postgres_server_url()))
    name = f"voiceline_bench_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    # The processes get the operator's spelling (postgresql://), as a deployment would.
    url = base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def copied_database(url: str, workdir: Path, label: str) -> Iterator[str]:
    """Yield the URL of a copy of the database at ``url`` as it is now; drop it afterwards.

    Nothing may be writing to it meanwhile (PostgreSQL refuses a template in use).
    """
    target = make_url(normalise_database_url(url))
    if target.get_backend_name() == "sqlite":
        path = workdir / f"{label}-{uuid.uuid4().hex[:6]}.db"
        with (
            closing(sqlite3.connect(str(target.database))) as source,
            closing(sqlite3.connect(path)) as copy,
        ):
            source.backup(copy)
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = f"voiceline_bench_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    server = make_url(normalise_database_url(postgres_server_url()))
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{target.database}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url: str) -> None:
    """Bring the schema to head with the product's migrations."""
    database = Database(normalise_database_url(url))
    try:
        upgrade(database.engine)
    finally:
        database.dispose()


def analyze(database: Database) -> None:
    """Settle the database after a bulk fill, as a deployment's history would have settled.

    PostgreSQL: gather the planner's statistics, as autovacuum would. A deployment's
    autovacuum analyzes a table soon after a load this size; the server the bench shares
    with the test suite may run without it (``autovacuum = off``), and without statistics
    the planner reads 100,000 incidents as an empty table.

    SQLite: checkpoint the write-ahead log into the database file. The fill is one big
    transaction that leaves the whole history in the WAL (177 MiB for 100,000
    incidents), which the app's first commits would then copy over while being timed; a
    history written call by call is checkpointed every 1,000 pages along the way. Nothing
    there analyzes on its own, so nothing is analyzed.
    """
    with database.engine.connect() as conn:
        if database.engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def open_database(url: str) -> Database:
    """Return a Database on ``url`` (driver names as the product maps them)."""
    return Database(normalise_database_url(url))
