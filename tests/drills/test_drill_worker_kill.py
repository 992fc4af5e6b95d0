"""Drills: the worker SIGKILLed in the middle of escalations.

On SQLite the only worker is killed between two steps and restarted the way a
supervisor restarts a crashed process (again every second until it runs); on PostgreSQL
one of two workers is killed as a step falls due and the other must carry on. Either
way every step of every escalation must reach its analyst once, on time: README,
"After a restart, overdue steps go out at once, once."
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.drills.drill_count import now, tally
from tests.drills.drill_night import night, seconds_of
from tests.drills.drill_stack import Step, postgres_database, scaled, sqlite_database

pytestmark = pytest.mark.drill

STEPS = [Step(delay="6s"), Step(delay="6s"), Step(delay="10m")]
GRACE_SECONDS = 10.0  # a step must reach its analyst within this of falling due
RESTART_WITHIN_SECONDS = 60.0


def test_worker_sigkill_and_restart_on_sqlite(tmp_path: Path) -> None:
    database_url = sqlite_database(tmp_path)
    callers = scaled(3)
    with night(tmp_path, database_url, callers, STEPS) as drill:
        for index in range(callers):
            drill.call(index)
        time.sleep(seconds_of(STEPS[0].delay) / 2)  # mid-step: the next one is the worker's
        drill.processes.kill("worker")
        took, refusals = drill.processes.supervise("worker", RESTART_WITHIN_SECONDS)
        print(f"worker back after {took:.1f}s and {refusals} refusals")
        expects = [e for c in drill.callers for e in drill.expect(c, 3, GRACE_SECONDS)]
        drill.wait_for(expects, extra=5)
        row = tally(
            "worker SIGKILL + restart (SQLite)",
            1,
            drill.callers,
            expects,
            database_url,
            [drill.sim],
            drill.watch.stop(),
        )
    assert row.lost == 0, row
    assert row.doubled == 0, row


@pytest.mark.postgres
def test_one_of_two_workers_sigkilled_on_postgres(tmp_path: Path) -> None:
    callers = scaled(3)
    with (
        postgres_database() as database_url,
        night(tmp_path, database_url, callers, STEPS, workers=("worker-1", "worker-2")) as drill,
    ):
        for index in range(callers):
            drill.call(index)
        first = drill.callers[0].finished
        # Just before the first second step falls due: whichever worker is about to fire it.
        lead = seconds_of(STEPS[0].delay) - 0.3
        time.sleep(max(0.0, lead - (now() - first).total_seconds()))
        drill.processes.kill("worker-1")
        expects = [e for c in drill.callers for e in drill.expect(c, 3, GRACE_SECONDS)]
        drill.wait_for(expects, extra=5)
        row = tally(
            "1 of 2 workers SIGKILL (PostgreSQL)",
            1,
            drill.callers,
            expects,
            database_url,
            [drill.sim],
            drill.watch.stop(),
        )
    assert row.lost == 0, row
    assert row.doubled == 0, row
