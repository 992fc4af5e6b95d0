"""Drill: every webhook and callback delivered twice, and the callbacks out of order.

Twilio retries and its status callbacks race: here every request the simulator makes to
the app (call webhooks, recording and status callbacks, the analysts' SMS replies) goes
twice at the same moment, and the asynchronous callbacks are held back and then
delivered shuffled. Each caller must still get one incident, each analyst one page per
channel, and each acknowledgement must be recorded once.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from escalation.models import Acknowledgement
from simulator.webhooks import HttpTransport
from tests.drills.drill_count import tally
from tests.drills.drill_night import night
from tests.drills.drill_stack import Step, analyst_number, scaled, sqlite_database
from tests.drills.drill_twilio import TwiceTransport
from tests.e2e_stack import LINE
from voiceline.db import Database

pytestmark = pytest.mark.drill

GRACE_SECONDS = 15.0


def acknowledgements(database_url: str) -> Counter[int]:
    """Return how many acknowledgements each incident has."""
    database = Database(database_url)
    try:
        with database.session() as session:
            return Counter(session.scalars(select(Acknowledgement.incident_id)))
    finally:
        database.dispose()


def test_every_webhook_twice_and_out_of_order(tmp_path: Path) -> None:
    database_url = sqlite_database(tmp_path)
    callers = scaled(6)
    twice = TwiceTransport(HttpTransport())
    with night(tmp_path, database_url, callers, [Step(delay="10m")], transport=twice) as drill:
        drill.sim.hold_status_callbacks()
        for index in range(callers):
            drill.call(index)
        time.sleep(3.0)  # the first pages go out; their callbacks wait with the rest
        released = drill.sim.release_status_callbacks("shuffle", seed=7)
        print(f"{released} held callbacks delivered shuffled")
        for index in range(callers):
            page = drill.sim.phone(analyst_number(0, index)).expect_sms("EMERGENCY", timeout=10)
            drill.sim.phone(analyst_number(0, index)).send_sms(LINE, page.body.split()[0] + " A")
        expects = [e for c in drill.callers for e in drill.expect(c, 1, GRACE_SECONDS)]
        drill.wait_for(expects)
        acks = acknowledgements(database_url)
        print(f"acknowledgements per incident: {dict(acks)}")
        row = tally(
            "every webhook twice, callbacks shuffled",
            twice.sent // 2,
            drill.callers,
            expects,
            database_url,
            [drill.sim],
            drill.watch.stop(),
            doubled_elsewhere=sum(count - 1 for count in acks.values() if count > 1),
        )
        unacknowledged = callers - len(acks)
    assert row.lost == 0, row
    assert row.doubled == 0, row
    assert unacknowledged == 0, f"{unacknowledged} analysts' replies were not taken"
