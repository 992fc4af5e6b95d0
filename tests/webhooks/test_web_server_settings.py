"""The Procfile and ``voiceline serve`` run the web app with the same, measured settings."""

from __future__ import annotations

import shlex
from pathlib import Path

from voiceline.cli import ACCESS_LOG_FORMAT, WEB_THREADS, WEB_WORKERS, gunicorn_options

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"


def _procfile_web() -> list[str]:
    [line] = [x for x in PROCFILE.read_text().splitlines() if x.startswith("web:")]
    return shlex.split(line.removeprefix("web:"))


def test_the_procfile_serves_as_voiceline_serve_does() -> None:
    web = _procfile_web()
    defaults = {
        f"${{WEB_CONCURRENCY:-{WEB_WORKERS}}}": str(WEB_WORKERS),
        f"${{WEB_THREADS:-{WEB_THREADS}}}": str(WEB_THREADS),
    }
    options = [defaults.get(word, word) for word in web[web.index("voiceline.wsgi:app") + 3 :]]
    assert options == gunicorn_options(WEB_WORKERS, WEB_THREADS)
    assert web[web.index("--access-logformat") + 1] == ACCESS_LOG_FORMAT
