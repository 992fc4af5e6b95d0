"""Senders to one phone are serialized before either reads what the phone was sent.

``dispatch`` asks ``bundles.hold_for_rate`` whether a phone may be paged now, from the
pages already sent to it. Two senders (a web worker's background send and the worker)
that both read that history before either claimed a page would both send: two texts
milliseconds apart. So ``lock_destination`` must hold the lock before the history is read.
"""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from escalation.bundles import lock_destination
from escalation.models import Page
from tests.escalation_helpers import SAM
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
