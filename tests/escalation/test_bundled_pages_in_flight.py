"""A text still on its way to Twilio counts as sent now, and a phone's rate runs from
when Twilio took a text, not from when a sender claimed it.

In a storm a sender claims a bundle of thirty pages, then spends seconds naming them and
reaching Twilio on a loaded machine. Counted from its claim, the phone's next text could
go as soon as three seconds after that claim: right behind the bundle, well under the
phone's one text a second. The storm bench saw two bundles reach Twilio 0.09 s apart.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from escalation.dispatch import send_due_pages
from escalation.due import run_due
from escalation.models import Page
from escalation.throttle import SMS_LIMITS
from escalation.wiring import paging_for
from simulator.rest import FakeTwilioApi
from tests.escalation.test_bundled_pages import CALLERS, MORE_CUSTOMERS, SMS_ONLY, named, sms_to
from tests.escalation_helpers import SAM, desk, emergency, load_text, wait_for
from voiceline import extensions
from voiceline.clock import ManualClock

SIXTH = "+15035550116"
SIXTH_CUSTOMER = f"""  - code: c6
    name: Customer 6
    time_zone: America/Los_Angeles
    plan: diamond
    escalation_policy: standard
    contacts:
      - {{name: Caller 6, phone: "{SIXTH}", role: primary}}
"""


def _sending_to(app: Flask, to: str) -> int:
    with extensions.database(app).session() as session:
        return len(
            session.scalars(
                select(Page.id).where(Page.to_number == to, Page.status == "sending")
            ).all()
        )


@pytest.mark.timeout(60)
def test_a_text_on_its_way_to_twilio_holds_the_next_one_to_that_phone(
    app: Flask, client: FlaskClient, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    load_text(app, desk(SMS_ONLY) + MORE_CUSTOMERS + SIXTH_CUSTOMER)
    first, *rest = [emergency(client, app, number) for number in CALLERS]
    assert len(sms_to(twilio_api, SAM)) == 1  # the first at once; four wait for the next slot

    # At the next slot a sender claims the four as one bundle; its request to Twilio
    # stalls before Twilio has it.
    gate = twilio_api.hold_next_create()
    clock.advance(SMS_LIMITS.min_gap)
    sender = threading.Thread(target=send_due_pages, args=(paging_for(app),))
    sender.start()
    try:
        wait_for(lambda: _sending_to(app, SAM) == len(rest))
        # More than the phone's gap after that claim, a sixth emergency pages Sam.
        clock.advance(SMS_LIMITS.min_gap + timedelta(milliseconds=100))
        sixth = emergency(client, app, SIXTH)
        assert sms_to(twilio_api, SAM) == sms_to(twilio_api, SAM)[:1], (
            "a text went to Sam while the bundle before it was still on its way to Twilio"
        )
    finally:
        gate.set()
        sender.join(timeout=20)
    assert not sender.is_alive()
    texts = sms_to(twilio_api, SAM)
    assert len(texts) == 2 and named(texts[1]) == set(rest)

    # Twilio took the bundle just now (the clock has not moved since): the phone's next
    # text is due a whole gap from then, not from the bundle's claim.
    clock.advance(SMS_LIMITS.min_gap - timedelta(milliseconds=1))
    run_due(paging_for(app))
    assert len(sms_to(twilio_api, SAM)) == 2
    clock.advance(timedelta(milliseconds=1))
    run_due(paging_for(app))
    texts = sms_to(twilio_api, SAM)
    assert len(texts) == 3 and named(texts[2]) == {sixth}
    assert first not in named(texts[2])
