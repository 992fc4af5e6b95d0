"""Real ``voiceline worker`` processes for tests: started, watched through their log, and
stopped or killed by pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import LINE_NUMBER, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_SECRET_KEY

ROOT = Path(__file__).resolve().parent.parent


def worker_env(
    database_url: str, tmp_path: Path, api_base: str = "http://127.0.0.1:9"
) -> dict[str, str]:
    """Return the environment of a worker on this database, paging through ``api_base``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "VOICELINE_"))}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=TEST_SECRET_KEY,
        TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
        TWILIO_API_BASE_URL=api_base,
        TWILIO_FROM_NUMBER=LINE_NUMBER,
        VOICELINE_PUBLIC_URL="https://voiceline.example.test",
        VOICELINE_SPOOL_DIR=str(tmp_path / "spool"),
    )
    return env


class WorkerProcess:
    """One ``voiceline worker`` process, its output in a file (a pipe nobody drains can
    fill and block the worker's logging)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.started_at = time.monotonic()
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "voiceline.cli", "worker"],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_started(self, timeout: float = 30.0) -> float:
        """Wait until the worker says it started; return the seconds since it was launched."""
        deadline = time.monotonic() + timeout
        while "started with" not in self.output():
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the worker exited {self.process.returncode}:\n{self.output()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"the worker did not start in {timeout}s:\n{self.output()}")
            time.sleep(0.02)
        return time.monotonic() - self.started_at

    def stop(self) -> int:
        """Stop the worker as an operator would (SIGTERM); return its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)

    def kill(self) -> None:
        """Kill the worker where it stands (SIGKILL)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
