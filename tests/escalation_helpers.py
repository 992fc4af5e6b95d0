"""Helpers for the escalation tests: the example desk, waiting on the fake API, reading rows.

At the conftest clock (Sunday 2026-11-22 02:00 in Oregon) the example directory has Sam
on call for Tier 1, Casey for Tier 2 and Morgan for management; Acme Dental's emergency
callback is due 30 minutes after the message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from escalation.models import Page
from escalation.state import EscalationState, state_from_dict
from simulator.resources import RecordedRequest
from simulator.rest import FakeTwilioApi
from tests.conftest import EXAMPLE_DIRECTORY
from tests.line_helpers import CallDriver
from voiceline import extensions
from voiceline.admin.models import AdminNotice
from voiceline.directory.checker import read_directory_file, read_directory_text
from voiceline.directory.loader import load_directory
from voiceline.incidents.models import Incident, IncidentEvent

PAT = "+15035550111"  # Acme Dental's authorized contact
ALEX = "+15035550201"
SAM = "+15035550202"  # Tier 1, on call
JORDAN = "+15035550203"
CASEY = "+15035550204"  # Tier 2, on call
MORGAN = "+15035550205"  # management
STRANGER = "+15035559999"

T = TypeVar("T")


def load_example(app: Flask) -> Flask:
    """Load the example directory into the app's database."""
    with extensions.database(app).session() as session:
        load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))
    return app


def load_text(app: Flask, text: str) -> Flask:
    """Load a directory given as YAML text."""
    with extensions.database(app).session() as session:
        load_directory(session, read_directory_text(text))
    return app


def wait_for(find: Callable[[], T | None], timeout: float = 3.0) -> T:
    """Poll until ``find`` returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = find()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing turned up within {timeout}s")
        time.sleep(0.005)


def sent(api: FakeTwilioApi, kind: str, to: str | None = None) -> list[RecordedRequest]:
    """Return the accepted SMS (``sms``) or call (``call``) requests, optionally to one number."""
    collection = "Messages.json" if kind == "sms" else "Calls.json"
    return [
        r
        for r in api.requests_to(collection)
        if r.status == 201 and (to is None or r.get("To") == to)
    ]


def wait_sent(api: FakeTwilioApi, kind: str, to: str, count: int = 1) -> list[RecordedRequest]:
    """Wait until ``count`` pages of a kind reached ``to``; return them."""
    return wait_for(lambda: (found := sent(api, kind, to)) and len(found) >= count and found)


def incident(app: Flask, incident_id: int = 1) -> Incident:
    """Return an incident row (detached)."""
    with extensions.database(app).session() as session:
        row = session.get(Incident, incident_id)
        assert row is not None
        return row


def state(app: Flask, incident_id: int = 1) -> EscalationState:
    """Return the incident's escalation state."""
    row = incident(app, incident_id)
    assert row.escalation_state is not None
    return state_from_dict(row.escalation_state)


def events(app: Flask, incident_id: int = 1) -> list[tuple[str, dict[str, Any]]]:
    """Return the incident's log as (kind, detail) pairs."""
    with extensions.database(app).session() as session:
        rows = session.scalars(
            select(IncidentEvent).filter_by(incident_id=incident_id).order_by(IncidentEvent.id)
        )
        return [(row.kind, dict(row.detail)) for row in rows]


def kinds(app: Flask, incident_id: int = 1) -> list[str]:
    """Return the kinds of the incident's log lines."""
    return [kind for kind, _ in events(app, incident_id)]


def pages(app: Flask, incident_id: int = 1) -> dict[str, Page]:
    """Return the incident's page rows by key."""
    with extensions.database(app).session() as session:
        rows = session.scalars(select(Page).filter_by(incident_id=incident_id))
        return {row.page_key: row for row in rows}


def notices(app: Flask) -> list[str]:
    """Return the admin notices' messages."""
    with extensions.database(app).session() as session:
        return list(session.scalars(select(AdminNotice.message).order_by(AdminNotice.id)))


def settled(app: Flask, incident_id: int = 1) -> dict[str, Page]:
    """Wait until the incident's escalation started and this process stopped sending."""
    from escalation.wiring import paging_for

    wait_for(lambda: _has_started(app, incident_id))
    assert paging_for(app).drain(), "paging did not finish"
    return pages(app, incident_id)


def quiet(app: Flask) -> None:
    """Wait until background sends (after webhooks) are done."""
    from escalation.wiring import paging_for

    assert paging_for(app).drain(), "paging did not finish"


def _has_started(app: Flask, incident_id: int) -> bool:
    """Return True once the incident's escalation started (or failed to)."""
    with extensions.database(app).session() as session:
        row = session.get(Incident, incident_id)
        return row is not None and (row.escalation_state is not None or row.next_due_at is None)


def emergency(client: FlaskClient, app: Flask, number: str = PAT) -> int:
    """Leave an emergency message on the line as ``number``; wait for the first pages."""
    call = CallDriver(client, number)
    call.dial()
    call.press("1")
    call.leave_message()
    with extensions.database(app).session() as session:
        incident_id = session.scalar(select(Incident.id).order_by(Incident.id.desc()).limit(1))
    assert incident_id is not None
    settled(app, incident_id)
    return incident_id


DESK = """\
service:
  name: Test desk
  emergency_number: "+15035550100"
{service}
plans:
  - code: diamond
    name: Diamond
    business_hours: mon-fri 08:00-16:30
    after_hours_cover: true
    cover_hours: 24x7
    callback_target: 30m
    targets:
      - {{metric: callback, priority: emergency, within: 30m, clock: wall}}
analysts:
  - {{code: alex, name: Alex Rivera, phone: "+15035550201"}}
  - {{code: sam, name: Sam Okafor, phone: "+15035550202"}}
  - {{code: casey, name: Casey Nguyen, phone: "+15035550204"}}
  - {{code: morgan, name: Morgan Blake, phone: "+15035550205"}}
rotations:
  - {{code: tier1, name: Tier 1, time_zone: America/Los_Angeles, shift: 1w,
     handoff: 2026-01-05T08:00, members: [sam]}}
  - {{code: tier2, name: Tier 2, time_zone: America/Los_Angeles, shift: 1w,
     handoff: 2026-01-05T08:00, members: {tier2}}}
  - {{code: management, name: Management, time_zone: America/Los_Angeles, shift: 1w,
     handoff: 2026-01-05T08:00, members: [morgan]}}
policies:
  - code: standard
    name: Test policy
    repeat: {repeat}
    steps:
{steps}
customers:
  - code: acme-dental
    name: Acme Dental
    time_zone: America/Los_Angeles
    plan: diamond
    escalation_policy: standard
    contacts:
      - {{name: Pat Jones, phone: "+15035550111", role: primary}}
"""

THREE_TIERS = """\
      - {targets: [{on_call: tier1}], channels: [sms, voice], delay: 5m}
      - {targets: [{on_call: tier2}], channels: [sms, voice], delay: 5m}
      - {targets: [{on_call: management}], channels: [sms, voice], delay: 10m}"""


def desk(
    steps: str = THREE_TIERS, *, tier2: str = "[casey]", repeat: int = 0, service: str = ""
) -> str:
    """Return a small directory (always-on rotations, Acme Dental) with these policy steps."""
    return DESK.format(steps=steps, tier2=tier2, repeat=repeat, service=service)
