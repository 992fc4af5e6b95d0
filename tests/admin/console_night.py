"""A night on the example desk, with something on every admin page: the fixture of the
every-page check and of the README's console screenshots.

The example desk has its service zone set to Oregon's. At the conftest clock (Sun 22 Nov 2026 02:00 PST) Pat Jones leaves an emergency message
(with its audio in the fake Twilio, and a transcript) and the pager texts and calls Sam.
An admin logs in, puts Jordan on Tier 1 tomorrow night, notes and acknowledges the
incident; 40 minutes later, past the 30-minute promise, logs the callback (a breach
with a credit). Alice Smith's later message from London is still waiting, its clocks
running. An
alarm is open, another dealt with, and a caller's entry is parked in the spool. Every
change goes through the admin's own forms, so the audit log holds real entries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from simulator.rest import FakeTwilioApi
from tests.admin_helpers import create_admin, log_in, post_form
from tests.conftest import EXAMPLE_DIRECTORY
from tests.escalation_helpers import PAT, load_text, quiet, settled
from tests.incident_pages_helpers import latest_incident_id, leave_message
from voiceline import extensions
from voiceline.admin.models import AdminNotice
from voiceline.clock import ManualClock
from voiceline.line.spool import PARKED

ALICE = "+442079460321"  # Thames Print, London: 4 h to call back, 07:00-23:00 cover
ZONE = "America/Los_Angeles"
SAID = "Our server room is flooded and nobody can log in."


@dataclass(frozen=True)
class Night:
    """What the night left behind, for building the pages' addresses."""

    breached: int  # Pat's incident: called back late
    waiting: int  # Alice's: still open, its clocks running


def a_night(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> Night:
    """Play the night described above; leave ``client`` logged in as the admin."""
    # The example desk, with the service's own zone: the audit log and alarms are in it.
    load_text(
        app,
        EXAMPLE_DIRECTORY.read_text().replace("service:\n", f"service:\n  time_zone: {ZONE}\n", 1),
    )
    database = extensions.database(app)
    create_admin(database)
    leave_message(client, twilio_api, PAT, said=SAID, seconds=9, transcript=SAID)
    breached = latest_incident_id(app)
    settled(app, breached)
    quiet(app)
    log_in(client)
    tier1 = "/admin/rotations/tier1"
    override = {
        "analyst": "jordan",
        "replaces": "",
        "start": "2026-11-23T18:00",
        "end": "2026-11-24T06:00",
        "note": "swapped with Sam",
    }
    assert post_form(client, f"{tier1}/overrides", override, page=tier1).status_code == 302
    incident = f"/admin/incidents/{breached}"
    note = {"text": "Called Pat's mobile, no answer."}
    assert post_form(client, f"{incident}/note", note, page=incident).status_code == 302
    ack = {"analyst": "sam"}
    assert post_form(client, f"{incident}/acknowledge", ack, page=incident).status_code == 302
    quiet(app)
    clock.advance(timedelta(minutes=10))
    leave_message(client, twilio_api, ALICE, said="The print server is down.", seconds=5)
    waiting = latest_incident_id(app)
    settled(app, waiting)
    quiet(app)
    clock.advance(timedelta(minutes=30))
    sla = f"/admin/sla/incidents/{breached}/callback"
    assert post_form(client, sla, {"at": ""}, page="/admin/sla").status_code == 302
    quiet(app)
    _alarms(app, breached)
    _parked_entry(app)
    return Night(breached=breached, waiting=waiting)


def _alarms(app: Flask, incident_id: int) -> None:
    """One alarm open, one dealt with."""
    now = extensions.clock(app).now()
    with extensions.database(app).session() as session:
        session.add_all(
            [
                AdminNotice(
                    at=now - timedelta(minutes=5),
                    incident_id=incident_id,
                    kind="page_failed",
                    message="The text to Sam Okafor failed for good: unreachable handset.",
                ),
                AdminNotice(
                    at=now - timedelta(minutes=50),
                    kind="twilio_unreachable",
                    message="Twilio did not answer for 2 minutes.",
                    resolved_at=now - timedelta(minutes=45),
                ),
            ]
        )


def _parked_entry(app: Flask) -> None:
    """A caller's message that could not be stored, parked for an admin (as the spool does)."""
    spool = Path(extensions.services(app).settings.spool_dir)
    folder = spool / PARKED
    folder.mkdir(parents=True, exist_ok=True)
    at = extensions.clock(app).now() - timedelta(minutes=20)
    name = f"{at.strftime('%Y%m%dT%H%M%S%f')}-{'0123456789abcdef' * 2}.json"
    entry = {
        "kind": "recording",
        "spooled_at": at.isoformat(),
        "priority": "emergency",
        "form": {"CallSid": "CA" + "5" * 32, "From": "+14155550144"},
    }
    (folder / name).write_text(json.dumps(entry), "utf-8")
    (folder / name).with_suffix(".reason").write_text("the database refused the row\n", "utf-8")
