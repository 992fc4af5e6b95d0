"""Drill: Twilio failing one request in five, and texts failing after they were accepted.

Between the app and the simulator's REST API a proxy answers 20% of the texts and calls
the app asks for with 500, 429, a timeout (the request went through, the answer came
after the client gave up), 21211 (invalid number) or 21610 (the number texted STOP),
and the carrier reports 20% of the texts it took as undelivered (30003, temporary) or
failed (30006, landline). The first step pages by SMS only, as many desks do: README,
"Temporary Twilio errors are retried with backoff; a failed SMS falls back to voice".

Permanent faults hit only a page's first SMS, and no fault hits a third attempt, so
every analyst stays reachable by what the product promises: an analyst never reached
is a page lost, and a page reaching the same phone twice is doubled.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest

from tests.drills.drill_count import tally
from tests.drills.drill_night import night
from tests.drills.drill_stack import Step, scaled, sqlite_database
from tests.drills.drill_twilio import FailingSmsSimulator, attempt_of, page_of

pytestmark = pytest.mark.drill

RATE = 0.2
STEPS = [Step(channels=("sms",), delay="10s"), Step(delay="10m")]
# Two timeouts (11 s each) and both backoffs (5 s, 15 s) on one channel, then the other.
GRACE_SECONDS = 40.0


class FaultPlan:
    """Decide, with a fixed seed, which requests and texts fail and how."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.lock = threading.Lock()

    def _attempt(self, callback: str | None) -> int | None:
        page = page_of(callback)
        return attempt_of(page[1]) if page is not None else None

    def request(self, kind: str, form: dict[str, str]) -> str | None:
        """Return the fault for a create request, or None to pass it on."""
        attempt = self._attempt(form.get("StatusCallback"))
        if attempt is None or attempt >= 3:
            return None
        with self.lock:
            if self.random.random() >= RATE:
                return None
            faults = ["500", "429", "timeout"]
            if kind == "sms" and attempt == 1:
                faults += ["21211", "21610"]
            return self.random.choice(faults)

    def carrier(self, sid: str, to: str, callback: str | None) -> int | None:
        """Return the error code a text accepted by Twilio fails with, or None."""
        attempt = self._attempt(callback)
        if attempt is None or attempt >= 3:
            return None
        with self.lock:
            if self.random.random() >= RATE:
                return None
            return self.random.choice([30003, 30006] if attempt == 1 else [30003])


def test_twilio_failing_one_request_in_five(tmp_path: Path) -> None:
    database_url = sqlite_database(tmp_path)
    callers = scaled(8)
    plan = FaultPlan(seed=20261128)
    with night(
        tmp_path,
        database_url,
        callers,
        STEPS,
        choose=plan.request,
        simulator=FailingSmsSimulator,
        fail_sms=plan.carrier,
    ) as drill:
        for index in range(callers):
            drill.call(index)
        expects = [e for c in drill.callers for e in drill.expect(c, 2, GRACE_SECONDS)]
        drill.wait_for(expects, extra=2)
        assert drill.twilio.proxy is not None and isinstance(drill.sim, FailingSmsSimulator)
        injected = drill.twilio.proxy.injected
        by_callback = drill.sim.failed_by_callback
        print("injected:", sorted(f"{i.fault} {i.kind} {i.key}" for i in injected))
        print("failed by callback:", by_callback)
        row = tally(
            "Twilio 500/429/timeout/21211/21610 at 20%, SMS failed by callback",
            len(injected) + len(by_callback),
            drill.callers,
            expects,
            database_url,
            [drill.sim],
            drill.watch.stop(),
        )
    assert row.lost == 0, row
    assert row.doubled == 0, row
