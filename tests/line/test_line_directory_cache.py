"""The directory a call reads is kept in each process, and an edit is heard on the next call.

The app keeps callers, plans and the service block in memory and reads only the
directory's version once a call (``voiceline.customers.directory_cache``). These tests
edit the directory the ways the product does, through another engine (another process,
as the admin's web worker or ``voiceline directory load`` would be), and call again.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from line_desk import LEE, PAT, STRANGER
from sqlalchemy import select, update

from tests.conftest import EXAMPLE_DIRECTORY
from tests.line_helpers import CallDriver, TwiML
from voiceline.customers.models import Contact, Customer
from voiceline.db import Database
from voiceline.directory.checker import read_directory_file
from voiceline.directory.dump import service_entry
from voiceline.directory.loader import load_directory
from voiceline.directory.service_edits import save_service, service_form_values


def _dial(client: Any, number: str) -> TwiML:
    return CallDriver(client, number, call_sid=f"CA{uuid.uuid4().hex}").dial()


@pytest.fixture
def elsewhere(database_url: str):
    """Another process's view of the same database."""
    other = Database(database_url)
    yield other
    other.dispose()


def test_an_admins_service_edit_is_heard_on_the_next_call(line, client, elsewhere, clock) -> None:
    assert "the Cascade IT Support emergency line" in _dial(client, PAT).says()
    assert "the Cascade IT Support emergency line" in _dial(client, PAT).says()  # kept
    with elsewhere.session() as session:
        form = service_form_values(service_entry(session))
        form["name"] = "Harbor Support"
        save_service(session, form, actor="admin", now=clock.now())
    assert "the Harbor Support emergency line" in _dial(client, PAT).says()
    assert "the Harbor Support emergency line" in _dial(client, STRANGER).says()


def test_a_contact_whose_authorization_is_taken_away_is_a_stranger_next_call(
    line, client, elsewhere
) -> None:
    assert _dial(client, PAT).has("Gather")  # Acme's emergency menu
    with elsewhere.session() as session:  # a bulk statement, as the directory loader writes
        session.execute(update(Contact).where(Contact.phone == PAT).values(is_authorized=False))
    answer = _dial(client, PAT)
    assert not answer.has("Gather")
    assert "could not match the number" in answer.says()


def test_a_customer_prompt_changed_by_the_unit_of_work_is_heard(line, client, elsewhere) -> None:
    _dial(client, PAT)
    with elsewhere.session() as session:
        acme = session.scalars(select(Contact).filter_by(phone=PAT)).one().customer
        acme.prompts = {"greeting": "Acme Dental's emergency line, thank you for calling."}
    assert "Acme Dental's emergency line" in _dial(client, PAT).says()


def test_reloading_the_directory_file_is_heard(line, client, elsewhere) -> None:
    _dial(client, PAT)
    with elsewhere.session() as session:
        session.execute(update(Customer).values(prompts={"greeting": "Changed by hand."}))
    assert "Changed by hand." in _dial(client, PAT).says()
    with elsewhere.session() as session:  # the file puts the default greeting back
        load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))
    assert "Changed by hand." not in _dial(client, PAT).says()


def test_an_answer_that_names_the_time_is_worked_out_on_every_call(line, client, clock) -> None:
    # The same caller, the same directory: only the words about the time may change.
    assert "We will call you back tomorrow morning at 8:00." in _dial(client, LEE).says()
    clock.advance(timedelta(hours=21))  # Monday 02:00 in New York, still before opening
    assert "We will call you back this morning at 8:00." in _dial(client, LEE).says()
