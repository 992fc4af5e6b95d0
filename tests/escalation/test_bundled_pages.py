"""A burst of emergencies paging one analyst: one page at once, then one bundle naming the rest."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from escalation.bundle_replies import acknowledge_all
from escalation.due import run_due
from escalation.models import Acknowledgement
from escalation.throttle import SMS_LIMITS
from escalation.wiring import paging_for
from simulator.rest import FakeTwilioApi
from tests.escalation.test_escalation_sms import text
from tests.escalation_helpers import CASEY, SAM, desk, emergency, events, load_text, pages, quiet
from tests.escalation_helpers import state as state_of
from voiceline import extensions
from voiceline.clock import ManualClock

SMS_ONLY = """\
      - {targets: [{on_call: tier1}], channels: sms, delay: 5m}
      - {targets: [{on_call: tier2}], channels: sms, delay: 5m}"""
CALLERS = ["+15035550111", "+15035550112", "+15035550113", "+15035550114", "+15035550115"]
MORE_CUSTOMERS = "".join(
    f"""  - code: c{n}
    name: Customer {n}
    time_zone: America/Los_Angeles
    plan: diamond
    escalation_policy: standard
    contacts:
      - {{name: Caller {n}, phone: "{number}", role: primary}}
"""
    for n, number in enumerate(CALLERS[1:], start=2)
)


def sms_to(api: FakeTwilioApi, to: str) -> list[str]:
    """Return the bodies of the SMS Twilio accepted for ``to``, in order."""
    return [
        str(r.get("Body"))
        for r in api.requests_to("Messages.json")
        if r.status == 201 and r.get("To") == to
    ]


def named(body: str) -> set[int]:
    """Return the incident numbers an SMS names."""
    return {int(n) for n in re.findall(r"#(\d+)", body)}


@pytest.fixture
def burst(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> list[int]:
    """Five customers leave emergencies at the same moment; each pages Sam (Tier 1) by SMS."""
    load_text(app, desk(SMS_ONLY) + MORE_CUSTOMERS)
    return [emergency(client, app, number) for number in CALLERS]


def test_a_burst_pages_once_at_once_then_one_bundle_names_the_rest(
    app: Flask, burst: list[int], twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    first, *rest = burst
    assert len(sms_to(twilio_api, SAM)) == 1  # no added delay for the first
    assert named(sms_to(twilio_api, SAM)[0]) == {first}
    clock.advance(SMS_LIMITS.min_gap - timedelta(milliseconds=1))
    run_due(paging_for(app))
    assert len(sms_to(twilio_api, SAM)) == 1  # not before the phone's rate allows
    clock.advance(timedelta(milliseconds=1))
    run_due(paging_for(app))
    bodies = sms_to(twilio_api, SAM)
    assert len(bodies) == 2
    assert bodies[1].startswith("4 new emergencies: ")
    assert f"Reply A to take all, {rest[0]}A for one" in bodies[1]
    assert named(bodies[1]) == set(rest)  # none dropped, none twice
    clock.advance(timedelta(minutes=1))
    run_due(paging_for(app))
    assert len(sms_to(twilio_api, SAM)) == 2  # nothing left to send


def test_each_incident_log_names_the_page_that_reached_it(
    app: Flask, burst: list[int], twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    clock.advance(SMS_LIMITS.min_gap)
    run_due(paging_for(app))
    first, *rest = burst
    [single_sid] = [p.provider_sid for p in pages(app, first).values()]
    [bundle_sid] = [p.provider_sid for p in pages(app, rest[0]).values()]
    assert single_sid and bundle_sid and single_sid != bundle_sid
    [single] = [d for k, d in events(app, first) if k == "page_sent"]
    assert single["sid"] == single_sid and "bundle" not in single
    for incident_id in rest:
        [sent] = [d for k, d in events(app, incident_id) if k == "page_sent"]
        assert sent["sid"] == bundle_sid
        assert sent["bundle"] == rest
        assert {p.status for p in pages(app, incident_id).values()} == {"accepted"}


def test_a_bare_a_acknowledges_every_incident_that_reached_the_phone(
    app: Flask, burst: list[int], twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    clock.advance(SMS_LIMITS.min_gap)
    run_due(paging_for(app))
    reply = acknowledge_all(paging_for(app), SAM)
    assert reply.startswith("5 yours: ")
    assert named(reply) == set(burst)
    with extensions.database(app).session() as session:
        acks = {a.incident_id: a.page_id for a in session.scalars(select(Acknowledgement))}
    for incident_id in burst:  # each names the text that reached Sam: its own, or the bundle
        [page] = pages(app, incident_id).values()
        assert acks[incident_id] == page.id
    assert all(state_of(app, i).acknowledged_by == "sam" for i in burst)
    quiet(app)
    clock.advance(timedelta(minutes=5))
    run_due(paging_for(app))
    assert sms_to(twilio_api, CASEY) == []  # every escalation stopped
    assert acknowledge_all(paging_for(app), SAM).startswith("Nothing is waiting")


def test_a_bare_a_leaves_pages_not_sent_yet_to_the_next_bundle(
    app: Flask, burst: list[int], twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    first, *rest = burst
    assert named(acknowledge_all(paging_for(app), SAM)) == {first}
    assert all(state_of(app, i).acknowledged_by is None for i in rest)


def test_acknowledging_one_leaves_the_others_escalating(
    app: Flask,
    client: FlaskClient,
    burst: list[int],
    twilio_api: FakeTwilioApi,
    clock: ManualClock,
) -> None:
    clock.advance(SMS_LIMITS.min_gap)
    run_due(paging_for(app))
    taken = burst[2]
    assert text(client, SAM, f"{taken}A").startswith(f"#{taken} is yours.")
    quiet(app)
    clock.advance(timedelta(minutes=5))
    run_due(paging_for(app))
    clock.advance(SMS_LIMITS.min_gap)
    run_due(paging_for(app))
    bodies = sms_to(twilio_api, CASEY)
    assert len(bodies) == 2  # Tier 2 gets one page at once, one bundle for the rest
    assert set().union(*(named(b) for b in bodies)) == set(burst) - {taken}
    assert state_of(app, taken).acknowledged_by == "sam"
