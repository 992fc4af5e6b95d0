"""A database of one's own, filled by a night on the line; and a snapshot of what it holds.

The database is a new SQLite file, or, on the PostgreSQL run, a new database created
for the test and dropped after it (schema changes and restores must not touch the
suite's shared one).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, MetaData, create_engine, select, text
from sqlalchemy.engine import make_url

from escalation.wiring import settle
from tests.admin_helpers import create_admin
from tests.conftest import app_config, post_signed, postgres_url
from tests.escalation_helpers import PAT, SAM, STRANGER, load_example
from tests.line_helpers import CallDriver
from voiceline import extensions
from voiceline.app import create_app
from voiceline.clock import ManualClock

HARBOR_LAW = "+12125550131"  # business hours only: a message for the next business day
BAYSIDE = "+14155550144"  # no cover, billable after hours


@contextmanager
def own_database(tmp_path: Path, name: str = "voiceline") -> Iterator[str]:
    """Yield the URL of a new, empty database; drop it afterwards on PostgreSQL."""
    base = postgres_url()
    if base is None:
        yield f"sqlite:///{tmp_path / (name + '.db')}"
        return
    server = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    database = f"{name}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield server.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def night_app(url: str, api_base: str, clock: ManualClock, spool: Path) -> Flask:
    """Return the app on ``url`` (already migrated) with the fake Twilio API and ``clock``."""
    return create_app(app_config(url, api_base, VOICELINE_SPOOL_DIR=str(spool)), clock=clock)


def fill_with_a_night(app: Flask, clock: ManualClock) -> None:
    """Load the example desk and take calls: an emergency paged and acknowledged, a
    next-business-day message, an unknown caller, a billable request, a hang-up."""
    load_example(app)
    create_admin(extensions.database(app))
    client = app.test_client()
    client.get("/healthz")
    emergency = CallDriver(client, PAT)
    emergency.dial()
    emergency.press("1")
    emergency.leave_message()
    settle(app)
    clock.advance(timedelta(minutes=3))
    post_signed(client, "/twilio/sms", {"From": SAM, "Body": "A", "MessageSid": "SM" + "a" * 32})
    for number, keys in ((HARBOR_LAW, ""), (STRANGER, ""), (BAYSIDE, "1")):
        clock.advance(timedelta(minutes=1))
        call = CallDriver(client, number)
        call.dial()
        if keys:
            call.press(keys)
        call.leave_message()
    hang_up = CallDriver(client, PAT)
    clock.advance(timedelta(minutes=1))
    hang_up.dial()
    hang_up.hang_up()
    settle(app)


def snapshot(engine: Engine) -> dict[str, dict[str, Any]]:
    """Return each table's columns and rows, as the database holds them now."""
    meta = MetaData()
    meta.reflect(engine)
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            columns = [c.name for c in table.columns]
            rows = [dict(zip(columns, row, strict=True)) for row in conn.execute(select(table))]
            out[table.name] = {"columns": set(columns), "rows": rows}
    return out


def project(table: dict[str, Any], columns: set[str]) -> list[tuple[Any, ...]]:
    """Return the rows of a snapshot's table cut to ``columns``, sorted."""
    names = sorted(columns)
    return sorted((tuple(row[n] for n in names) for row in table["rows"]), key=repr)
