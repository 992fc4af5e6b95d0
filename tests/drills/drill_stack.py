"""The real processes of a drill: a migrated database, gunicorn and one or more workers.

The web and worker commands are the demo's (``voiceline.demo``) and the environment is
the end-to-end bench's (``tests.e2e_stack``), pointed at whatever fake Twilio the drill
runs. What this adds is what a night does to processes: SIGKILL of a gunicorn worker or
of a worker process, a supervisor that restarts it, several workers on one database, a
database of its own on PostgreSQL, and a desk generated to the drill's size.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.e2e_stack import LINE, STARTUP_SECONDS, free_port
from voiceline.db import Database
from voiceline.demo import Stack, web_command, worker_command
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory
from voiceline.migrate import upgrade

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def drill_size() -> int:
    """Return the size multiplier from ``DRILL_SIZE`` (1, the default, is CI's size)."""
    value = os.environ.get("DRILL_SIZE", "1").strip() or "1"
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"DRILL_SIZE must be a whole number >= 1, got {value!r}")
    return int(value)


def scaled(base: int) -> int:
    """Return ``base`` times the drill size."""
    return base * drill_size()


# --- databases --------------------------------------------------------------------------


def sqlite_database(tmp: Path) -> str:
    """Return the URL of a migrated SQLite file of this drill's own."""
    url = f"sqlite:///{tmp / 'drill.db'}"
    database = Database(url)
    upgrade(database.engine)
    database.dispose()
    return url


def postgres_admin_url() -> str:
    """Return the PostgreSQL server the drills create their databases on."""
    return (
        os.environ.get("DRILL_POSTGRES_URL")
        or os.environ.get("VOICELINE_TEST_DATABASE_URL")
        or DEFAULT_POSTGRES
    )


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create, migrate and finally drop a PostgreSQL database for one drill."""
    base = make_url(postgres_admin_url().replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            name = f"voiceline_drill_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001  (any failure means: no server to drill on)
        admin.dispose()
        message = f"no PostgreSQL server at {base.host}:{base.port} for this drill: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)  # in CI the server is part of the machine: a failure
        pytest.skip(message)
    url = base.set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    upgrade(database.engine)
    database.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- the desk ---------------------------------------------------------------------------


def caller_number(index: int) -> str:
    """Return the phone of customer ``index``'s contact."""
    return f"+1503555{1000 + index:04d}"


def analyst_code(step: int, index: int) -> str:
    """Return the code of the analyst step ``step`` of customer ``index`` pages."""
    return f"s{step}c{index}"


def analyst_number(step: int, index: int) -> str:
    """Return that analyst's phone (SMS and voice)."""
    return f"+1206555{1000 + 1000 * step + index:04d}"


@dataclass(frozen=True)
class Step:
    """One escalation step of every customer's policy."""

    channels: tuple[str, ...] = ("sms", "voice")
    delay: str = "10m"


def write_desk(path: Path, customers: int, steps: list[Step], *, nobody: int = 0) -> Path:
    """Write a directory: ``customers`` covered customers, each with its own analysts.

    Customer ``i``'s policy pages ``analyst_code(j, i)`` at step ``j``, so every page
    names the incident and analyst it is for and no throttle couples two incidents.
    ``nobody`` more customers have a policy whose only target is a rotation with no
    members: nobody can be paged for them.
    """
    analysts: list[dict[str, Any]] = []
    policies: list[dict[str, Any]] = []
    listed: list[dict[str, Any]] = []
    for index in range(customers + nobody):
        pageable = index < customers
        steps_of = steps if pageable else [Step()]
        policy_steps = []
        for number, step in enumerate(steps_of):
            target = {"analyst": analyst_code(number, index)} if pageable else {"on_call": "empty"}
            policy_steps.append(
                {"targets": [target], "channels": list(step.channels), "delay": step.delay}
            )
            if pageable:
                analysts.append(
                    {
                        "code": analyst_code(number, index),
                        "name": f"Analyst {number}-{index}",
                        "phone": analyst_number(number, index),
                    }
                )
        policies.append({"code": f"p{index}", "name": f"Policy {index}", "steps": policy_steps})
        listed.append(
            {
                "code": f"c{index}",
                "name": f"Customer {index}",
                "time_zone": "America/Los_Angeles",
                "plan": "diamond",
                "escalation_policy": f"p{index}",
                "contacts": [{"name": f"Caller {index}", "phone": caller_number(index)}],
            }
        )
    desk = {
        "service": {
            "name": "Cascade IT Support",
            "emergency_number": LINE,
            "default_region": "US",
        },
        "plans": [
            {
                "code": "diamond",
                "name": "Diamond (24x7 emergency cover)",
                "business_hours": "none",
                "after_hours_cover": True,
                "cover_hours": "24x7",
                "callback_target": "30m",
                "targets": [
                    {
                        "metric": "callback",
                        "priority": "emergency",
                        "within": "30m",
                        "clock": "wall",
                    }
                ],
            }
        ],
        "analysts": analysts or [{"code": "spare", "name": "Spare", "phone": "+12065559000"}],
        "rotations": [
            {
                "code": "empty",
                "name": "Nobody yet",
                "time_zone": "America/Los_Angeles",
                "shift": "1w",
                "handoff": "2026-01-05T08:00",
                "members": [],
            }
        ],
        "policies": policies,
        "customers": listed,
    }
    path.write_text(yaml.safe_dump(desk, sort_keys=False), encoding="utf-8")
    return path


