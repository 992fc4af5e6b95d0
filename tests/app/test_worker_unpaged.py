"""A real worker pages, within seconds, an open emergency that was committed without
being handed to paging (what a savepoint that committed on its own left behind)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from simulator.rest import FakeTwilioApi
from tests.escalation_helpers import PAT, SAM, desk, sent, wait_for
from tests.worker_helpers import WorkerProcess, worker_env
from voiceline.clock import SystemClock
from voiceline.db import Database
from voiceline.directory.checker import read_directory_text
from voiceline.directory.loader import load_directory
from voiceline.incidents.models import IncidentEvent
from voiceline.line.calls import view_of
from voiceline.line.incidents import open_incident


@pytest.fixture
def worker(
    database: Database, database_url: str, twilio_api: FakeTwilioApi, tmp_path: Path
) -> Iterator[WorkerProcess]:
    with database.session() as session:
        load_directory(session, read_directory_text(desk()))
    process = WorkerProcess(
        worker_env(database_url, tmp_path, twilio_api.base_url), tmp_path / "worker.log"
    )
    yield process
    process.kill()


def test_the_worker_pages_an_emergency_nobody_handed_over(
    database: Database, twilio_api: FakeTwilioApi, worker: WorkerProcess
) -> None:
    worker.wait_started()
    now = SystemClock().now()
    with database.session() as session:
        caller = view_of(session, PAT, now).caller
        incident, _ = open_incident(
            session,
            call_sid="CA" + "4" * 32,
            caller=caller,
            priority="emergency",
            clock_started_at=now,
            now=now,
        )
    committed = time.monotonic()
    wait_for(lambda: sent(twilio_api, "sms", SAM), timeout=10)
    seconds = time.monotonic() - committed
    print(f"an unpaged emergency was paged {seconds:.2f}s after it was committed")
    assert seconds < 5.0
    with database.session() as session:
        logged = list(
            session.scalars(select(IncidentEvent.kind).filter_by(incident_id=incident.id))
        )
    assert logged[:3] == ["opened", "found_unpaged", "handed_over_to_paging"]
    assert worker.stop() == 0
