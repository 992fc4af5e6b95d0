"""The end-to-end bench: the real app under gunicorn and the real worker, as processes,
talking over loopback HTTP to a simulator that runs in the test process.

Import ``e2e_fixture`` and ``e2e_directory_fixture`` (fixtures ``e2e`` and
``e2e_directory``) into a test module that loads ``pytest_plugins = ["simulator.testing"]``.
The ``e2e``
fixture loads ``tests/e2e_directory.yaml`` into the test database (SQLite, or PostgreSQL
when ``VOICELINE_TEST_DATABASE_URL`` is set), starts a simulator whose line routes to the
app, then starts ``gunicorn voiceline.wsgi:app`` and ``voiceline worker`` with the same
commands the demo uses, pointed at that simulator. Real processes keep real time: the
test directory's plans keep no office hours and cover every hour, so what a caller hears
does not depend on when the suite runs.

At teardown the processes are stopped first; the simulator then fails the test if a
phone received a text or call the test did not look at. Each process's log is kept in
the test's temporary directory and its tail printed, so a failure shows what the app
and the worker said.

``demo_fixture`` (fixture ``demo``, with ``demo_ports_fixture``) runs ``voiceline demo`` itself, what ``make run``
starts, on the test database with ``examples/demo.yaml``, and reads the addresses and the
admin password it prints; ``DemoRun`` drives its handset page over HTTP.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from simulator.engine import Simulator
from simulator.webhooks import HttpTransport
from voiceline.db import Database
from voiceline.demo import Stack, web_command, worker_command
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory
from voiceline.incidents.models import Incident

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[1]
E2E_DIRECTORY = REPO / "tests" / "e2e_directory.yaml"
DEMO_DIRECTORY = REPO / "examples" / "demo.yaml"
ACCOUNT_SID = "AC" + "e2e0" * 8
AUTH_TOKEN = "made-up-auth-token-for-end-to-end-tests"
SECRET_KEY = "made-up-secret-key-for-end-to-end-tests"
LINE = "+15035550100"
PAT = "+15035550111"  # Acme Dental: Diamond, covered every hour
CHRIS = "+14155550144"  # Bayside Cafe: ad hoc, billable emergencies
STRANGER = "+15035559999"
ALEX = "+15035550201"  # Tier 1
JORDAN = "+15035550203"  # Tier 2
MORGAN = "+15035550205"  # management
PAGE_SECONDS = 10.0  # how long a test waits for a page made by another process
STARTUP_SECONDS = 60.0


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class EndToEnd:
    """A running app, worker and simulator, and ways to look at what they did."""

    sim: Simulator
    database: Database
    app_url: str
    stack: Stack
    logs: dict[str, Path] = field(default_factory=dict)
    startup_seconds: float = 0.0

    def session(self) -> AbstractContextManager[Session]:
        """Return a session on the test database (a context manager that commits)."""
        return self.database.session()

    def incidents(self) -> list[Incident]:
        """Return every incident, oldest first, detached from the session."""
        with self.database.session() as session:
            found = list(session.scalars(select(Incident).order_by(Incident.id)))
            session.expunge_all()
            return found

    def wait_until(
        self, find: Callable[[Session], T | None], timeout: float = PAGE_SECONDS, what: str = ""
    ) -> T:
        """Poll the database until ``find(session)`` returns something, or fail.

        The simulator keeps delivering while it waits, as Twilio would: a hang-up's status
        callback, for one, is only posted when the simulator pumps.
        """
        deadline = time.monotonic() + timeout
        while True:
            self.sim.pump()
            with self.database.session() as session:
                found = find(session)
                if found is not None:
                    session.expunge_all()
                    return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"waited {timeout:.0f}s for {what or 'the database'}\n{self.log_tails()}"
                )
            time.sleep(0.1)

    def log_tails(self, lines: int = 40) -> str:
        """Return the last lines each process wrote."""
        parts = []
        for name, path in self.logs.items():
            text = path.read_text(encoding="utf-8", errors="replace").splitlines()
            parts.append(f"--- {name} ({path}) ---\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)


def process_environment(
    database_url: str, sim: Simulator, app_url: str, tmp: Path
) -> dict[str, str]:
    """Return the environment of the app and worker processes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "VOICELINE_"))}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        TWILIO_ACCOUNT_SID=sim.account_sid,
        TWILIO_AUTH_TOKEN=sim.auth_token,
        TWILIO_API_BASE_URL=sim.base_url,
        TWILIO_FROM_NUMBER=LINE,
        VOICELINE_PUBLIC_URL=app_url,
        VOICELINE_SPOOL_DIR=str(tmp / "spool"),
        PYTHONUNBUFFERED="1",
    )
    return env


def wait_for_log(stack: Stack, path: Path, text: str, timeout: float) -> None:
    """Wait until a process's log contains ``text``."""
    deadline = time.monotonic() + timeout
    while text not in path.read_text(encoding="utf-8", errors="replace"):
        ended = stack.exited()
        if ended is not None or time.monotonic() > deadline:
            raise AssertionError(f"{path.name} never said {text!r}:\n{path.read_text()[-3000:]}")
        time.sleep(0.05)


