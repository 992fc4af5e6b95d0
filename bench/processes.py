"""The processes under test, started on random loopback ports and always stopped.

The web app runs as ``voiceline serve`` (gunicorn with the Procfile's settings) and the
worker as ``voiceline worker``, with the environment the end-to-end tests give them
(``tests.e2e_stack.process_environment``), pointed at a simulator in this process. The
bare Flask baseline runs under the same gunicorn settings.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from simulator.engine import Simulator
from tests.e2e_stack import STARTUP_SECONDS, free_port, process_environment, wait_for_log
from voiceline.cli import gunicorn_options, web_settings
from voiceline.demo import Stack, has_control_socket, worker_command


@dataclass
class Running:
    """A started web app (and workers), its URL and logs."""

    stack: Stack
    url: str
    logs: dict[str, Path] = field(default_factory=dict)

    def pids(self, name: str) -> list[int]:
        """Return the pid of process ``name`` and of its children (gunicorn's workers)."""
        root = self.stack.processes[name].pid
        return [root, *children_of(root)]

    def log_text(self, name: str) -> str:
        """Return what process ``name`` wrote."""
        return self.logs[name].read_text(encoding="utf-8", errors="replace")


def gunicorn_environment(env: dict[str, str]) -> dict[str, str]:
    """Keep gunicorn off the per-user control socket other gunicorns on the machine use."""
    env = dict(env)
    if has_control_socket():
        env["GUNICORN_CMD_ARGS"] = "--no-control-socket"
    return env


def serve_command(port: int) -> list[str]:
    """Return ``voiceline serve`` on a loopback port, as a deployment runs it."""
    bind = f"127.0.0.1:{port}"
    return [sys.executable, "-m", "voiceline.cli", "serve", "--bind", bind]


def bare_command(port: int, database_url: str) -> list[str]:
    """Return gunicorn serving the bare Flask app as ``voiceline serve`` serves the app."""
    return [
        sys.executable, "-m", "gunicorn", "bench.bare_app:app", "--bind", f"127.0.0.1:{port}",
        *gunicorn_options(*web_settings(database_url)),
    ]  # fmt: skip


@contextmanager
def voiceline_stack(
    database_url: str, sim: Simulator, workdir: Path, *, workers: int = 1, web: bool = True
) -> Iterator[Running]:
    """Run the web app and ``workers`` worker processes until the block ends."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = gunicorn_environment(process_environment(database_url, sim, url, workdir))
    stack = Stack()
    running = Running(stack, url)
    with ExitStack() as files:
        try:
            if web:
                running.logs["web"] = workdir / f"web-{port}.log"
                out = files.enter_context(running.logs["web"].open("wb"))
                stack.start("web", serve_command(port), env, output=out)
            for n in range(workers):
                name = f"worker{n + 1}"
                running.logs[name] = workdir / f"{name}-{port}.log"
                out = files.enter_context(running.logs[name].open("wb"))
                stack.start(name, worker_command(), env, output=out)
            if web:
                stack.wait_until_serving(f"{url}/healthz", timeout=STARTUP_SECONDS)
            for n in range(workers):
                log = running.logs[f"worker{n + 1}"]
                wait_for_log(stack, log, "started with", STARTUP_SECONDS)
            yield running
        finally:
            stack.stop()


@contextmanager
def bare_stack(workdir: Path, database_url: str) -> Iterator[Running]:
    """Run the bare Flask app under gunicorn, set as for ``database_url``, until the block ends."""
    port = free_port()
    stack = Stack()
    running = Running(stack, f"http://127.0.0.1:{port}")
    running.logs["bare"] = workdir / f"bare-{port}.log"
    try:
        with running.logs["bare"].open("wb") as out:
            stack.start(
                "bare", bare_command(port, database_url), gunicorn_environment({}), output=out
            )
        stack.wait_until_serving(f"{running.url}/healthz", timeout=STARTUP_SECONDS)
        yield running
    finally:
        stack.stop()


def children_of(pid: int) -> list[int]:
    """Return the pids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        # The command name is in parentheses and may hold spaces: split after it.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def peak_rss_mib(pid: int) -> float | None:
    """Return the peak resident set size (VmHWM) of ``pid`` in MiB, None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
