"""The worker process: one per SQLite database, a clear refusal for a second one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET_KEY


def worker_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": database_url,
        "VOICELINE_SPOOL_DIR": str(tmp_path / "spool"),
    }


def start_worker(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    # Output goes to a file, not a pipe: a pipe nobody drains can fill and block the
    # worker's logging, and then its shutdown.
    log_file = open(cwd / f"worker-{time.monotonic_ns()}.log", "w+")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "voiceline.cli", "worker"],
        env=env,
        cwd=cwd,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        text=True,
    )
    proc.log_path = Path(log_file.name)  # type: ignore[attr-defined]
    return proc


def wait_for_line(proc: subprocess.Popen[str], needle: str, seconds: float = 20) -> str:
    deadline = time.monotonic() + seconds
    path: Path = proc.log_path  # type: ignore[attr-defined]
    while time.monotonic() < deadline:
        text = path.read_text()
        for line in text.splitlines():
            if needle in line:
                return line
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} not seen; output was:\n{path.read_text()}")


def test_a_second_worker_on_sqlite_refuses_to_start(database_url, tmp_path) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the single-worker rule is SQLite's; PostgreSQL runs several")
    env = worker_env(database_url, tmp_path)
    first = start_worker(env, tmp_path)
    try:
        wait_for_line(first, "started")
        second = subprocess.run(
            [sys.executable, "-m", "voiceline.cli", "worker"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert second.returncode == 3
        assert "SQLite supports one worker" in second.stderr + second.stdout
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=40)
    assert first.returncode == 0
    # after a clean stop the lease is released and a new worker may start
    third = start_worker(env, tmp_path)
    try:
        wait_for_line(third, "started")
    finally:
        third.send_signal(signal.SIGTERM)
        third.wait(timeout=40)