def load_desk(database_url: str, path: Path) -> None:
    """Load a directory file into the drill's database."""
    database = Database(database_url)
    try:
        with database.session() as session:
            load_directory(session, read_directory_file(path), actor="drill")
    finally:
        database.dispose()


# --- processes --------------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    """Return the processes whose parent is ``pid`` (gunicorn's workers, for its master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended while we looked
        # The command name may hold spaces and parentheses; the fields follow the last ')'.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid:
            found.append(int(entry.name))
    return found


@dataclass
class Processes:
    """The app and the workers of one drill, started with one environment."""

    env: dict[str, str]
    tmp: Path
    port: int = field(default_factory=free_port)
    stack: Stack = field(default_factory=Stack)
    logs: list[Path] = field(default_factory=list)
    starts: int = 0

    @property
    def app_url(self) -> str:
        """Return the app's loopback URL."""
        return f"http://127.0.0.1:{self.port}"

    def _log(self, name: str) -> Path:
        self.starts += 1
        path = self.tmp / f"{self.starts:02d}-{name}.log"
        self.logs.append(path)
        return path

    def start_web(self, workers: int = 2, *, wait: bool = True) -> None:
        """Start gunicorn; with ``wait``, wait until ``/healthz`` answers."""
        with self._log("web").open("wb") as out:
            self.stack.start("web", web_command(self.port, workers=workers), self.env, out)
        if wait:
            self.wait_for_web()

    def wait_for_web(self) -> None:
        """Wait until gunicorn answers ``/healthz``."""
        self.stack.wait_until_serving(f"{self.app_url}/healthz", timeout=STARTUP_SECONDS)

    def start_worker(self, name: str = "worker", timeout: float = STARTUP_SECONDS) -> int | None:
        """Start a worker; return None once it runs, or its exit status if it refused."""
        path = self._log(name)
        with path.open("wb") as out:
            process = self.stack.start(name, worker_command(), self.env, out)
        deadline = time.monotonic() + timeout
        while "started with" not in path.read_text(errors="replace"):
            status = process.poll()
            if status is not None:
                del self.stack.processes[name]
                return status
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} did not start:\n{path.read_text()[-3000:]}")
            time.sleep(0.05)
        return None

    def supervise(self, name: str, within: float) -> tuple[float, int]:
        """Restart a worker the way a supervisor does (every second) until it runs.

        Return the seconds until it ran (``within`` if it never did) and the refusals.
        """
        started, refusals = time.monotonic(), 0
        while time.monotonic() - started < within:
            if self.start_worker(name) is None:
                return time.monotonic() - started, refusals
            refusals += 1
            time.sleep(1.0)
        return within, refusals

    def kill(self, name: str) -> int:
        """SIGKILL a process of the stack; return its pid."""
        process = self.stack.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        return process.pid

    def kill_web_worker(self) -> int | None:
        """SIGKILL one of gunicorn's workers (the master starts another); return its pid."""
        workers = children_of(self.stack.processes["web"].pid)
        if not workers:
            return None
        os.kill(workers[0], signal.SIGKILL)
        return workers[0]

    def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL)."""
        self.stack.stop()

    def tails(self, lines: int = 30) -> str:
        """Return the last lines of every process log."""
        parts = []
        for path in self.logs:
            text = path.read_text(encoding="utf-8", errors="replace").splitlines()
            parts.append(f"--- {path.name} ---\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)


def environment(
    base: Mapping[str, str], database_url: str, api_url: str, **changes: str | None
) -> dict[str, str]:
    """Return a process environment with the drill's database, Twilio API and changes."""
    env = dict(base)
    env.update(DATABASE_URL=database_url, TWILIO_API_BASE_URL=api_url)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env
