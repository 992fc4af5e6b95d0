"""The analysts pages: phone numbers checked and stored in E.164, refusals next to the field."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from oncall.models import Analyst, ContactMethod
from tests.admin_helpers import (
    create_admin,
    field_error,
    load_example_directory,
    log_in,
    post_form,
    text_of,
)
from voiceline.admin.models import AuditEntry
from voiceline.db import Database


@pytest.fixture
def admin_client(client: FlaskClient, database: Database) -> FlaskClient:
    load_example_directory(database)
    create_admin(database)
    log_in(client)
    return client


def _numbers(database: Database, code: str) -> dict[str, str]:
    with database.session() as session:
        analyst = session.scalars(select(Analyst).filter_by(code=code)).one()
        return {m.kind: m.address for m in analyst.contact_methods}


def _state(database: Database) -> tuple[object, ...]:
    with database.session() as session:
        analysts = [
            (a.code, a.name, a.email, sorted((m.kind, m.address) for m in a.contact_methods))
            for a in session.scalars(select(Analyst).order_by(Analyst.code))
        ]
        return (analysts, session.scalar(select(func.count(AuditEntry.id))))


def test_an_analyst_is_added_with_numbers_in_e164(
    admin_client: FlaskClient, database: Database
) -> None:
    data = {
        "code": "riley",
        "name": "Riley Chen",
        "email": "riley@example.com",
        "sms": "(503) 555-0177",
        "voice": "",
    }
    response = post_form(admin_client, "/admin/analysts", data, page="/admin/analysts")
    assert response.status_code == 302
    assert _numbers(database, "riley") == {"sms": "+15035550177", "voice": "+15035550177"}
    with database.session() as session:
        riley = session.scalars(select(Analyst).filter_by(code="riley")).one()
        assert riley.calendar_token and len(riley.calendar_token) >= 32
        entry = session.scalars(select(AuditEntry).filter_by(action="analyst_created")).one()
    assert (entry.actor, entry.subject, entry.detail["sms"]) == (
        "admin",
        "analyst riley",
        "+15035550177",
    )
    assert "+1 503-555-0177" in text_of(admin_client.get("/admin/analysts"))


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"sms": "555-01"}, "sms", "'555-01' is not a valid phone number"),
        ({"sms": "call me"}, "sms", "cannot read phone number 'call me'"),
        ({"sms": ""}, "sms", "enter the number pages are texted to"),
        ({"voice": "+1 503 555"}, "voice", "'+1 503 555' is not a valid phone number"),
        ({"code": "Riley Chen"}, "code", "use 1-64 lower-case letters"),
        ({"code": "alex"}, "code", "an analyst with code 'alex' already exists"),
        ({"name": ""}, "name", "enter a name"),
        ({"email": "riley at example"}, "email", "enter an email address"),
    ],
)
def test_bad_input_is_refused_next_to_the_field(
    admin_client: FlaskClient, database: Database, fields: dict[str, str], field: str, message: str
) -> None:
    data = {"code": "riley", "name": "Riley Chen", "email": "", "sms": "+15035550177", "voice": ""}
    data.update(fields)
    before = _state(database)
    response = post_form(admin_client, "/admin/analysts", data, page="/admin/analysts")
    assert response.status_code == 422
    error = field_error(response, "analyst", field)
    assert error is not None and error.startswith(message), error
    assert _state(database) == before


def test_editing_numbers_keeps_the_opt_out_of_an_unchanged_number(
    admin_client: FlaskClient, database: Database
) -> None:
    with database.session() as session:
        method = session.scalars(
            select(ContactMethod).filter_by(address="+15035550201", kind="sms")
        ).one()
        method.is_opted_out = True
    data = {
        "name": "Alex Rivera",
        "email": "alex@example.com",
        "sms": "+1 503 555 0201",
        "voice": "503-555-0299",
    }
    assert (
        post_form(
            admin_client, "/admin/analysts/alex", data, page="/admin/analysts/alex"
        ).status_code
        == 302
    )
    assert _numbers(database, "alex") == {"sms": "+15035550201", "voice": "+15035550299"}
    with database.session() as session:
        sms = session.scalars(
            select(ContactMethod).filter_by(address="+15035550201", kind="sms")
        ).one()
        assert sms.is_opted_out
        entry = session.scalars(select(AuditEntry).filter_by(action="analyst_updated")).one()
    assert entry.detail == {"voice": {"from": "+15035550201", "to": "+15035550299"}}
    assert "texted STOP" in text_of(admin_client.get("/admin/analysts/alex"))


def test_a_bad_number_on_edit_changes_nothing(
    admin_client: FlaskClient, database: Database
) -> None:
    before = _state(database)
    data = {"name": "Alex R.", "email": "", "sms": "12345", "voice": ""}
    response = post_form(admin_client, "/admin/analysts/alex", data, page="/admin/analysts/alex")
    assert response.status_code == 422
    assert field_error(response, "analyst", "sms") is not None
    assert 'value="Alex R."' in response.get_data(as_text=True)  # what was typed stays
    assert _state(database) == before


def test_an_unknown_analyst_is_not_found(admin_client: FlaskClient) -> None:
    assert admin_client.get("/admin/analysts/nobody").status_code == 404
