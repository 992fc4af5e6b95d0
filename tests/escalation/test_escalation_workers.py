"""Real ``voiceline worker`` processes: a restart with pages due, SIGKILL mid-escalation on
PostgreSQL with two workers, and SQLite's one-worker limit.

The workers keep real time, so the test policy escalates every two seconds. Incidents are
handed over the way the line does it (due now, nobody paging yet), as if the web process
had died right after saving the message: the workers must do all the paging.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from escalation.models import Page
from simulator.engine import Simulator
from simulator.rest import FakeTwilioApi
from simulator.serving import BackgroundServer
from simulator.web import PumpThread
from simulator.webhooks import HttpTransport
from tests.conftest import (
    LINE_NUMBER,
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_SECRET_KEY,
    app_config,
    postgres_url,
)
from tests.escalation_helpers import CASEY, MORGAN, PAT, SAM, desk, sent, wait_for
from voiceline.app import create_app
from voiceline.db import Database
from voiceline.directory.checker import read_directory_text
from voiceline.directory.loader import load_directory
from voiceline.incidents.handover import mark_for_paging
from voiceline.incidents.models import Incident, IncidentEvent
from voiceline.line.calls import view_of
from voiceline.line.incidents import open_incident

pytest_plugins = ["simulator.testing"]

ROOT = Path(__file__).resolve().parents[2]
TWO_SECOND_TIERS = """\
      - {targets: [{on_call: tier1}], channels: [sms, voice], delay: 2s}
      - {targets: [{on_call: tier2}], channels: [sms, voice], delay: 2s}
      - {targets: [{on_call: management}], channels: [sms, voice], delay: 2s}"""
TIERS = (SAM, CASEY, MORGAN)


class WorkerProcess:
    """One ``voiceline worker`` process with its log."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "voiceline.cli", "worker"],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_started(self, timeout: float = 30.0) -> None:
        """Wait for the worker to say it started."""
        wait_for(lambda: "started with" in self.log.read_text(errors="replace"), timeout)

    def stop(self) -> int:
        """Stop the worker as an operator would (SIGTERM) and return its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)

    def kill(self) -> None:
        """Kill the worker where it stands."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(env: dict[str, str]) -> WorkerProcess:
        worker = WorkerProcess(env, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.kill()


def worker_env(database_url: str, api_base: str, public_url: str, tmp_path: Path) -> dict[str, str]:
    """Return the environment of a worker talking to this database and this Twilio."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "VOICELINE_"))}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=TEST_SECRET_KEY,
        TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
        TWILIO_API_BASE_URL=api_base,
        TWILIO_FROM_NUMBER=LINE_NUMBER,
        VOICELINE_PUBLIC_URL=public_url,
        VOICELINE_SPOOL_DIR=str(tmp_path / "spool"),
    )
    return env


def hand_over(database: Database, call_sid: str) -> int:
    """Open an emergency from Pat and mark it due for paging, without paging it."""
    now = datetime.now(UTC)
    with database.session() as session:
        caller = view_of(session, PAT, now).caller
        incident, _ = open_incident(
            session,
            call_sid=call_sid,
            caller=caller,
            priority="emergency",
            clock_started_at=now,
            now=now,
        )
        mark_for_paging(session, incident, now)
        return incident.id


def escalation_status(database: Database, incident_id: int) -> str | None:
    with database.session() as session:
        row = session.get(Incident, incident_id)
        return (
            None if row is None or row.escalation_state is None else row.escalation_state["status"]
        )


def log_kinds(database: Database, incident_id: int) -> list[str]:
    with database.session() as session:
        return list(session.scalars(select(IncidentEvent.kind).filter_by(incident_id=incident_id)))


def test_overdue_pages_go_out_once_after_a_worker_restart(
    database: Database,
    database_url: str,
    twilio_api: FakeTwilioApi,
    start_worker: Callable[[dict[str, str]], WorkerProcess],
    tmp_path: Path,
) -> None:
    with database.session() as session:
        load_directory(session, read_directory_text(desk(TWO_SECOND_TIERS)))
    env = worker_env(database_url, twilio_api.base_url, "https://voiceline.example.test", tmp_path)
    first = start_worker(env)
    first.wait_started()
    opened = time.monotonic()
    incident_id = hand_over(database, "CA" + "1" * 32)
    wait_for(lambda: sent(twilio_api, "call", SAM), timeout=5)
    assert first.stop() == 0  # stopped with Tier 2 due in under two seconds
    assert sent(twilio_api, "sms", CASEY) == []
    time.sleep(max(0.0, opened + 4.0 - time.monotonic()))  # Tier 2 is now two seconds late
    assert sent(twilio_api, "sms", CASEY) == []
    second = start_worker(env)
    second.wait_started()
    restarted = time.monotonic()
    wait_for(lambda: sent(twilio_api, "call", CASEY), timeout=5)
    assert time.monotonic() - restarted < 1.5  # overdue work is done on the first tick
    wait_for(lambda: escalation_status(database, incident_id) == "exhausted", timeout=10)
    assert second.stop() == 0
    for number in TIERS:
        assert len(sent(twilio_api, "sms", number)) == 1, number
        assert len(sent(twilio_api, "call", number)) == 1, number
    # Management was due two seconds after Tier 2 started: the date job fires on time.
    with database.session() as session:
        started = {
            row.page_key.split(".")[1]: row.created_at
            for row in session.scalars(select(Page).filter_by(incident_id=incident_id))
        }
    lateness = (started["2"] - started["1"] - timedelta(seconds=2)).total_seconds()
    print(f"management paged {lateness * 1000:.0f} ms after its due time")
    assert 0 <= lateness < 1.0


def connected_to(port: int, pids: list[int]) -> list[int]:
    """Return which of ``pids`` hold an open TCP connection to ``port`` on loopback."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                inodes.add(f"socket:[{fields[9]}]")
    found = []
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            links = {os.readlink(fd_dir / fd) for fd in os.listdir(fd_dir)}
        except OSError:
            continue
        if links & inodes:
            found.append(pid)
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.postgres
@pytest.mark.skipif(
    postgres_url() is None, reason="needs PostgreSQL: set VOICELINE_TEST_DATABASE_URL"
)
def test_two_workers_page_exactly_once_when_one_is_killed_mid_send(
    database: Database,
    database_url: str,
    make_sim: Callable[..., Simulator],
    start_worker: Callable[[dict[str, str]], WorkerProcess],
    tmp_path: Path,
) -> None:
    with database.session() as session:
        load_directory(session, read_directory_text(desk(TWO_SECOND_TIERS)))
    sim = make_sim(
        transport=HttpTransport(), account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN
    )
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    web = create_app(app_config(database_url, sim.base_url, VOICELINE_PUBLIC_URL=public_url))
    server = BackgroundServer(web, port=port, name="voiceline web")
    server.start()
    pump = PumpThread(sim)
    pump.start()
    try:
        sim.api.response_delay = 1.0  # Twilio takes the page, then answers slowly
        env = worker_env(database_url, sim.base_url, public_url, tmp_path)
        workers = [start_worker(env), start_worker(env)]
        for worker in workers:
            worker.wait_started()
        incident_id = hand_over(database, "CA" + "2" * 32)
        api_port = int(sim.base_url.rsplit(":", 1)[1])
        senders = wait_for(lambda: connected_to(api_port, [w.pid for w in workers]), 5)
        victim = next(w for w in workers if w.pid == senders[0])
        victim.kill()  # after Twilio accepted its page, before it heard back
        survivor = next(w for w in workers if w is not victim)
        wait_for(lambda: escalation_status(database, incident_id) == "exhausted", timeout=20)
        time.sleep(1.5)  # long enough for any second copy to show up
        for number in TIERS:
            phone = sim.phone(number)
            phone.expect_sms(contains="EMERGENCY")
            phone.expect_call(from_=LINE_NUMBER)
            phone.expect_no_sms()
            assert len(sent(sim.api, "sms", number)) == 1, number
            assert len(sent(sim.api, "call", number)) == 1, number
        with database.session() as session:
            rows = list(session.scalars(select(Page).filter_by(incident_id=incident_id)))
        assert len(rows) == 6 and all(row.provider_sid for row in rows)
        log = log_kinds(database, incident_id)
        # The killed sender never recorded Twilio's answer; the page's own status callback
        # did, so nobody treated it as lost and sent it again.
        assert log.count("page_sent") == 5
        assert "page_in_doubt" not in log
        assert survivor.stop() == 0
    finally:
        pump.stop()
        server.stop()


def test_a_second_worker_on_sqlite_refuses_to_start(
    database_url: str,
    twilio_api: FakeTwilioApi,
    start_worker: Callable[[dict[str, str]], WorkerProcess],
    tmp_path: Path,
) -> None:
    if postgres_url() is not None:
        pytest.skip("the suite runs on PostgreSQL, where several workers are allowed")
    env = worker_env(database_url, twilio_api.base_url, "https://voiceline.example.test", tmp_path)
    first = start_worker(env)
    first.wait_started()
    second = start_worker(env)
    assert second.process.wait(timeout=30) == 3
    assert "SQLite supports one worker" in second.log.read_text()
    assert first.stop() == 0


def test_the_fake_api_stores_a_page_before_its_late_answer() -> None:
    with FakeTwilioApi(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN) as api:
        api.response_delay = 0.3
        answered: list[float] = []
        started = time.monotonic()

        def send() -> None:
            requests.post(
                f"{api.account_url}/Messages.json",
                data={"To": SAM, "From": LINE_NUMBER, "Body": "page"},
                auth=(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN),
                timeout=5,
            ).raise_for_status()
            answered.append(time.monotonic())

        thread = threading.Thread(target=send)
        thread.start()
        wait_for(lambda: api.messages, timeout=2)  # stored while the answer is held back
        assert not answered
        thread.join(timeout=5)
        assert answered and answered[0] - started >= 0.3
