"""The Procfile serves the web app through ``voiceline serve``, with the measured settings."""

from __future__ import annotations

import shlex
from pathlib import Path

from voiceline.cli import gunicorn_options, web_settings

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"


def test_the_procfile_serves_through_voiceline_serve() -> None:
    [line] = [x for x in PROCFILE.read_text().splitlines() if x.startswith("web:")]
    # gunicorn's options live in one place (voiceline.cli), chosen for the database.
    assert shlex.split(line.removeprefix("web:"))[:2] == ["voiceline", "serve"]


def test_sqlite_keeps_sync_workers_and_postgresql_gets_threads() -> None:
    sqlite = gunicorn_options(*web_settings("sqlite:///instance/voiceline.db"))
    postgres = gunicorn_options(*web_settings("postgresql://voiceline@db/voiceline"))
    assert sqlite[sqlite.index("--worker-class") + 1] == "sync"
    assert "--threads" not in sqlite
    assert postgres[postgres.index("--worker-class") + 1] == "gthread"
    assert int(postgres[postgres.index("--threads") + 1]) > 1
