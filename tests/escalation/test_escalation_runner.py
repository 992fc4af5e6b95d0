"""The escalation runner against the fake Twilio API and a manual clock.

The emergency is left on the real line (signed webhooks), so the first pages go out
through the same hand-over the product uses; the worker's ``run_due`` is then called as
its tick would call it, with the clock moved by hand.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from escalation.dispatch import IN_DOUBT_AFTER
from escalation.due import run_due
from escalation.models import Page
from escalation.wiring import paging_for
from simulator.rest import FakeTwilioApi
from tests.conftest import post_signed
from tests.escalation_helpers import (
    CASEY,
    MORGAN,
    SAM,
    desk,
    emergency,
    events,
    incident,
    kinds,
    load_example,
    load_text,
    notices,
    pages,
    sent,
    settled,
    state,
    wait_for,
)
from tests.line_helpers import CallDriver
from voiceline import extensions
from voiceline.clock import ManualClock


def tick(app: Flask) -> int:
    """Run the worker's job once."""
    return run_due(paging_for(app))


def test_first_pages_go_out_at_once_with_what_the_analyst_needs(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_example(app)
    number = emergency(client, app)
    [sms] = sent(twilio_api, "sms", SAM)
    [call] = sent(twilio_api, "call", SAM)
    assert len(sent(twilio_api, "sms")) == 1 and len(sent(twilio_api, "call")) == 1
    body = sms.get("Body") or ""
    assert body.startswith(f"#{number} EMERGENCY Acme Dental - Pat Jones +1 503-555-0111")
    assert body.endswith(f"Reply {number}A ack, {number}C called back, {number}E escalate")
    assert len(body) <= 160 and body.isascii()
    base = "https://voiceline.example.test/twilio"
    assert sms.get("StatusCallback") == f"{base}/status/page/{number}/0.0.sam.sms.1"
    assert call.get("Url") == f"{base}/page/{number}/0.0.sam.voice.1"
    assert call.get("MachineDetection") == "DetectMessageEnd"
    assert call.get("AsyncAmdStatusCallback") == f"{base}/page/{number}/0.0.sam.voice.1/amd"
    row = incident(app, number)
    assert row.policy_snapshot is not None and row.policy_snapshot["steps"][0]["delay"] == "5m"
    assert row.next_due_at == clock.now() + timedelta(minutes=5)
    assert {p.status for p in pages(app, number).values()} == {"accepted"}
    log = kinds(app, number)
    assert log.index("handed_over_to_paging") < log.index("escalation_started")
    assert log.count("page_sent") == 2


def test_next_tier_is_paged_when_the_step_is_due_and_not_before(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_example(app)
    emergency(client, app)
    clock.advance(timedelta(minutes=4, seconds=59))
    tick(app)
    assert sent(twilio_api, "sms", CASEY) == []
    clock.advance(timedelta(seconds=1))
    tick(app)
    tick(app)  # a second tick at the same moment changes nothing
    assert len(sent(twilio_api, "sms", CASEY)) == 1
    assert len(sent(twilio_api, "call", CASEY)) == 1
    assert len(sent(twilio_api, "sms", SAM)) == 1  # Tier 1 is not paged again
    assert incident(app).next_due_at == clock.now() + timedelta(minutes=5)


def test_overdue_step_fires_once_when_the_worker_comes_back(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_example(app)
    emergency(client, app)
    clock.advance(timedelta(minutes=12))  # the worker was down past two step deadlines
    tick(app)
    tick(app)
    assert len(sent(twilio_api, "sms", CASEY)) == 1
    assert sent(twilio_api, "sms", MORGAN) == []  # the next tier gets its full step
    assert incident(app).next_due_at == clock.now() + timedelta(minutes=5)


def test_a_policy_edited_during_an_escalation_does_not_change_it(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_text(app, desk())
    emergency(client, app)
    edited = desk(
        "      - {targets: [{on_call: tier1}], delay: 1m}\n"
        "      - {targets: [{on_call: management}], delay: 1m}"
    )
    load_text(app, edited)
    clock.advance(timedelta(minutes=1))
    tick(app)
    assert sent(twilio_api, "sms", MORGAN) == []
    clock.advance(timedelta(minutes=4))
    tick(app)
    assert len(sent(twilio_api, "sms", CASEY)) == 1
    assert [s.delay for s in state(app).policy.steps] == [timedelta(minutes=m) for m in (5, 5, 10)]


def test_a_step_that_resolves_to_nobody_is_skipped_at_once(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_text(app, desk(tier2="[]"))
    emergency(client, app)
    clock.advance(timedelta(minutes=5))
    tick(app)
    assert len(sent(twilio_api, "sms", MORGAN)) == 1  # at 5 minutes, not 10
    assert "step_skipped" in kinds(app)
    assert incident(app).next_due_at == clock.now() + timedelta(minutes=10)


def test_seconds_precision_delays(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_text(
        app,
        desk(
            "      - {targets: [{on_call: tier1}], channels: sms, delay: 90s}\n"
            "      - {targets: [{on_call: tier2}], channels: sms, delay: PT2M}"
        ),
    )
    emergency(client, app)
    clock.advance(timedelta(seconds=89))
    tick(app)
    assert sent(twilio_api, "sms", CASEY) == []
    clock.advance(timedelta(seconds=1))
    tick(app)
    assert len(sent(twilio_api, "sms", CASEY)) == 1


def test_twilio_500_is_retried_within_the_step(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_example(app)
    twilio_api.fail_next("sms", to=SAM, status=500, code=20500)
    emergency(client, app)
    attempts = [r for r in twilio_api.requests_to("Messages.json") if r.get("To") == SAM]
    assert [r.status for r in attempts] == [500]
    assert incident(app).next_due_at == clock.now() + timedelta(seconds=1)
    clock.advance(timedelta(seconds=1))
    tick(app)
    attempts = [r for r in twilio_api.requests_to("Messages.json") if r.get("To") == SAM]
    assert [r.status for r in attempts] == [500, 201]
    assert (attempts[1].get("StatusCallback") or "").endswith("/0.0.sam.sms.2")
    rows = pages(app)
    assert rows["0.0.sam.sms.1"].status == "error" and rows["0.0.sam.sms.2"].status == "accepted"
    assert "page_retry" in kinds(app)


def test_an_invalid_number_for_sms_falls_back_to_voice(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi
) -> None:
    load_text(app, desk("      - {targets: [{on_call: tier1}], channels: sms, delay: 5m}"))
    twilio_api.fail_next("sms", to=SAM, status=400, code=21211)
    emergency(client, app)
    assert len(sent(twilio_api, "call", SAM)) == 1
    assert pages(app)["0.0.sam.sms.1"].error_code == 21211
    assert "fallback" in kinds(app)


def test_pages_to_one_number_are_spaced_out_never_dropped(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_example(app)
    emergency(client, app)
    second = CallDriver(client, "+442079460321")  # Thames Print: another customer, same tier
    second.dial()
    second.press("1")
    second.leave_message()
    queued = settled(app, 2)
    assert {p.status for p in queued.values()} == {"queued"}
    assert queued["0.0.sam.sms.1"].sent_at == clock.now() + timedelta(seconds=3)
    assert queued["0.0.sam.voice.1"].sent_at == clock.now() + timedelta(seconds=20)
    clock.advance(timedelta(seconds=3))
    tick(app)
    assert len(sent(twilio_api, "sms", SAM)) == 2 and len(sent(twilio_api, "call", SAM)) == 1
    clock.advance(timedelta(seconds=17))
    tick(app)
    assert len(sent(twilio_api, "call", SAM)) == 2
    throttled = [d for k, d in events(app, 2) if k == "page_queued" and "throttled" in d]
    assert len(throttled) == 2


def test_a_page_in_doubt_is_settled_by_its_status_callback(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_example(app)
    emergency(client, app)
    sid = pages(app)["0.0.sam.sms.1"].provider_sid
    assert sid is not None
    crashed_after_claim(app, "0.0.sam.sms.1")
    status = {"MessageSid": sid, "MessageStatus": "sent", "To": SAM, "From": "+15035550100"}
    assert post_signed(client, "/twilio/status/page/1/0.0.sam.sms.1", status).status_code == 204
    clock.advance(IN_DOUBT_AFTER + timedelta(seconds=10))
    tick(app)
    assert len(sent(twilio_api, "sms", SAM)) == 1
    assert pages(app)["0.0.sam.sms.1"].provider_sid == sid
    assert "page_in_doubt" not in kinds(app)


def test_a_page_in_doubt_without_evidence_is_sent_again(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_example(app)
    emergency(client, app)
    crashed_after_claim(app, "0.0.sam.sms.1")
    clock.advance(IN_DOUBT_AFTER - timedelta(seconds=1))
    tick(app)
    assert "page_in_doubt" not in kinds(app)  # a live sender may still be waiting on Twilio
    clock.advance(timedelta(seconds=1))
    tick(app)
    assert "page_in_doubt" in kinds(app)
    clock.advance(timedelta(seconds=5))
    tick(app)
    [first, again] = sent(twilio_api, "sms", SAM)
    assert (again.get("StatusCallback") or "").endswith("/0.0.sam.sms.2")


def crashed_after_claim(app: Flask, key: str) -> None:
    """Leave a page as a sender killed between its claim and Twilio's answer leaves it."""
    with extensions.database(app).session() as session:
        session.execute(
            update(Page)
            .where(Page.page_key == key)
            .values(status="sending", provider_sid=None, updated_at=get_clock_now(app))
        )


def get_clock_now(app: Flask):  # type: ignore[no-untyped-def]
    from voiceline import extensions

    return extensions.clock(app).now()


@pytest.mark.parametrize(("service", "before"), [("", 10), ("  remind_before: 15m", 15)])
def test_ack_without_callback_reminds_the_acknowledger_and_warns_the_next_tier(
    app: Flask,
    client: FlaskClient,
    twilio_api: FakeTwilioApi,
    clock: ManualClock,
    service: str,
    before: int,
) -> None:
    load_text(app, desk(service=service))
    emergency(client, app)
    reply = {"From": SAM, "To": "+15035550100", "Body": "A", "MessageSid": "SM" + "1" * 32}
    assert post_signed(client, "/twilio/sms", reply).status_code == 200
    deadline = incident(app).deadline_at
    assert deadline is not None
    clock.set(deadline - timedelta(minutes=before, seconds=1))
    tick(app)
    assert len(sent(twilio_api, "sms", SAM)) == 1
    clock.advance(timedelta(seconds=1))
    tick(app)
    reminder = sent(twilio_api, "sms", SAM)[-1].get("Body") or ""
    assert reminder.startswith("#1 REMINDER: Acme Dental still needs your callback due 02:30 PST")
    warning = sent(twilio_api, "sms", CASEY)[-1].get("Body") or ""
    assert warning.startswith("#1 HEADS UP: Acme Dental callback due 02:30 PST; Sam Okafor acked")
    assert len(sent(twilio_api, "call", SAM)) == 2 and len(sent(twilio_api, "call", CASEY)) == 1


def test_nobody_acknowledging_tells_the_admins(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_text(app, desk("      - {targets: [{on_call: tier1}], channels: sms, delay: 2m}"))
    emergency(client, app)
    clock.advance(timedelta(minutes=2))
    tick(app)
    assert state(app).status == "exhausted"
    assert incident(app).next_due_at is None
    assert any("nobody acknowledged" in n for n in notices(app))


def test_the_first_page_is_requested_as_the_message_is_saved_not_at_a_timer(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    # No worker runs here and the clock stands still: the first pages can only come from
    # the web process acting on the saved message at once. How soon, on a real stack, is
    # the bench's figure (``no storm: message to first page, p99``, target 250 ms).
    load_example(app)
    call = CallDriver(client, "+15035550111")
    call.dial()
    call.press("1")
    before = clock.now()
    started = time.monotonic()
    call.leave_message()  # the recording's action request: the message is saved
    wait_for(lambda: sent(twilio_api, "sms", SAM), timeout=10)
    sms_at = time.monotonic() - started
    wait_for(lambda: sent(twilio_api, "call", SAM), timeout=10)
    call_at = time.monotonic() - started
    print(f"first page requested {sms_at * 1000:.0f} ms (SMS), {call_at * 1000:.0f} ms (call)")
    assert clock.now() == before  # no timer was due: nothing moved the clock
