"""Pages that fail: the other channel at once, retries that fit the step, give-ups that escalate.

Through the real runner: the emergency is left on the line (signed webhooks), pages go to
the fake Twilio API on loopback, status callbacks are posted signed as Twilio posts them,
and the worker's tick (``run_due``) is called with the manual clock moved by hand, as the
worker would call it at ``next_due_at``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from escalation.due import run_due
from escalation.wiring import paging_for
from simulator.rest import FakeTwilioApi
from tests.conftest import LINE_NUMBER, app_config, post_signed
from tests.escalation_helpers import (
    CASEY,
    MORGAN,
    SAM,
    desk,
    emergency,
    events,
    incident,
    kinds,
    load_text,
    notices,
    pages,
    quiet,
    sent,
    state,
)
from voiceline.app import create_app
from voiceline.clock import ManualClock
from voiceline.incidents.models import IncidentEvent

SMS_ONLY = """\
      - {targets: [{on_call: tier1}], channels: sms, delay: 5m}
      - {targets: [{on_call: tier2}], channels: sms, delay: 5m}"""
VOICE_ONLY = """\
      - {targets: [{on_call: tier1}], channels: voice, delay: 5m}
      - {targets: [{on_call: tier2}], channels: voice, delay: 5m}"""


def tick(app: Flask) -> None:
    """Run the worker's job once and let background sends finish."""
    run_due(paging_for(app))
    quiet(app)


def run_until(app: Flask, clock: ManualClock, until: datetime) -> None:
    """Wake the worker at every ``next_due_at`` up to ``until``, as its timer would."""
    for _ in range(100):
        due = incident(app).next_due_at
        if due is None or due > until:
            return
        clock.set(max(due, clock.now()))
        tick(app)
    raise AssertionError("the escalation kept asking to be woken")


def report(client: FlaskClient, key: str, params: dict[str, str]) -> None:
    """Post a page's status callback of incident 1 as Twilio posts it."""
    response = post_signed(client, f"/twilio/status/page/1/{key}", params)
    assert response.status_code == 204


def sms_status(app: Flask, key: str, status: str, code: int) -> dict[str, str]:
    sid = pages(app)[key].provider_sid
    assert sid is not None
    return {
        "MessageSid": sid,
        "MessageStatus": status,
        "ErrorCode": str(code),
        "To": SAM,
        "From": LINE_NUMBER,
    }


def call_status(app: Flask, key: str, status: str, sequence: int = 3) -> dict[str, str]:
    sid = pages(app)[key].provider_sid
    assert sid is not None
    return {
        "CallSid": sid,
        "CallStatus": status,
        "SequenceNumber": str(sequence),
        "To": SAM,
        "From": LINE_NUMBER,
    }


def attempt_times(app: Flask, to: str, channel: str) -> list[datetime]:
    """Return when each page to a number on a channel was handed to Twilio (or refused)."""
    return [
        row.sent_at
        for row in sorted(pages(app).values(), key=lambda p: p.id)
        if row.to_number == to and row.channel == channel and row.sent_at is not None
    ]


# --- defect 6: a failed SMS falls back to voice, an unanswered call to SMS, at once ----


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (30003, "undelivered"),
        (30005, "undelivered"),
        (30006, "failed"),
        (30007, "failed"),
        (30008, "undelivered"),
        (30034, "undelivered"),
        (30032, "failed"),
        (30034, "failed"),
    ],
)
def test_an_sms_that_twilio_reports_failed_calls_the_analyst_at_once(
    app: Flask,
    client: FlaskClient,
    twilio_api: FakeTwilioApi,
    clock: ManualClock,
    code: int,
    status: str,
) -> None:
    load_text(app, desk(SMS_ONLY))
    emergency(client, app)
    due = state(app).step_due_at
    assert sent(twilio_api, "call", SAM) == []
    clock.advance(timedelta(seconds=3))  # the carrier reports a few seconds later
    report(client, "0.0.sam.sms.1", sms_status(app, "0.0.sam.sms.1", status, code))
    quiet(app)
    [call] = sent(twilio_api, "call", SAM)  # at once: the clock has not moved since
    assert (call.get("StatusCallback") or "").endswith("/0.0.sam.voice.1")
    assert state(app).step_due_at == due  # the step's timer runs on
    assert sent(twilio_api, "sms", CASEY) == []
    fallback = [d for k, d in events(app) if k == "fallback"]
    assert fallback and "sms failed" in fallback[0]["detail"]


