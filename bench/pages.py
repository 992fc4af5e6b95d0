"""The admin pages and the report command, timed as an operator meets them.

Admin pages are fetched over HTTP by a logged-in session (the real login form and CSRF
token); the time to first byte is ``requests``' ``elapsed``: from sending the request
to parsing the response's headers. ``voiceline report`` runs as its own process.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from voiceline.admin.accounts import set_admin_password
from voiceline.db import Database

ADMIN = "bench"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def create_admin(database: Database) -> str:
    """Create the bench's admin login; return its random password."""
    password = secrets.token_urlsafe(12)
    with database.session() as session:
        set_admin_password(session, ADMIN, password)
    return password


def log_in(app_url: str, password: str) -> requests.Session:
    """Return an HTTP session logged in to /admin through the login form."""
    browser = requests.Session()
    page = browser.get(f"{app_url}/admin/login", timeout=30)
    token = _CSRF.search(page.text)
    if token is None:
        raise RuntimeError(f"no CSRF token on the login page (HTTP {page.status_code})")
    form = {"username": ADMIN, "password": password, "csrf_token": token.group(1)}
    answer = browser.post(f"{app_url}/admin/login", data=form, timeout=30, allow_redirects=False)
    if answer.status_code != 302:
        raise RuntimeError(f"login refused: HTTP {answer.status_code}")
    return browser


def first_byte_ms(browser: requests.Session, url: str, must_contain: str) -> float:
    """GET ``url``; return the time to the response's headers in ms; fail on a wrong page."""
    return page_times_ms(browser, url, must_contain)[0]


def page_times_ms(browser: requests.Session, url: str, must_contain: str) -> tuple[float, float]:
    """GET ``url``; return (first byte, whole page) in ms; fail on a wrong page.

    A page that streams sends its first byte before its slow part: the whole page is the
    wait for everything on it.
    """
    started = time.perf_counter()
    answer = browser.get(url, timeout=120, allow_redirects=False)
    whole = (time.perf_counter() - started) * 1000
    if answer.status_code != 200 or must_contain not in answer.text:
        raise RuntimeError(f"{url} answered HTTP {answer.status_code} after {whole / 1000:.1f} s")
    return answer.elapsed.total_seconds() * 1000, whole


@dataclass(frozen=True)
class ReportRun:
    """One ``voiceline report`` process."""

    seconds: float
    incidents: int


def run_report(env: dict[str, str], month: str, workdir: Path, fmt: str = "text") -> ReportRun:
    """Run ``voiceline report --month MONTH`` and time the whole process.

    The text format is what an operator reads; with ``fmt="json"`` the run also counts
    the incidents the report covered.
    """
    output = workdir / f"report-{month}.{fmt}"
    command = [sys.executable, "-m", "voiceline.cli", "report", "--month", month,
               "--format", fmt, "-o", str(output)]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"voiceline report failed ({done.returncode}): {done.stderr[-2000:]}")
    counted = _incidents_in(json.loads(output.read_text())) if fmt == "json" else -1
    return ReportRun(seconds, counted)


def _incidents_in(report: object) -> int:
    """Return how many incidents the JSON report counted, over every customer."""
    if not isinstance(report, dict):
        return 0
    return sum(int(c.get("incidents", 0)) for c in report.get("customers", []))


def report_environment(database_url: str) -> dict[str, str]:
    """Return the environment ``voiceline report`` needs: the database and a secret."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "VOICELINE_"))}
    env.update(DATABASE_URL=database_url, SECRET_KEY=secrets.token_urlsafe(32))
    return env
