"""The README's own ``voiceline demo`` command, run as a reader runs it without ``make``.

The command is read out of README.md, so the test follows the docs. It runs in a scratch
folder laid out like a clone after the install the README names (the running virtual
environment as ``.venv``, ``examples/``), so the demo's SQLite database lands there, and
with none of the settings the README does not tell a reader to set: no ``SECRET_KEY``
(``make`` exports one; a reader without ``make`` has none), no ``DATABASE_URL``, no
``TWILIO_*`` or ``VOICELINE_*``. Only the two port numbers are swapped for free ones, so
a demo already running on the README's ports cannot answer in its place.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.e2e_stack import PAT, REPO, STARTUP_SECONDS, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

README = REPO / "README.md"
COMMAND = re.compile(r"\.venv/bin/voiceline demo --port \d+ --simulator-port \d+")
NOT_FROM_THE_README = ("SECRET_KEY", "DATABASE_URL", "TWILIO_", "VOICELINE_")


def readme_demo_command() -> list[str]:
    """Return the demo command the README gives for running without ``make``."""
    found = COMMAND.findall(README.read_text(encoding="utf-8"))
    assert found, f"{README} gives no `.venv/bin/voiceline demo --port N --simulator-port N` line"
    return shlex.split(found[0])


def with_ports(command: list[str], app_port: int, sim_port: int) -> list[str]:
    """Return ``command`` with the values of ``--port`` and ``--simulator-port`` replaced."""
    ports = {"--port": str(app_port), "--simulator-port": str(sim_port)}
    return [
        ports.get(before, word) for before, word in zip(["", *command[:-1]], command, strict=True)
    ]


@dataclass
class ReaderDemo:
    """The README's demo command running, and where it says to go."""

    process: subprocess.Popen[bytes]
    output: Path
    handsets_url: str
    app_url: str
    admin_password: str

    def log(self) -> str:
        """Return what the demo printed so far."""
        return self.output.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def reader_demo(tmp_path: Path) -> Iterator[ReaderDemo]:
    """Run the README's demo command in a clone-like folder with the reader's environment."""
    venv = Path(sys.prefix)
    assert (venv / "bin" / "voiceline").exists(), f"install the package first: {venv}/bin"
    (tmp_path / ".venv").symlink_to(venv, target_is_directory=True)
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    env = {k: v for k, v in os.environ.items() if not k.startswith(NOT_FROM_THE_README)}
    env["PYTHONUNBUFFERED"] = "1"  # so the printed addresses can be read while it runs
    app_port, sim_port = free_port(), free_port()
    command = with_ports(readme_demo_command(), app_port, sim_port)
    output = tmp_path / "demo.log"
    with output.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while "Press Ctrl-C to stop." not in output.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"`{shlex.join(command)}` did not start (exit {process.poll()}):\n"
                    + output.read_text(errors="replace")
                )
            time.sleep(0.1)
        printed = output.read_text(errors="replace")
        handsets = re.search(r"on the simulator: open (http://\S+?)/?\n", printed)
        login = re.search(r"The app: (http://\S+)/admin +\(login demo / (\S+)\)", printed)
        assert handsets and login, printed
        assert handsets.group(1) == f"http://127.0.0.1:{sim_port}"
        assert login.group(1) == f"http://127.0.0.1:{app_port}"
        yield ReaderDemo(process, output, handsets.group(1), login.group(1), login.group(2))
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        print(output.read_text(errors="replace")[-4000:])


def test_the_readme_names_the_demo_command_once_with_both_ports() -> None:
    command = readme_demo_command()
    assert command[:2] == [".venv/bin/voiceline", "demo"]
    assert with_ports(command, 1, 2)[2:] == ["--port", "1", "--simulator-port", "2"]


def test_the_readme_demo_command_runs_as_written(reader_demo: ReaderDemo) -> None:
    health = requests.get(f"{reader_demo.app_url}/healthz", timeout=10)
    assert health.status_code == 200, health.text
    assert health.json()["database"] == "ok"
    phones = requests.get(f"{reader_demo.handsets_url}/state.json", timeout=10).json()["phones"]
    assert PAT in {phone["number"] for phone in phones}
    assert (
        "Pat Jones (Acme Dental)" in requests.get(f"{reader_demo.handsets_url}/", timeout=10).text
    )

    # The login it printed works, so the app signs sessions with the secret it made up.
    browser = requests.Session()
    form = browser.get(f"{reader_demo.app_url}/admin/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, form
    answer = browser.post(
        f"{reader_demo.app_url}/admin/login",
        data={
            "csrf_token": token.group(1),
            "username": "demo",
            "password": reader_demo.admin_password,
        },
        timeout=10,
    )
    assert answer.status_code == 200 and "Log out" in answer.text, answer.text[:2000]
    assert (reader_demo.output.parent / "instance" / "voiceline.db").exists()
    assert "No SECRET_KEY is set: this run made one up" in reader_demo.log()

    reader_demo.process.send_signal(signal.SIGINT)
    assert reader_demo.process.wait(timeout=30) == 0, reader_demo.log()
