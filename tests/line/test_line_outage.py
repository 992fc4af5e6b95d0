"""Never fail a caller: with the database unavailable, the line still records the message
within 2 s, and the message becomes an incident once the database is back."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import make_url

from simulator.rest import FakeTwilioApi
from tests.conftest import EXAMPLE_DIRECTORY, PRODUCT_ANSWER_DEADLINE, app_config, postgres_url
from tests.line_helpers import CallDriver
from tests.tcp_proxy import TcpProxy
from voiceline import extensions
from voiceline.app import create_app
from voiceline.clock import ManualClock
from voiceline.db import Database
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory
from voiceline.incidents.models import Incident, IncidentEvent, Recording
from voiceline.line.recovery import replay_spool
from voiceline.line.spool import Spool

PAT = "+15035550111"


def load_example(database: Database) -> None:
    with database.session() as session:
        load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))


def timed(fn, *args, **kwargs):
    started = time.monotonic()
    result = fn(*args, **kwargs)
    return result, time.monotonic() - started


def walk_a_call_through_an_outage(app: Flask, spool_dir: Path) -> CallDriver:
    """Dial and leave a message while the database is away; check what the caller got."""
    call = CallDriver(app.test_client(), PAT)
    twiml, seconds = timed(call.dial)
    assert seconds < 2.0, f"the caller waited {seconds:.2f}s"
    assert "please say your name, your company" in twiml.says()
    assert "priority=fallback" in twiml.one("Record").get("action", "")
    thanks, seconds = timed(call.leave_message)
    assert seconds < 4.0  # the action and the status callback, each under 2 s
    assert "We will call you back" in thanks[0].says()
    spooled = Spool(spool_dir).pending_files()
    assert spooled, "nothing was spooled to recover the message"
    text = "".join(p.read_text() for p in spooled)
    assert call.call_sid in text and PAT in text and "RecordingUrl" in text
    return call


def assert_recovered(database: Database, spool_dir: Path, clock: ManualClock, call: CallDriver):
    to_page = replay_spool(database, Spool(spool_dir), clock)
    with database.session() as session:
        [incident] = session.scalars(select(Incident)).all()
        assert incident.call_sid == call.call_sid
        assert incident.priority == "emergency"  # decided for the moment of the call
        assert incident.next_due_at is not None
        assert session.scalars(select(Recording)).one().incident_id == incident.id
    # paged once, whether the replay or the request that finished late opened it
    with database.session() as session:
        handed = session.scalars(
            select(IncidentEvent).filter_by(incident_id=incident.id, kind="handed_over_to_paging")
        ).all()
    assert len(handed) == 1
    assert set(to_page) <= {incident.id}
    assert Spool(spool_dir).pending_files() == []


def test_sqlite_locked_by_another_writer(database_url, twilio_api: FakeTwilioApi, clock, tmp_path):
    spool_dir = tmp_path / "spool"
    app = create_app(
        app_config(
            database_url,
            twilio_api.base_url,
            VOICELINE_SPOOL_DIR=str(spool_dir),
            VOICELINE_ANSWER_DEADLINE_SECONDS=PRODUCT_ANSWER_DEADLINE,
        ),
        clock=clock,
    )
    database = extensions.database(app)
    if not database.url.startswith("sqlite"):
        pytest.skip("this outage is SQLite's; the PostgreSQL outage test covers PostgreSQL")
    load_example(database)
    # Another process holds the write lock: every write waits on SQLite's busy timeout.
    blocker = sqlite3.connect(make_url(database_url).database, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        call = walk_a_call_through_an_outage(app, spool_dir)
    finally:
        blocker.rollback()
        blocker.close()
    time.sleep(0.2)
    assert_recovered(database, spool_dir, clock, call)


@pytest.mark.postgres
def test_postgres_unreachable(database_url, twilio_api: FakeTwilioApi, clock, tmp_path):
    if postgres_url() is None:
        pytest.skip("needs PostgreSQL (VOICELINE_TEST_DATABASE_URL); .ci/run sets it")
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    spool_dir = tmp_path / "spool"
    app = create_app(
        app_config(
            proxied,
            twilio_api.base_url,
            VOICELINE_SPOOL_DIR=str(spool_dir),
            VOICELINE_ANSWER_DEADLINE_SECONDS=PRODUCT_ANSWER_DEADLINE,
        ),
        clock=clock,
    )
    load_example(extensions.database(app))
    extensions.database(app).dispose()
    proxy.black_hole()
    try:
        call = walk_a_call_through_an_outage(app, spool_dir)
    finally:
        proxy.restore()
    extensions.database(app).dispose()
    assert_recovered(Database(database_url), spool_dir, clock, call)
    proxy.close()
