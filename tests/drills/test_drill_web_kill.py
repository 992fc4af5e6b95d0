"""Drill: gunicorn workers SIGKILLed during a call storm.

Callers ring the line from several phones at once while, every second or so, one of
gunicorn's two workers is killed (its master starts another). A request in flight dies
with its worker; on Twilio the number's Voice fallback URL (``/twilio/voice/fallback``,
the README's Twilio console section) then takes the call, so every caller must still
end up with an incident, and every incident must page its analyst once.
"""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path

import pytest

from escalation.dispatch import IN_DOUBT_AFTER
from simulator.webhooks import HttpTransport
from tests.drills.drill_count import tally
from tests.drills.drill_night import concurrently, night
from tests.drills.drill_stack import Step, scaled, sqlite_database
from tests.drills.drill_twilio import FallbackTransport, caller_side

pytestmark = pytest.mark.drill

KILL_EVERY_SECONDS = 0.4
THREADS = 4
# A page claimed by a killed worker is settled after IN_DOUBT_AFTER; then it is sent.
GRACE_SECONDS = IN_DOUBT_AFTER.total_seconds() + 8


def test_web_worker_sigkill_in_a_call_storm(tmp_path: Path) -> None:
    callers = scaled(12)
    database_url = sqlite_database(tmp_path)
    with night(tmp_path, database_url, callers, [Step(delay="10m")]) as drill:
        app_url = drill.processes.app_url
        transports = [FallbackTransport(HttpTransport(), app_url) for _ in range(THREADS)]
        phones = [caller_side(app_url, transport) for transport in transports]
        storm_over = threading.Event()
        kills: list[int] = []

        def killer() -> None:
            while len(kills) < scaled(4) and not storm_over.wait(KILL_EVERY_SECONDS):
                if drill.processes.kill_web_worker() is not None:
                    kills.append(1)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        try:
            concurrently(
                [partial(drill.call, i, phones[i % THREADS]) for i in range(callers)],
                THREADS,
            )
        finally:
            storm_over.set()
            thread.join()
        expects = [e for c in drill.callers for e in drill.expect(c, 1, GRACE_SECONDS)]
        drill.wait_for(expects)
        alarms = drill.watch.stop()
        row = tally(
            "web worker SIGKILL, call storm",
            len(kills),
            drill.callers,
            expects,
            database_url,
            [drill.sim],
            alarms,
        )
        print(f"fallback URL requested {sum(t.fallbacks for t in transports)} times")
        errors = [c.index for c in drill.callers if "application error" in c.heard]
        print(f"callers who heard Twilio's application error: {errors}")
        for phone in phones:
            phone.stop()
    assert row.lost == 0, row
    assert row.doubled == 0, row
