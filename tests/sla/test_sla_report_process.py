"""``voiceline report`` as a process: the command loads every area's tables before it asks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _voiceline(*args: str, database: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "made-up-secret-for-the-report-test",
    }
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "voiceline.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_report_command_runs_in_a_process_of_its_own(tmp_path: Path) -> None:
    database = tmp_path / "voiceline.db"
    assert _voiceline("db", "upgrade", database=database).returncode == 0
    report = _voiceline("report", "--month", "2026-10", database=database)
    assert report.returncode == 0, report.stderr
    assert "No customers." in report.stdout
