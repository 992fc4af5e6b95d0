"""Every place paging gives up raises an alarm: an admin notice and /healthz 'degraded'.

The give-up points (see ``escalation.alarm_points``), each driven through the real line
(signed webhooks), the fake Twilio API on loopback and the worker's periodic tasks run
by hand on a manual clock:

- a permanent error for a number; retries spent on temporary errors;
- every step of the policy empty; no policy at all;
- the policy run out with nobody acknowledging (the engine's own notice);
- no caller ID (README configuration, directory without an emergency number);
- Twilio's API unreachable for a minute (nothing listening on its port), and back.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from escalation.tasks import worker_tasks
from escalation.wiring import settle
from simulator.rest import FakeTwilioApi
from tests.alarms.alarm_helpers import (
    alarms,
    free_port,
    health,
    make_app,
    open_kinds,
    readme_env,
)
from tests.conftest import LINE_NUMBER, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, post_signed
from tests.escalation_helpers import SAM, desk, emergency, load_text, quiet, sent
from voiceline import extensions
from voiceline.clock import ManualClock

SMS_ONLY = "      - {targets: [{on_call: tier1}], channels: [sms], delay: 5m}"
CHRIS = "+15035550112"
SECOND_CUSTOMER = """\
  - code: bayside-cafe
    name: Bayside Cafe
    time_zone: America/Los_Angeles
    plan: diamond
    escalation_policy: standard
    contacts:
      - {name: Chris Moreno, phone: "+15035550112", role: primary}
"""
EMPTY_STEPS = """\
      - {targets: [{on_call: tier2}], channels: [sms, voice], delay: 5m}
      - {targets: [{rotation: tier2}], channels: [voice], delay: 5m}"""


def worker_runs(app: Flask) -> None:
    """Run each of the worker's periodic tasks once, as its scheduler would."""
    for _name, _seconds, run in worker_tasks(extensions.services(app), None):
        run()


def test_a_healthy_desk_reports_ok(app: Flask, client: FlaskClient, twilio_api) -> None:
    load_text(app, desk())
    emergency(client, app)
    worker_runs(app)
    assert alarms(app) == []
    assert health(client) == {"status": "ok", "database": "ok"}


def test_a_permanent_error_for_a_number_raises_an_alarm(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi
) -> None:
    load_text(app, desk(SMS_ONLY))
    twilio_api.fail_next("sms", to=SAM, status=400, code=21211)
    emergency(client, app)
    [alarm] = alarms(app)
    assert alarm.kind == "page_failed" and alarm.incident_id == 1
    assert alarm.analyst_id is not None  # about Sam's number: an admin must fix it
    assert alarm.message == (
        "incident 1: the sms page to sam failed: Twilio error 21211 (invalid 'To' phone number)"
    )
    assert len(sent(twilio_api, "call", SAM)) == 1  # the engine still fell back to voice
    body = health(client)
    assert body["status"] == "degraded" and body["database"] == "ok"
    assert body["reasons"] == [f"page_failed: {alarm.message}"]