@pytest.mark.parametrize("status", ["busy", "no-answer", "failed"])
def test_a_voice_page_that_ends_unanswered_texts_the_analyst_at_once(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock, status: str
) -> None:
    load_text(app, desk(VOICE_ONLY))
    emergency(client, app)
    due = state(app).step_due_at
    assert due is not None and sent(twilio_api, "sms", SAM) == []
    clock.advance(timedelta(seconds=30))  # it rang out
    report(client, "0.0.sam.voice.1", call_status(app, "0.0.sam.voice.1", status))
    quiet(app)
    [sms] = sent(twilio_api, "sms", SAM)
    assert (sms.get("StatusCallback") or "").endswith("/0.0.sam.sms.1")
    assert (sms.get("Body") or "").startswith("#1 EMERGENCY Acme Dental")
    assert state(app).step_due_at == due  # the SMS may still reach Sam: the step waits
    assert sent(twilio_api, "call", CASEY) == []
    clock.set(due)
    tick(app)
    assert len(sent(twilio_api, "call", CASEY)) == 1
    assert len(sent(twilio_api, "sms", SAM)) == 1  # the fallback goes once


def test_a_failed_sms_does_not_call_again_when_the_call_went_already(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_text(app, desk())  # both channels
    emergency(client, app)
    report(client, "0.0.sam.sms.1", sms_status(app, "0.0.sam.sms.1", "undelivered", 30005))
    quiet(app)
    assert len(sent(twilio_api, "call", SAM)) == 1
    assert sent(twilio_api, "sms", CASEY) == []  # the call may still reach Sam


# --- defect 7: retries come fast, fit inside the step, and are never silently lost ------


def test_a_500_is_retried_within_a_second_even_in_a_short_step(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    short = SMS_ONLY.replace("delay: 5m}\n", "delay: 3s}\n", 1)
    load_text(app, desk(short))
    twilio_api.fail_next("sms", to=SAM, status=500, code=20500)
    emergency(client, app)
    opened = clock.now()
    retry_at = incident(app).next_due_at
    assert retry_at is not None and retry_at <= opened + timedelta(seconds=1)
    clock.set(retry_at)
    tick(app)
    attempts = [r for r in twilio_api.requests_to("Messages.json") if r.get("To") == SAM]
    assert [r.status for r in attempts] == [500, 201]
    assert (attempts[1].get("StatusCallback") or "").endswith("/0.0.sam.sms.2")


@pytest.mark.parametrize("step_seconds", [2, 6, 60, 300])
def test_every_try_fits_inside_the_step_then_the_other_channel_goes(
    app: Flask,
    client: FlaskClient,
    twilio_api: FakeTwilioApi,
    clock: ManualClock,
    step_seconds: int,
) -> None:
    load_text(app, desk(SMS_ONLY.replace("delay: 5m}\n", f"delay: {step_seconds}s}}\n", 1)))
    twilio_api.fail_next("sms", to=SAM, status=503, code=20503, times=99)
    emergency(client, app)
    opened = clock.now()
    step_due = opened + timedelta(seconds=step_seconds)
    run_until(app, clock, step_due - timedelta(microseconds=1))
    tries = attempt_times(app, SAM, "sms")
    offsets = [round((t - opened).total_seconds(), 3) for t in tries]
    print(f"{step_seconds} s step: SMS tries at {offsets} s, then voice")
    assert len(tries) >= 3 and all(t < step_due for t in tries)
    assert tries[1] - tries[0] <= timedelta(seconds=1)
    # Retries spent on SMS: Sam is called before the step is over, and the admins told.
    [call] = sent(twilio_api, "call", SAM)
    assert sent(twilio_api, "sms", CASEY) == []
    assert any("the sms page to sam failed: gave up after" in n for n in notices(app))


def test_a_retry_the_escalation_supersedes_is_logged_and_never_sent(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_text(app, desk())  # both channels: the call reaches Sam while the SMS waits
    twilio_api.fail_next("sms", to=SAM, status=500, code=20500)
    emergency(client, app)
    reply = {"From": SAM, "To": LINE_NUMBER, "Body": "A", "MessageSid": "SM" + "2" * 32}
    assert post_signed(client, "/twilio/sms", reply).status_code == 200
    quiet(app)
    superseded = [d for k, d in events(app) if k == "retry_superseded"]
    assert len(superseded) == 1 and "0.0.sam.sms" in superseded[0]["detail"]
    assert "acknowledged" in superseded[0]["detail"]
    clock.advance(timedelta(minutes=1))
    tick(app)
    assert [r.status for r in twilio_api.requests_to("Messages.json") if r.get("To") == SAM] == [
        500
    ]
    assert "0.0.sam.sms.2" not in pages(app)


def test_a_retry_due_when_the_step_ends_goes_to_the_analyst_and_the_step_moves_on(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_text(app, desk(SMS_ONLY.replace("delay: 5m}\n", "delay: 10s}\n", 1)))
    twilio_api.fail_next("sms", to=SAM, status=500, code=20500)
    emergency(client, app)
    clock.advance(timedelta(seconds=30))  # the worker was away past the retry and the step
    tick(app)
    assert len(sent(twilio_api, "sms", SAM)) == 1  # the retry still went out
    assert len(sent(twilio_api, "sms", CASEY)) == 1
    assert kinds(app).index("page_retried") < kinds(app).index("step_timed_out")


# --- defect 2, the engine's part: give up, tell the admins, and page the next step -----


def test_when_every_page_of_a_step_fails_the_next_step_is_paged_at_once(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_text(app, desk())
    twilio_api.fail_next("sms", to=SAM, status=400, code=21614)
    twilio_api.fail_next("call", to=SAM, status=400, code=21211)
    emergency(client, app)
    assert len(sent(twilio_api, "sms", CASEY)) == 1  # at once, not after 5 minutes
    assert len(sent(twilio_api, "call", CASEY)) == 1
    assert state(app).step == 1 and state(app).step_due_at == clock.now() + timedelta(minutes=5)
    said = notices(app)
    assert any("the sms page to sam failed" in n and "21614" in n for n in said), said
    assert any("the voice page to sam failed" in n and "21211" in n for n in said), said
    assert any("step 1 of pass 1" in n and "no page could go out" in n for n in said), said


def test_retries_spent_on_every_page_of_a_step_page_the_next_step_before_its_delay(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_text(app, desk())
    twilio_api.fail_next("sms", to=SAM, status=503, code=20503, times=99)
    twilio_api.fail_next("call", to=SAM, status=503, code=20503, times=99)
    emergency(client, app)
    opened = clock.now()
    run_until(app, clock, opened + timedelta(minutes=5) - timedelta(microseconds=1))
    [casey_sms] = sent(twilio_api, "sms", CASEY)
    tier2 = pages(app)["0.1.casey.sms.1"].sent_at
    assert tier2 is not None
    print(f"Tier 2 paged {(tier2 - opened).total_seconds():.1f} s after Tier 1 kept failing")
    assert tier2 < opened + timedelta(minutes=2)
    assert any("step 1 of pass 1" in n for n in notices(app))


def test_the_api_unreachable_for_a_minute_gives_tier_1_up_and_pages_tier_2(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_text(app, desk())
    twilio_api.stop()  # nothing listens on its port any more: every request is refused
    emergency(client, app)
    opened = clock.now()
    run_until(app, clock, opened + timedelta(seconds=61))
    rows = pages(app)
    tier1 = [key for key in rows if key.startswith("0.0.sam")]
    assert sorted(tier1) == [f"0.0.sam.{c}.{n}" for c in ("sms", "voice") for n in range(1, 6)]
    assert {rows[key].status for key in tier1} == {"error"}
    tier2 = rows["0.1.casey.sms.1"].sent_at
    assert tier2 is not None
    print(f"API away: Tier 1 given up and Tier 2 paged {(tier2 - opened).total_seconds()} s in")
    assert tier2 - opened <= timedelta(seconds=61)  # not the step's 5 minutes
    said = notices(app)
    assert any("the sms page to sam failed: gave up after 5 attempt(s)" in n for n in said), said
    assert any("step 1 of pass 1: no page could go out" in n for n in said), said


@pytest.fixture
def app_without_caller_id(
    database_url: str, twilio_api: FakeTwilioApi, clock: ManualClock, tmp_path: Path
) -> Iterator[Flask]:
    """The app with no TWILIO_FROM_NUMBER: no page can go out."""
    config = app_config(
        database_url,
        twilio_api.base_url,
        VOICELINE_SPOOL_DIR=str(tmp_path / "spool"),
        TWILIO_FROM_NUMBER="",
    )
    app = create_app(config, clock=clock)
    yield app
    quiet(app)


def test_no_caller_id_gives_up_at_once_through_every_step_and_tells_the_admins(
    app_without_caller_id: Flask, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    app = app_without_caller_id
    # Neither TWILIO_FROM_NUMBER nor the directory's emergency number: no caller ID at all.
    load_text(app, desk().replace('  emergency_number: "+15035550100"\n', ""))
    emergency(app.test_client(), app)
    assert twilio_api.requests_to("Messages.json") == []  # nothing could be requested
    assert state(app).status == "exhausted"  # every step tried at once, none retried
    assert incident(app).next_due_at is None
    said = notices(app)
    assert any("no caller ID" in n for n in said), said
    assert any("nobody acknowledged" in n or "nobody could be paged" in n for n in said), said
    failed = [r for r in _rows(app) if r.kind == "page_send_failed"]
    assert {r.detail["temporary"] for r in failed} == {False}
    assert {r.detail["key"].split(".")[2] for r in failed} == {"sam", "casey", "morgan"}


def _rows(app: Flask) -> list[IncidentEvent]:
    from voiceline import extensions

    with extensions.database(app).session() as session:
        return list(session.query(IncidentEvent).order_by(IncidentEvent.id))


def test_step_give_up_uses_the_analyst_on_call_next(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_text(app, desk(tier2="[]"))  # Tier 2 nobody: straight to management
    twilio_api.fail_next("sms", to=SAM, status=400, code=21211)
    twilio_api.fail_next("call", to=SAM, status=400, code=21211)
    emergency(client, app)
    assert len(sent(twilio_api, "sms", MORGAN)) == 1
    assert state(app).step == 2
