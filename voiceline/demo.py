"""``voiceline demo`` (what ``make run`` starts): the app, the worker and the Twilio
simulator on loopback, with the demo directory, so the product can be tried without a
Twilio account.

The three processes agree on one account SID and auth token (the app signs nothing, the
simulator signs every webhook with the token and checks it on every REST call), on the
ports, and on the line: the directory's ``service.emergency_number`` is both the number
the simulator routes to the app and the caller ID the app pages from.

``Stack`` supervises a set of named processes; the end-to-end tests use it to run the
same web and worker commands as the demo.
"""

from __future__ import annotations

import importlib.metadata
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import click
import requests
from sqlalchemy import func, select

from voiceline.admin.accounts import set_admin_password
from voiceline.config import ConfigError, load_settings, normalise_database_url
from voiceline.customers.models import Customer
from voiceline.db import Database
from voiceline.directory.checker import DirectoryError, Node, read_directory_file
from voiceline.directory.loader import load_directory
from voiceline.errors import VoicelineError
from voiceline.migrate import upgrade
from voiceline.phones import PhoneNumberError, to_e164

DEMO_ACCOUNT_SID = "AC" + "0" * 32
DEMO_AUTH_TOKEN = "simulator-demo-auth-token"  # only ever valid against the local simulator
DEMO_ADMIN = "demo"
READY_SECONDS = 60.0


class DemoError(VoicelineError):
    """The demo cannot start; the message says what to do."""


