"""A burst of emergencies paging one analyst by voice, with the real app and worker.

Three customers leave messages at once. Alex (Tier 1) gets the first incident's call at
once; the worker sends one call for the other two when the phone's rate allows, and 1 on
that call takes them both. Real processes keep real time, so the steps here wait a
minute: long enough for the bundled call, which waits out the voice rate, to come first.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from escalation.models import Acknowledgement
from escalation.throttle import VOICE_LIMITS
from tests.e2e_stack import (  # noqa: F401  (e2e_fixture: a fixture)
    ALEX,
    E2E_DIRECTORY,
    JORDAN,
    LINE,
    PAT,
    EndToEnd,
    e2e_fixture,
)

pytest_plugins = ["simulator.testing"]
pytestmark = pytest.mark.e2e

OTHERS = [("Customer 2", "Caller 2", "+15035550112"), ("Customer 3", "Caller 3", "+15035550113")]


@pytest.fixture(name="e2e_directory")
def bundled_directory(tmp_path: Path) -> Path:
    """The end-to-end desk, voice pages only, steps a minute long, and two more customers."""
    text = E2E_DIRECTORY.read_text(encoding="utf-8")
    text = text.replace("channels: [sms, voice], delay: 4s", "channels: [voice], delay: 60s")
    for n, (customer, caller, number) in enumerate(OTHERS, start=2):
        text += (
            f"  - code: c{n}\n    name: {customer}\n    time_zone: America/Los_Angeles\n"
            f"    plan: diamond\n    escalation_policy: standard\n    contacts:\n"
            f'      - {{name: {caller}, phone: "{number}", role: primary}}\n'
        )
    path = tmp_path / "bundled.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_burst_gets_one_call_at_once_then_one_bundled_call_whose_1_takes_the_rest(
    e2e: EndToEnd,
) -> None:
    callers = [(PAT, "Pat Jones"), *((number, name) for _, name, number in OTHERS)]
    for number, name in callers:
        call = e2e.sim.phone(number, name).dial(LINE)
        call.press("1").say(f"{name}: the office network is down").wait_out()
        call.expect_heard("will call you back within 30 minutes")
    first, *rest = [incident.id for incident in e2e.incidents()]
    alex = e2e.sim.phone(ALEX, "Alex Rivera")
    single = alex.expect_call(from_=LINE).answer()
    single.expect_heard(f"Incident {first}").press("1").expect_heard("is acknowledged")

    bundled = alex.expect_call(from_=LINE, timeout=VOICE_LIMITS.min_gap.total_seconds() + 10)
    bundled.answer()
    bundled.expect_heard(f"{len(rest)} emergencies")
    for (customer, name, _), incident_id in zip(OTHERS, rest, strict=True):
        bundled.expect_heard(f"Incident {incident_id}, for {customer}")
        bundled.expect_heard(f"[recording] {name}: the office network is down")
    bundled.press("1").expect_heard(f"All {len(rest)} are acknowledged")
    assert bundled.is_ended  # the call says who to call back and hangs up

    acks = e2e.wait_until(
        lambda s: (found := list(s.scalars(select(Acknowledgement)))) and len(found) == 3 and found,
        what="three acknowledgements",
    )
    assert sorted(a.incident_id for a in acks) == [first, *rest]
    assert all(a.via == "voice" and a.page_id is not None for a in acks)  # the page that reached it
    assert all(i.acknowledged_at is not None for i in e2e.incidents())
    time.sleep(2)
    assert not e2e.sim.phone(JORDAN).calls  # nobody escalated
