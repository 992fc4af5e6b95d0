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


def test_both_databases_get_two_sync_workers() -> None:
    for url in ("sqlite:///instance/voiceline.db", "postgresql://voiceline@db/voiceline"):
        options = gunicorn_options(*web_settings(url))
        assert options[options.index("--worker-class") + 1] == "sync"
        assert options[options.index("--workers") + 1] == "2"
        assert "--threads" not in options


def test_threads_when_asked_for() -> None:
    options = gunicorn_options(2, 4)
    assert options[options.index("--worker-class") + 1] == "gthread"
    assert options[options.index("--threads") + 1] == "4"