@pytest.fixture(name="e2e_directory")
def e2e_directory_fixture() -> Path:
    """Return the directory file the end-to-end processes start with."""
    return E2E_DIRECTORY


@pytest.fixture(name="e2e")
def e2e_fixture(
    database_url: str,
    make_sim: Callable[..., Simulator],
    e2e_directory: Path,
    tmp_path: Path,
) -> Iterator[EndToEnd]:
    """Run the app and the worker as processes against an in-test simulator."""
    database = Database(database_url)
    with database.session() as session:
        load_directory(session, read_directory_file(e2e_directory), actor="e2e")
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    sim = make_sim(
        transport=HttpTransport(),
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        wait_timeout=PAGE_SECONDS,
    )
    sim.add_line(LINE, app_url, call_status=True)
    env = process_environment(database_url, sim, app_url, tmp_path)
    stack = Stack()
    logs = {name: tmp_path / f"{name}.log" for name in ("web", "worker")}
    started = time.monotonic()
    try:
        with logs["web"].open("wb") as web_log, logs["worker"].open("wb") as worker_log:
            stack.start("web", web_command(port, workers=2), env, output=web_log)
            stack.start("worker", worker_command(), env, output=worker_log)
        stack.wait_until_serving(f"{app_url}/healthz", timeout=STARTUP_SECONDS)
        wait_for_log(stack, logs["worker"], "started with", STARTUP_SECONDS)
        bench = EndToEnd(sim, database, app_url, stack, logs, time.monotonic() - started)
        yield bench
    finally:
        stack.stop()
        print(EndToEnd(sim, database, app_url, stack, logs).log_tails())
        database.dispose()


@dataclass
class DemoRun:
    """``voiceline demo`` running: where its pages are, and its handset page's controls."""

    process: subprocess.Popen[bytes]
    output: Path
    handsets_url: str
    app_url: str
    admin_password: str
    database: Database

    def state(self) -> dict[str, Any]:
        """Return what every phone on the handset page shows."""
        answer = requests.get(f"{self.handsets_url}/state.json", timeout=10)
        answer.raise_for_status()
        state: dict[str, Any] = answer.json()
        return state

    def act(self, number: str, action: str, **payload: str) -> dict[str, Any]:
        """Do what a person does on a phone of the handset page; fail on its error."""
        answer = requests.post(
            f"{self.handsets_url}/phones/{number}/{action}", json=payload, timeout=30
        )
        body: dict[str, Any] = answer.json()
        assert answer.status_code == 200, f"{action} on {number}: {body.get('error')}"
        return body

    def phone(self, number: str) -> dict[str, Any]:
        """Return one phone's screen."""
        return next(p for p in self.state()["phones"] if p["number"] == number)

    def wait_for_phone(
        self, number: str, check: Callable[[dict[str, Any]], bool], what: str
    ) -> dict[str, Any]:
        """Poll the handset page until the phone's screen passes ``check``."""
        deadline = time.monotonic() + PAGE_SECONDS
        while True:
            screen = self.phone(number)
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{number} never showed {what}: {screen}\n{self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        """Return what the demo printed so far."""
        return self.output.read_text(encoding="utf-8", errors="replace")

    def interrupt(self, timeout: float = 30.0) -> int:
        """Press Ctrl-C on the demo and return its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)


@pytest.fixture(name="demo_ports")
def demo_ports_fixture() -> tuple[int, int]:
    """Return the ports of the demo's app and simulator (override to choose them)."""
    return free_port(), free_port()


@pytest.fixture(name="demo")
def demo_fixture(
    database_url: str, tmp_path: Path, demo_ports: tuple[int, int]
) -> Iterator[DemoRun]:
    """Run ``voiceline demo`` on the test database until the test ends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "VOICELINE_"))}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        PYTHONPATH=str(REPO),  # run from a scratch directory, so instance/ lands there
        PYTHONUNBUFFERED="1",
    )
    app_port, sim_port = demo_ports
    command = [sys.executable, "-m", "voiceline.cli", "demo", "--directory", str(DEMO_DIRECTORY)]
    command += ["--port", str(app_port), "--simulator-port", str(sim_port)]
    output = tmp_path / "demo.log"
    with output.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    database = Database(database_url)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while "Press Ctrl-C to stop." not in output.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the demo did not start:\n{output.read_text()}")
            time.sleep(0.1)
        printed = output.read_text(errors="replace")
        handsets = re.search(r"on the simulator: open (http://\S+?)/?\n", printed)
        login = re.search(r"The app: (http://\S+)/admin +\(login demo / (\S+)\)", printed)
        assert handsets and login, printed
        yield DemoRun(process, output, handsets.group(1), login.group(1), login.group(2), database)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        print(output.read_text(errors="replace")[-6000:])
        database.dispose()
