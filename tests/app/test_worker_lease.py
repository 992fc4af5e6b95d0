"""The worker process: one per SQLite database, a clear refusal for a second live one,
and a restart at once after a crash (the lock dies with its process)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.worker_helpers import ROOT, WorkerProcess, worker_env
from voiceline.db import Database
from voiceline.lease import WorkerLease, WorkerRefused, hold_worker_lock, worker_lock_path


def sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the single-worker rule is SQLite's; PostgreSQL runs several")


def run_second_worker(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voiceline.cli", "worker"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_a_second_live_worker_is_refused_with_one_clear_line(database_url, tmp_path) -> None:
    sqlite_only(database_url)
    env = worker_env(database_url, tmp_path)
    first = WorkerProcess(env, tmp_path / "first.log")
    try:
        first.wait_started()
        second = run_second_worker(env)
        assert second.returncode == 3
        lines = [line for line in (second.stdout + second.stderr).splitlines() if line.strip()]
        assert len(lines) == 1, lines
        assert "SQLite supports one worker" in lines[0]
        assert f":{first.process.pid})" in lines[0]  # names the worker that holds it
        assert f"{make_url(database_url).database}.worker.lock" in lines[0]
    finally:
        assert first.stop() == 0
    # after a clean stop the lock is free and a new worker starts
    third = WorkerProcess(env, tmp_path / "third.log")
    try:
        third.wait_started()
    finally:
        assert third.stop() == 0


def test_a_killed_worker_is_restarted_at_once(database_url, tmp_path) -> None:
    sqlite_only(database_url)
    env = worker_env(database_url, tmp_path)
    first = WorkerProcess(env, tmp_path / "first.log")
    cold_start = first.wait_started()
    time.sleep(0.5)  # let it beat its heartbeat: the row says it is alive for 30 s more
    first.kill()
    restarted = WorkerProcess(env, tmp_path / "restarted.log")
    try:
        seconds = restarted.wait_started()
        print(f"cold start {cold_start:.2f}s; restart after SIGKILL {seconds:.2f}s")
        # no lease to wait out (it took 30 s to expire): about as fast as any start
        assert seconds < cold_start + 5.0
        assert restarted.process.poll() is None
    finally:
        assert restarted.stop() == 0


def test_the_lock_is_refused_while_held_and_free_once_released(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'voiceline.db'}"
    held = hold_worker_lock(url, "host:1")
    assert held is not None and held.path == tmp_path / "voiceline.db.worker.lock"
    with pytest.raises(WorkerRefused, match=r"another worker \(host:1\)"):
        hold_worker_lock(url, "host:2")  # a second open of the file conflicts, even here
    held.release()
    again = hold_worker_lock(url, "host:3")
    assert again is not None
    again.release()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:shared?mode=memory&uri=true",
        "postgresql://voiceline@127.0.0.1/voiceline",
    ],
)
def test_no_lock_where_no_file_is_shared(url: str) -> None:
    assert worker_lock_path(url) is None
    assert hold_worker_lock(url, "host:1") is None


def test_the_heartbeat_says_who_runs_and_goes_on_a_clean_stop(database_url, tmp_path) -> None:
    sqlite_only(database_url)  # several workers on PostgreSQL share the row
    env = worker_env(database_url, tmp_path)
    worker = WorkerProcess(env, tmp_path / "worker.log")
    database = Database(database_url)
    try:
        worker.wait_started()
        deadline = time.monotonic() + 10
        beat = None
        while beat is None and time.monotonic() < deadline:
            with database.session() as session:
                beat = session.get(WorkerLease, "worker")
            time.sleep(0.05)
        assert beat is not None and beat.holder.endswith(f":{worker.process.pid}")
    finally:
        assert worker.stop() == 0
    with database.session() as session:
        assert session.get(WorkerLease, "worker") is None
    database.dispose()