def test_spent_retries_raise_an_alarm(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_text(app, desk(SMS_ONLY))
    twilio_api.fail_next("sms", to=SAM, status=500, code=20500, times=5)
    emergency(client, app)
    assert alarms(app) == []  # a temporary error is retried first, not alarmed
    for wait in (1, 4, 15, 40):  # the engine's backoff: five tries in about a minute
        clock.advance(timedelta(seconds=wait))
        worker_runs(app)
    [alarm] = alarms(app)
    assert alarm.kind == "page_failed"
    assert alarm.message == (
        "incident 1: the sms page to sam failed: gave up after 5 attempt(s), "
        "the last: Twilio error 20500"
    )
    assert health(client)["status"] == "degraded"


def test_every_step_empty_raises_nobody_paged(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi
) -> None:
    load_text(app, desk(EMPTY_STEPS, tier2="[]"))
    emergency(client, app)
    assert sent(twilio_api, "sms") == [] and sent(twilio_api, "call") == []
    kinds = open_kinds(app)
    assert "nobody_paged" in kinds
    [nobody] = [a for a in alarms(app) if a.kind == "nobody_paged"]
    assert nobody.message == (
        "incident 1: nobody could be paged: every step of policy 'Test policy' "
        "found nobody reachable"
    )
    assert any(r.startswith("nobody_paged: incident 1") for r in health(client)["reasons"])


def test_no_policy_at_all_raises_nobody_paged(app: Flask, client: FlaskClient) -> None:
    # Two policies, neither the customer's nor named default: none applies.
    two = "  - {code: second, name: Second, steps: [{targets: [{on_call: tier1}], delay: 5m}]}\n"
    text = desk().replace("    escalation_policy: standard\n", "")
    load_text(app, text.replace("customers:\n", two + "customers:\n"))
    emergency(client, app)
    [alarm] = alarms(app)
    assert alarm.kind == "nobody_paged"
    assert alarm.message == "incident 1: no escalation policy applies: nobody was paged"
    assert health(client)["reasons"] == [f"nobody_paged: {alarm.message}"]


def test_a_policy_run_out_raises_the_engines_alarm(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_text(app, desk(SMS_ONLY))
    emergency(client, app)
    clock.advance(timedelta(minutes=5))
    worker_runs(app)
    [alarm] = alarms(app)
    assert alarm.kind == "exhausted"
    assert alarm.message == "incident 1: nobody acknowledged after 1 pass(es) of the policy"
    assert health(client)["reasons"] == [f"exhausted: {alarm.message}"]


def test_an_acknowledgement_ends_the_incidents_alarms(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_text(app, desk(SMS_ONLY))
    emergency(client, app)
    clock.advance(timedelta(minutes=5))
    worker_runs(app)
    assert health(client)["status"] == "degraded"
    reply = {"MessageSid": "SM" + "5" * 32, "From": SAM, "To": LINE_NUMBER, "Body": "1A"}
    response = post_signed(client, "/twilio/sms", reply)
    assert "is yours" in "".join(ET.fromstring(response.data).itertext())
    quiet(app)
    assert [a.is_open for a in alarms(app)] == [False]
    assert health(client) == {"status": "ok", "database": "ok"}


def test_no_caller_id_raises_one_alarm_for_every_page(
    database_url: str, twilio_api: FakeTwilioApi, clock: ManualClock, tmp_path: Path
) -> None:
    app = make_app(readme_env(database_url, twilio_api.base_url, tmp_path), clock)
    client = app.test_client()
    try:
        # Before any directory: the process runs, and says why it cannot page yet.
        body = health(client)
        assert body["status"] == "degraded"
        assert body["reasons"][0].startswith("no_caller_id: pages have no caller ID")
        assert "no directory is loaded yet" in body["reasons"][0]
        load_text(app, desk().replace('  emergency_number: "+15035550100"\n', ""))
        emergency(client, app)
        assert [r for r in twilio_api.requests if r.method == "POST"] == []  # none sent
        global_alarms = [a for a in alarms(app) if a.kind == "no_caller_id"]
        assert len(global_alarms) == 1 and global_alarms[0].incident_id is None
        assert global_alarms[0].message == (
            "no page can be sent: pages have no caller ID: TWILIO_FROM_NUMBER is unset "
            "and the directory has no service.emergency_number; set one of them"
        )
        assert "page_failed" not in open_kinds(app)  # Twilio's fault, not Sam's number
        reasons = health(client)["reasons"]
        assert reasons[0].startswith("no_caller_id: pages have no caller ID")
        assert f"no_caller_id: {global_alarms[0].message}" in reasons
    finally:
        settle(app)


def test_twilio_unreachable_for_a_minute_raises_an_alarm_that_ends_when_pages_go_out(
    database_url: str, clock: ManualClock, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens here yet: every request is refused at once
    env = readme_env(database_url, f"http://127.0.0.1:{port}", tmp_path)
    app = make_app({**env, "TWILIO_FROM_NUMBER": LINE_NUMBER}, clock)
    client = app.test_client()
    try:
        load_text(app, desk() + SECOND_CUSTOMER)
        emergency(client, app)
        for _ in range(11):  # 55 seconds of retries, fallbacks and next steps
            clock.advance(timedelta(seconds=5))
            worker_runs(app)
        assert "twilio_unreachable" not in open_kinds(app)
        clock.advance(timedelta(seconds=5))
        worker_runs(app)
        [down] = [a for a in alarms(app) if a.kind == "twilio_unreachable"]
        assert down.is_open and down.incident_id is None
        assert down.message == (
            "Twilio has accepted no page since 2026-11-22 10:00:00 UTC: "
            "attempts keep failing without an answer"
        )
        assert f"twilio_unreachable: {down.message}" in health(client)["reasons"]
        worker_runs(app)
        assert len([a for a in alarms(app) if a.kind == "twilio_unreachable"]) == 1

        with FakeTwilioApi(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, port=port) as api:
            clock.advance(timedelta(minutes=1))
            emergency(client, app, CHRIS)  # the next emergency is paged: Twilio is back
            assert len(sent(api, "sms", SAM)) == 1
            worker_runs(app)
            assert [a.is_open for a in alarms(app) if a.kind == "twilio_unreachable"] == [False]
            settle(app)
    finally:
        settle(app)


def test_without_twilio_credentials_health_says_nobody_is_paged(
    database_url: str, clock: ManualClock, tmp_path: Path
) -> None:
    env = readme_env(database_url, "https://api.twilio.com", tmp_path)
    del env["TWILIO_ACCOUNT_SID"], env["TWILIO_AUTH_TOKEN"]
    app = make_app(env, clock)
    body = health(app.test_client())
    assert body["status"] == "degraded"
    assert body["reasons"] == [
        "no_twilio: no Twilio credentials (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN): pages "
        "are only written to the log and nobody is paged"
    ]
