"""A misconfiguration that makes paging impossible stops the processes at start, in one line.

Real Twilio credentials with no caller ID anywhere (no TWILIO_FROM_NUMBER, and a loaded
directory without ``service.emergency_number``) is refused by ``voiceline worker``,
``voiceline serve`` and the WSGI app, each run here as its own process with only the
README's variables. Before any directory is loaded the processes start (there is nobody
to page yet) and /healthz says why paging is degraded.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.alarms.alarm_helpers import free_port, readme_env
from tests.escalation_helpers import desk
from voiceline.db import Database
from voiceline.directory.checker import read_directory_text
from voiceline.directory.loader import load_directory

REFUSAL = (
    "voiceline: configuration error: pages have no caller ID: TWILIO_FROM_NUMBER is unset "
    "and the directory has no service.emergency_number; set one of them"
)
NO_NUMBER = desk().replace('  emergency_number: "+15035550100"\n', "")


def load(database_url: str, text: str) -> None:
    database = Database(database_url)
    with database.session() as session:
        load_directory(session, read_directory_text(text))
    database.dispose()


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command of the product with exactly ``env`` (plus PATH and HOME)."""
    full = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), **env}
    return subprocess.run(
        [sys.executable, *args], env=full, cwd=cwd, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """The README's variables, Twilio credentials and no TWILIO_FROM_NUMBER."""
    return readme_env(database_url, f"http://127.0.0.1:{free_port()}", tmp_path)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["-m", "voiceline.cli", "worker"], id="voiceline worker"),
        pytest.param(["-m", "voiceline.cli", "serve", "--bind", "127.0.0.1:1"], id="serve"),
        pytest.param(["-c", "import voiceline.wsgi"], id="wsgi app"),
    ],
)
def test_no_caller_id_with_a_directory_is_refused_in_one_line(
    args: list[str], env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    load(database_url, NO_NUMBER)
    result = run(args, env, tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [REFUSAL]
    assert result.stdout == ""


def test_the_web_app_starts_before_any_directory_is_loaded(
    env: dict[str, str], tmp_path: Path
) -> None:
    check = (
        "import json, voiceline.wsgi as w; r = w.app.test_client().get('/healthz'); "
        "print(r.status_code, json.dumps(r.json))"
    )
    result = run(["-c", check], env, tmp_path)
    assert result.returncode == 0, result.stderr
    status, _, body = result.stdout.strip().partition(" ")
    assert status == "200"
    assert '"status": "degraded"' in body and "no directory is loaded yet" in body
    assert "pages have no caller ID" in result.stderr  # said once at start, in the log


def test_the_directory_number_is_enough_to_start(
    env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    load(database_url, desk())
    result = run(["-c", "import voiceline.wsgi"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "configuration error" not in result.stderr


def test_twilio_from_number_is_enough_to_start(
    env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    load(database_url, NO_NUMBER)
    env = {**env, "TWILIO_FROM_NUMBER": "+15035550100"}
    result = run(["-c", "import voiceline.wsgi"], env, tmp_path)
    assert result.returncode == 0, result.stderr


def test_gunicorn_as_the_procfile_runs_it_stops_instead_of_respawning(
    env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    load(database_url, NO_NUMBER)
    bind = f"127.0.0.1:{free_port()}"
    result = run(["-m", "gunicorn", "voiceline.wsgi:app", "--bind", bind], env, tmp_path)
    assert result.returncode == 4, result.stderr  # gunicorn's "App failed to load"
    assert REFUSAL in result.stderr.splitlines()
    assert result.stderr.count("Booting worker") == 1  # not respawned
