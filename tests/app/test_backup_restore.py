"""``voiceline backup`` and ``voiceline restore``, as the README's "Backup and restore" says.

SQLite: a backup taken while another connection holds a write open has every committed
row and not the open one; restored into a fresh path, with the spool beside it, the app
shows the same incidents. PostgreSQL: the same through pg_dump and pg_restore into a
database of the test's own. The commands run as an operator runs them (a subprocess
with the environment), not as functions.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Connection, Engine, create_engine, text

from simulator.rest import FakeTwilioApi
from tests.admin_helpers import log_in
from tests.app.night_db import fill_with_a_night, night_app, own_database, project, snapshot
from tests.conftest import TEST_SECRET_KEY, postgres_url
from voiceline import extensions
from voiceline.clock import ManualClock
from voiceline.db import Database
from voiceline.lease import hold_worker_lock
from voiceline.line.spool import Spool
from voiceline.migrate import upgrade

HELD = "held open during the backup"


def voiceline(*args: str, database_url: str, spool: Path) -> subprocess.CompletedProcess[str]:
    """Run the ``voiceline`` command the way an operator would."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "VOICELINE_SPOOL_DIR": str(spool),
        "SECRET_KEY": TEST_SECRET_KEY,
    }
    command = [sys.executable, "-m", "voiceline.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def _same(a: dict, b: dict) -> bool:
    """Return True when two snapshots hold the same tables, columns and rows."""
    return a.keys() == b.keys() and all(
        a[t]["columns"] == b[t]["columns"]
        and project(a[t], a[t]["columns"]) == project(b[t], b[t]["columns"])
        for t in a
    )


def _held_write(database_url: str) -> tuple[Engine, Connection]:
    """Open a write transaction on another connection and leave it open; return (engine, conn)."""
    engine = create_engine(database_url)
    conn = engine.connect()
    conn.begin()
    conn.execute(
        text(
            "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (:at, 'x', :a, 's', '{}')"
        ),
        {"at": datetime(2026, 11, 22, tzinfo=UTC), "a": HELD},
    )
    return engine, conn


def _night(url: str, tmp_path: Path, twilio_api: FakeTwilioApi, clock: ManualClock) -> Flask:
    """Return the app, still running, after a night on ``url``."""
    database = Database(url)
    upgrade(database.engine)
    database.dispose()
    spool = tmp_path / "spool"
    app = night_app(url, twilio_api.base_url, clock, spool)
    fill_with_a_night(app, clock)
    # a message taken while the database was away, not yet replayed: it belongs in a backup
    Spool(spool).write("message", form={"CallSid": "CA" + "b" * 32, "From": "+15035550111"})
    return app


def _restored_app_shows(url: str, spool: Path, twilio_api, clock, incidents: list[dict]) -> None:
    app = night_app(url, twilio_api.base_url, clock, spool)
    client = app.test_client()
    assert log_in(client).status_code == 302  # the admin came back too
    for incident in incidents:
        page = client.get(f"/admin/incidents/{incident['id']}")
        assert page.status_code == 200
        assert incident["summary"] in page.get_data(as_text=True)
    extensions.database(app).dispose()


def test_sqlite_backup_while_a_write_is_open_restores_the_same_incidents(
    tmp_path: Path, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    live = f"sqlite:///{tmp_path / 'live.db'}"
    app = _night(live, tmp_path, twilio_api, clock)  # running: its connections stay open
    spool = tmp_path / "spool"
    committed = snapshot(create_engine(live))
    # the night's last writes are still in the write-ahead log: a copy of the file alone
    # would lose them
    assert (tmp_path / "live.db-wal").stat().st_size > 0
    engine, held = _held_write(live)
    try:
        made = voiceline("backup", str(tmp_path / "backup"), database_url=live, spool=spool)
        assert made.returncode == 0, made.stderr
    finally:
        held.commit()
        held.close()
        engine.dispose()
        extensions.database(app).dispose()
    assert {p.name for p in (tmp_path / "backup").iterdir()} == {"voiceline.db", "spool"}

    fresh = tmp_path / "restored" / "voiceline.db"
    fresh_spool = tmp_path / "restored" / "spool"
    done = voiceline(
        "restore", str(tmp_path / "backup"), database_url=f"sqlite:///{fresh}", spool=fresh_spool
    )
    assert done.returncode == 0, done.stderr
    restored = snapshot(create_engine(f"sqlite:///{fresh}"))
    assert _same(restored, committed)  # every committed row, and not the one held open
    assert HELD in {r["action"] for r in snapshot(create_engine(live))["audit_log"]["rows"]}
    assert sorted(p.name for p in Spool(fresh_spool).pending_files()) == sorted(
        p.name for p in Spool(spool).pending_files()
    )
    _restored_app_shows(
        f"sqlite:///{fresh}", fresh_spool, twilio_api, clock, committed["incidents"]["rows"]
    )

    # a second restore onto the live file is refused unless asked for
    again = voiceline(
        "restore", str(tmp_path / "backup"), database_url=f"sqlite:///{fresh}", spool=fresh_spool
    )
    assert again.returncode != 0 and "--replace" in again.stderr


def test_postgresql_backup_and_restore_with_pg_dump(
    tmp_path: Path, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    if postgres_url() is None:
        pytest.skip("the PostgreSQL run tests this (VOICELINE_TEST_DATABASE_URL)")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        if os.environ.get("CI"):
            pytest.fail("pg_dump and pg_restore must be installed in CI")
        pytest.skip("pg_dump and pg_restore are not installed")
    with (
        own_database(tmp_path, "voiceline_live") as live,
        own_database(tmp_path, "voiceline_restored") as fresh,
    ):
        app = _night(live, tmp_path, twilio_api, clock)
        spool = tmp_path / "spool"
        committed = snapshot(create_engine(live))
        engine, held = _held_write(live)
        try:
            made = voiceline("backup", str(tmp_path / "backup"), database_url=live, spool=spool)
            assert made.returncode == 0, made.stderr
        finally:
            held.commit()
            held.close()
            engine.dispose()
            extensions.database(app).dispose()
        fresh_spool = tmp_path / "restored-spool"
        done = voiceline("restore", str(tmp_path / "backup"), database_url=fresh, spool=fresh_spool)
        assert done.returncode == 0, done.stderr
        assert _same(snapshot(create_engine(fresh)), committed)
        assert Spool(fresh_spool).pending_files()
        _restored_app_shows(fresh, fresh_spool, twilio_api, clock, committed["incidents"]["rows"])


def test_a_backup_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "voiceline.db").write_bytes(b"not a database" * 100)
    target = tmp_path / "target.db"
    done = voiceline(
        "restore",
        str(tmp_path / "backup"),
        database_url=f"sqlite:///{target}",
        spool=tmp_path / "s",
    )
    assert done.returncode != 0
    assert not target.exists()
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(tmp_path / "backup" / "voiceline.db").execute(
            "SELECT 1 FROM sqlite_master"
        ).fetchall()


def test_restore_is_refused_while_a_worker_holds_the_database(tmp_path: Path) -> None:
    target = tmp_path / "live.db"
    url = f"sqlite:///{target}"
    upgrade(Database(url).engine)
    made = voiceline("backup", str(tmp_path / "backup"), database_url=url, spool=tmp_path / "s")
    assert made.returncode == 0, made.stderr
    before = target.read_bytes()
    lock = hold_worker_lock(url, "a worker")  # what a running worker holds
    try:
        done = voiceline(
            "restore", str(tmp_path / "backup"), "--replace", database_url=url, spool=tmp_path / "s"
        )
    finally:
        assert lock is not None
        lock.release()
    assert done.returncode != 0 and "worker" in done.stderr
    assert target.read_bytes() == before
