"""Senders to one phone are serialized before either reads what the phone was sent.

``dispatch`` asks ``bundles.hold_for_rate`` whether a phone may be paged now, from the
pages already sent to it. Two senders (a web worker's background send and the worker)
that both read that history before either claimed a page would both send: two texts
milliseconds apart. So ``lock_destination`` must hold the lock before the history is read.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import make_url

from escalation.bundles import lock_destination
from escalation.dispatch import send_due_pages
from escalation.due import run_due
from escalation.models import Page
from escalation.throttle import SMS_LIMITS
from escalation.wiring import paging_for
from simulator.rest import FakeTwilioApi
from tests.escalation.test_bundled_pages import burst, sms_to  # noqa: F401 (burst: a fixture)
from tests.escalation_helpers import SAM
from voiceline import extensions
from voiceline.clock import ManualClock
from voiceline.db import Database


def test_on_sqlite_a_sender_holds_the_write_lock_before_reading_the_phones_history(
    database_url: str, database: Database
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL serializes senders with an advisory lock")
    with database.session() as session:
        session.execute(select(Page.id).limit(1))  # the sender's first look for due pages
        lock_destination(session, SAM, "sms")
        other = sqlite3.connect(make_url(database_url).database or "", timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")  # another sender's claim must wait
        finally:
            other.close()


@pytest.mark.usefixtures("burst")
def test_a_sender_that_waited_for_the_lock_sees_the_send_claimed_meanwhile(
    app: Flask, twilio_api: FakeTwilioApi, clock: ManualClock
) -> None:
    # The first emergency went to Sam at once; the other four wait for the phone's next
    # slot. When it comes, another sender (a web worker's background send) holds the
    # phone's lock and claims a page while this one waits for the lock; the claim is
    # stamped with the time it was made, later than this sender's first look at the clock.
    assert len(sms_to(twilio_api, SAM)) == 1
    clock.advance(SMS_LIMITS.min_gap)
    database = extensions.database(app)
    with database.session() as other:
        lock_destination(other, SAM, "sms")
        waiting = threading.Thread(target=send_due_pages, args=(paging_for(app),))
        waiting.start()
        time.sleep(0.5)  # it has read the clock and waits for the lock
        clock.advance(timedelta(milliseconds=500))
        claimed = other.scalars(
            select(Page).where(Page.to_number == SAM, Page.status == "queued").order_by(Page.id)
        ).first()
        assert claimed is not None
        claimed.status, claimed.sent_at = "sending", clock.now()
    waiting.join(timeout=20)
    assert not waiting.is_alive()
    # Half a second after the other sender's text, the phone's rate says: not yet.
    assert len(sms_to(twilio_api, SAM)) == 1
    # Twilio takes the other sender's text; it records the answer, as ``dispatch`` does.
    with database.session() as other:
        taken = other.get(Page, claimed.id)
        assert taken is not None and taken.status == "sending"
        taken.status, taken.provider_sid, taken.sent_at = "accepted", "SM" + "0" * 32, clock.now()
    clock.advance(SMS_LIMITS.min_gap)
    run_due(paging_for(app))
    assert len(sms_to(twilio_api, SAM)) == 2  # then the rest go, in one bundle
