"""The parked spool entries page: listed with their reason, retried or set aside by an
admin, each action audited and the entry's notice resolved."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.admin_helpers import create_admin, log_in, post_form, text_of
from tests.conftest import LINE_NUMBER
from tests.escalation_helpers import load_example
from voiceline import extensions
from voiceline.admin.models import AdminNotice, AuditEntry
from voiceline.incidents.models import Incident, IncidentEvent
from voiceline.line.parked import NOTICE_KIND
from voiceline.line.recovery import is_database_away, replay_spool
from voiceline.line.spool import Spool

PAGE = "/admin/spool/"
PAT = "+15035550111"
CALL_SID = "CA" + "7" * 32
AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def spool_of(app: Flask) -> Spool:
    return Spool(extensions.services(app).settings.spool_dir, extensions.clock(app))


def form(**overrides: str) -> dict[str, str]:
    values = {
        "CallSid": CALL_SID,
        "From": PAT,
        "To": LINE_NUMBER,
        "RecordingSid": "RE" + "8" * 32,
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Recordings/RE" + "8" * 32,
        "RecordingDuration": "9" * 30,
    }
    values.update(overrides)
    return values


def park(app: Flask, at: str = AT.isoformat()) -> str:
    """Leave Pat's message parked, as a release without the value check left it."""
    spool = spool_of(app)
    spool.write("message", form=form(), at=at, priority="emergency")

    def overflow(entry: dict) -> None:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    spool.replay(overflow, is_database_away)
    [parked] = spool.parked_files()
    return parked.name


def raise_alarm(app: Flask) -> None:
    """One replay round, as the worker runs it: the notice for what is parked."""
    replay_spool(extensions.database(app), spool_of(app), extensions.clock(app))


def open_notices(app: Flask) -> list[str]:
    with extensions.database(app).session() as session:
        return list(
            session.scalars(
                select(AdminNotice.message).where(
                    AdminNotice.kind == NOTICE_KIND, AdminNotice.resolved_at.is_(None)
                )
            )
        )


def audited(app: Flask) -> list[tuple[str, str]]:
    with extensions.database(app).session() as session:
        return [
            (row.action, row.subject)
            for row in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            if row.action.startswith("spool_")
        ]


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    load_example(app)
    create_admin(extensions.database(app))
    assert log_in(client).status_code == 302
    return client


def test_the_page_needs_a_login(app: Flask, client: FlaskClient) -> None:
    name = park(app)
    response = client.get(PAGE)
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    response = client.post(f"{PAGE}{name}/retry")
    assert response.status_code in (302, 400)
    assert spool_of(app).parked_files()[0].name == name  # nothing moved


def test_a_parked_entry_is_listed_with_its_reason(app: Flask, admin: FlaskClient) -> None:
    assert "Nothing is parked" in text_of(admin.get(PAGE))
    name = park(app)
    page = text_of(admin.get(PAGE))
    assert name in page and CALL_SID in page and PAT in page
    assert "OverflowError: Python int too large" in page and "message (emergency)" in page


def test_retry_stores_the_message_and_resolves_the_notice(app: Flask, admin: FlaskClient) -> None:
    name = park(app)
    raise_alarm(app)
    [notice] = open_notices(app)
    assert name in notice
    response = post_form(admin, f"{PAGE}{name}/retry", {}, page=PAGE)
    assert response.status_code == 302
    assert f"{name} is stored." in text_of(admin.get(PAGE))
    assert spool_of(app).parked_files() == [] and spool_of(app).pending_files() == []
    assert open_notices(app) == []
    with extensions.database(app).session() as session:
        [incident] = session.scalars(select(Incident)).all()
        assert (incident.call_sid, incident.priority) == (CALL_SID, "emergency")
        assert incident.next_due_at is not None or incident.escalation_state is not None
        kinds = set(session.scalars(select(IncidentEvent.kind)))
        assert "spooled_values_dropped" in kinds
    assert audited(app) == [("spool_entry_retried", f"spool entry {name}")]


def test_a_retry_that_fails_again_keeps_it_parked_with_one_notice(
    app: Flask, admin: FlaskClient
) -> None:
    name = park(app, at="a time nobody wrote down")
    raise_alarm(app)
    post_form(admin, f"{PAGE}{name}/retry", {}, page=PAGE)
    page = text_of(admin.get(PAGE))
    assert f"{name} still cannot be stored: ValueError" in page
    assert [p.name for p in spool_of(app).parked_files()] == [name]
    assert len(open_notices(app)) == 1


def test_set_aside_keeps_the_file_and_resolves_the_notice(app: Flask, admin: FlaskClient) -> None:
    name = park(app)
    raise_alarm(app)
    post_form(admin, f"{PAGE}{name}/set-aside", {}, page=PAGE)
    assert "is set aside" in text_of(admin.get(PAGE))
    assert spool_of(app).parked_files() == []
    assert (Path(spool_of(app).directory) / "set-aside" / name).is_file()
    assert open_notices(app) == []
    assert audited(app) == [("spool_entry_set_aside", f"spool entry {name}")]


def test_an_action_needs_the_csrf_token(app: Flask, admin: FlaskClient) -> None:
    name = park(app)
    assert admin.post(f"{PAGE}{name}/retry").status_code == 400
    assert [p.name for p in spool_of(app).parked_files()] == [name]


def test_a_name_that_is_not_parked_changes_nothing(app: Flask, admin: FlaskClient) -> None:
    name = park(app)
    for other in ("20261122T100000000000-" + "0" * 32 + ".json", "..%2F..%2Fsecret"):
        post_form(admin, f"{PAGE}{other}/retry", {}, page=PAGE)
    assert [p.name for p in spool_of(app).parked_files()] == [name]
    assert audited(app) == []
