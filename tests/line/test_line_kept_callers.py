"""A caller the directory cache keeps is answered in one statement, and never wrongly.

The answer of a kept caller is worked out from memory and its call's row written on the
condition that the directory has not changed since and the caller has no open incident
(``voiceline.line.call_rows.store_first_call``). When either fails, or a retry of the
request already wrote the row, nothing is written and the caller is answered the long
way. Edits made by other processes are in ``test_line_directory_cache``; here, the
caller's own incidents and retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from line_desk import PAT, ROBIN, STRANGER, count, incidents
from sqlalchemy import event, select

from tests.line_helpers import CallDriver
from voiceline import extensions
from voiceline.line.models import Call


class Statements:
    """The SQL statements an engine runs while counting (transaction control left out)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.split()[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            self.seen.append(statement)

    def of(self, work: Any) -> list[str]:
        self.seen = []
        work()
        return list(self.seen)


@pytest.fixture
def statements(line: Flask) -> Iterator[Statements]:
    engine = extensions.database(line).engine
    seen = Statements()
    event.listen(engine, "before_cursor_execute", seen)
    yield seen
    event.remove(engine, "before_cursor_execute", seen)


def _row(line: Flask, call_sid: str) -> Call:
    with extensions.database(line).session() as session:
        return session.scalars(select(Call).filter_by(call_sid=call_sid)).one()


@pytest.mark.parametrize("number", [PAT, STRANGER, "Anonymous"])
def test_a_kept_caller_is_answered_in_one_statement(line, caller, statements, number) -> None:
    first = caller(number).dial()  # reads the directory and keeps the caller
    again = caller(number)
    seen = statements.of(again.dial)
    assert len(seen) == 1 and seen[0].startswith("INSERT INTO calls"), seen
    assert again.last is not None and again.last.says() == first.says()
    row = _row(line, again.call_sid)
    assert row.route == ("emergency_menu" if number == PAT else "unknown")
    assert row.incident_id is None


def test_a_kept_caller_with_an_emergency_open_hears_its_status(line, caller) -> None:
    first = caller(PAT)
    first.dial()
    first.press("1")
    first.leave_message()
    [incident] = incidents(line)
    again = caller(PAT)  # kept since the first call
    status = again.dial()
    assert "We received your message" in status.says()
    assert "add to your message" in status.says()
    row = _row(line, again.call_sid)
    assert (row.route, row.incident_id) == ("repeat", incident.id)


def test_a_colleagues_open_emergency_is_seen_by_a_kept_caller(line, caller) -> None:
    caller(ROBIN).dial()  # Robin is kept, then Pat, at the same customer, leaves one
    pat = caller(PAT)
    pat.dial()
    pat.press("1")
    pat.leave_message()
    again = caller(ROBIN)
    assert "We received your message" in again.dial().says()
    assert _row(line, again.call_sid).route == "repeat"


def test_a_kept_stranger_with_a_message_open_is_answered_by_number(line, caller) -> None:
    first = caller(STRANGER)
    first.dial()
    first.leave_message()
    [incident] = incidents(line)
    again = caller(STRANGER)
    again.dial()
    row = _row(line, again.call_sid)
    # The stranger's message is open: the answer is the long way's (not paged: no repeat).
    assert incident.priority not in ("emergency", "billable")
    assert row.route == "unknown"


def test_a_kept_caller_with_a_next_business_day_message_still_reaches_the_menu(
    line, caller
) -> None:
    first = caller(PAT)
    first.dial()
    first.press("2")
    first.leave_message()
    [incident] = incidents(line)
    assert incident.priority == "standard"
    again = caller(PAT)
    menu = again.dial()
    assert menu.has("Gather") and "press 1" in menu.says()
    assert _row(line, again.call_sid).route == "emergency_menu"


def test_a_retried_answer_of_a_kept_caller_is_the_same_and_writes_one_row(
    line, client, caller
) -> None:
    caller(PAT).dial()
    call = CallDriver(client, PAT)
    first = call.dial()
    retried = call.dial()  # Twilio retries a request it got no answer to
    assert retried.says() == first.says()
    assert count(line, Call) == 2
