"""Time in the simulator: a manual clock for timestamps and durations, no sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import pytest
from flask import Flask, request

from simulator.clock import ManualClock
from simulator.engine import Simulator
from simulator.resources import SimulatorError
from simulator.web import PumpThread

pytest_plugins = ["simulator.testing"]

LINE = "+15035550100"
ANALYST = "+15035550201"
PAGE = (
    '<Response><Gather numDigits="1" action="http://voiceline.test/ack">'
    "<Say>Incident 12. Press 1.</Say></Gather></Response>"
)


def status_app(seen: list[dict[str, str]]) -> Flask:
    app = Flask("stand_in_status")

    @app.post("/call-status")
    @app.post("/sms-status")
    def status() -> Any:
        seen.append(request.form.to_dict())
        return "", 204

    @app.post("/ack")
    def ack() -> Any:
        return "<Response><Say>Acknowledged.</Say></Response>"

    return app


def test_manual_clock_moves_only_forward_and_only_when_told() -> None:
    clock = ManualClock(datetime(2025, 3, 9, 9, 59, tzinfo=UTC))
    assert clock() == clock.now() == datetime(2025, 3, 9, 9, 59, tzinfo=UTC)
    assert clock.advance(minutes=2) == datetime(2025, 3, 9, 10, 1, tzinfo=UTC)
    assert clock.advance(timedelta(seconds=30), seconds=30).minute == 2
    assert clock.set(datetime(2025, 3, 9, 11, 0, tzinfo=UTC)).hour == 11
    with pytest.raises(SimulatorError):
        clock.advance(seconds=-1)
    with pytest.raises(SimulatorError):
        ManualClock(datetime(2025, 3, 9, 10, 0))


def test_timestamps_and_durations_follow_the_injected_clock(
    make_sim: Callable[..., Simulator], sim_clock: ManualClock
) -> None:
    seen: list[dict[str, str]] = []
    sim = make_sim(status_app(seen), clock=sim_clock)
    client = sim.rest_client()
    message = client.messages.create(to=ANALYST, from_=LINE, body="page")
    assert message.date_created == sim_clock()
    sim.phone(ANALYST).expect_sms("page")

    call = client.calls.create(
        to=ANALYST, from_=LINE, twiml=PAGE, status_callback="http://voiceline.test/call-status"
    )
    leg = sim.phone(ANALYST).expect_call().answer()
    answered_at = sim_clock()
    sim_clock.advance(minutes=2)
    leg.press("1").expect_heard("acknowledged")
    [completed] = seen
    assert int(completed["CallDuration"]) >= 120 and completed["Duration"] == "3"
    assert completed["Timestamp"] == format_datetime(sim_clock())
    fetched = client.calls(call.sid).fetch()
    assert fetched.start_time == answered_at
    assert fetched.end_time == sim_clock()
    assert parsedate_to_datetime(completed["Timestamp"]) == sim_clock()


def test_the_pump_thread_delivers_without_anyone_clicking(
    make_sim: Callable[..., Simulator],
) -> None:
    seen: list[dict[str, str]] = []
    sim = make_sim(status_app(seen))
    analyst = sim.phone(ANALYST)
    pump = PumpThread(sim)
    pump.start()
    try:
        sim.rest_client().messages.create(
            to=ANALYST, from_=LINE, body="page", status_callback="http://voiceline.test/sms-status"
        )
        deadline = time.monotonic() + 5
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)  # a background thread is the thing under test
    finally:
        pump.stop()
    assert [s["MessageStatus"] for s in seen] == ["sent", "delivered"]
    assert [sms.body for sms in analyst.inbox] == ["page"]
    analyst.expect_sms("page")