@dataclass
class Stack:
    """Named child processes started together and stopped together."""

    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        output: IO[bytes] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` as ``name``; its output goes to ``output`` (default: ours)."""
        process = subprocess.Popen(
            list(argv), env=dict(env), stdout=output, stderr=subprocess.STDOUT if output else None
        )
        self.processes[name] = process
        return process

    def exited(self) -> tuple[str, int] | None:
        """Return the name and status of a process that has ended, if any."""
        for name, process in self.processes.items():
            status = process.poll()
            if status is not None:
                return name, status
        return None

    def wait_until_serving(self, url: str, timeout: float = READY_SECONDS) -> float:
        """Wait until ``url`` answers 200; return the seconds it took."""
        started = time.monotonic()
        while True:
            ended = self.exited()
            if ended is not None:
                raise DemoError(f"{ended[0]} exited with status {ended[1]} while starting")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return time.monotonic() - started
            except requests.RequestException:
                pass  # not listening yet
            if time.monotonic() - started > timeout:
                raise DemoError(f"{url} did not answer within {timeout:.0f}s")
            time.sleep(0.1)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask every process to end (SIGTERM), then kill the ones that do not."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def read_demo_directory(directory: Path) -> tuple[Node, str]:
    """Read and check the directory file; return it and its emergency number in E.164."""
    try:
        data = read_directory_file(directory)
    except DirectoryError as exc:
        raise DemoError(f"{directory} cannot be loaded:\n" + "\n".join(exc.errors)) from exc
    service = data.get("service") or {}
    raw = service.get("emergency_number")
    if not raw:
        raise DemoError(f"{directory} has no service.emergency_number for the simulator's line")
    try:
        return data, to_e164(str(raw), str(service.get("default_region", "US")))
    except PhoneNumberError as exc:
        raise DemoError(f"{directory}: service.emergency_number: {exc}") from exc


def has_secret_key(env: Mapping[str, str]) -> bool:
    """Tell whether ``env`` sets a SECRET_KEY of its own."""
    return bool(env.get("SECRET_KEY", "").strip())


def demo_environment(app_port: int, sim_port: int, line: str) -> dict[str, str]:
    """Return the environment that points the app and worker at the local simulator."""
    env = dict(os.environ)
    if not has_secret_key(env):
        # Someone trying the demo has set nothing yet. A key made up for this run signs
        # its logins and recording links, which end with it; the database keeps nothing
        # signed with it.
        env["SECRET_KEY"] = secrets.token_urlsafe(32)
    env.setdefault("DATABASE_URL", f"sqlite:///{Path('instance/voiceline.db').resolve()}")
    env.update(
        TWILIO_ACCOUNT_SID=DEMO_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=DEMO_AUTH_TOKEN,
        TWILIO_API_BASE_URL=f"http://127.0.0.1:{sim_port}",
        TWILIO_FROM_NUMBER=line,
        VOICELINE_PUBLIC_URL=f"http://127.0.0.1:{app_port}",
    )
    env.pop("TWILIO_SECONDARY_AUTH_TOKEN", None)
    return env


def has_control_socket() -> bool:
    """Tell whether this gunicorn opens a control socket (new in 25.1)."""
    major, minor = importlib.metadata.version("gunicorn").split(".")[:2]
    return (int(major), int(minor)) >= (25, 1)


def web_command(app_port: int, workers: int = 2) -> list[str]:
    """Return the command that serves the app with gunicorn on loopback."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "voiceline.wsgi:app",
        "--bind",
        f"127.0.0.1:{app_port}",
        "--workers",
        str(workers),
        "--timeout",
        "30",
    ]
    if has_control_socket():
        # Its one default path per user would be taken over by every other gunicorn on
        # the machine (a second demo, the end-to-end tests); nothing here uses it.
        command.append("--no-control-socket")
    return command


def worker_command() -> list[str]:
    """Return the command that runs the worker."""
    return [sys.executable, "-m", "voiceline.cli", "worker"]


def simulator_command(sim_port: int, app_url: str, line: str, directory: Path) -> list[str]:
    """Return the command that runs the simulator and its handset page."""
    return [
        sys.executable,
        "-m",
        "simulator",
        "--port",
        str(sim_port),
        "--app-url",
        app_url,
        "--line",
        line,
        "--directory",
        str(directory),
    ]


def check_port_free(port: int, what: str) -> None:
    """Refuse to start when another program already listens on ``port``."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise DemoError(
                f"port {port} ({what}) is in use; is a demo already running? Stop it, or "
                "choose other ports: voiceline demo --port 5001 --simulator-port 5051"
            ) from None


def prepare(data: Node, database_url: str) -> str:
    """Migrate, load the directory unless it has customers; return a fresh admin password."""
    url = normalise_database_url(database_url)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    database = Database(url)
    try:
        upgrade(database.engine)
        with database.session() as session:
            if not session.scalar(select(func.count(Customer.id))):
                click.echo(load_directory(session, data, actor="demo").summary())
            # A new random password each run: a fixed one would be a way in wherever the
            # demo's DATABASE_URL happens to point.
            password = secrets.token_urlsafe(9)
            set_admin_password(session, DEMO_ADMIN, password)
    finally:
        database.dispose()
    return password


def start_demo(directory: Path, app_port: int, sim_port: int) -> tuple[Stack, str]:
    """Check, prepare and start the simulator, the web app and the worker.

    Return the running processes and the demo admin's password.
    """
    check_port_free(app_port, "the app")
    check_port_free(sim_port, "the simulator")
    data, line = read_demo_directory(directory)
    env = demo_environment(app_port, sim_port, line)
    try:
        load_settings(env)  # what the web app and the worker will refuse, said once here
    except ConfigError as exc:
        raise DemoError(f"configuration error: {exc}") from exc
    password = prepare(data, env["DATABASE_URL"])
    app_url = env["VOICELINE_PUBLIC_URL"]
    stack = Stack()
    try:
        stack.start("simulator", simulator_command(sim_port, app_url, line, directory), env)
        stack.start("web", web_command(app_port), env)
        stack.start("worker", worker_command(), env)
        stack.wait_until_serving(f"{app_url}/healthz")
        stack.wait_until_serving(f"http://127.0.0.1:{sim_port}/state.json")
    except BaseException:
        stack.stop()
        raise
    return stack, password


def run_demo(directory: Path, app_port: int, sim_port: int) -> int:
    """Start everything, print where to go, and run until Ctrl-C or a process dies."""
    try:
        stack, password = start_demo(directory, app_port, sim_port)
    except DemoError as exc:
        click.echo(f"voiceline demo: {exc}", err=True)
        return 1
    click.echo("")
    click.echo(f"  Voiceline is running on the simulator: open http://127.0.0.1:{sim_port}/")
    click.echo(f"  The app: http://127.0.0.1:{app_port}/admin  (login {DEMO_ADMIN} / {password})")
    if not has_secret_key(os.environ):
        click.echo("  No SECRET_KEY is set: this run made one up, so its logins end with it.")
    click.echo("  Press Ctrl-C to stop.")
    click.echo("")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    status = 0
    while not stopping:
        ended = stack.exited()
        if ended is not None:
            click.echo(f"voiceline demo: {ended[0]} exited with {ended[1]}", err=True)
            stopping, status = True, 1
        time.sleep(0.3)
    stack.stop()
    return status
