"""Text no database can hold is refused at the door of every admin page.

PostgreSQL cannot store a NUL character in a text column (and refuses even to compare
one), so a NUL in an admin URL or form gave a 500 there, while SQLite stored it: the same
input must get the same clear refusal on both.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.admin_helpers import create_admin, csrf_token, log_in
from tests.escalation_helpers import emergency, load_example
from tests.fuzz.fuzz_support import changed_tables, fingerprint
from voiceline.db import Database


@pytest.fixture
def admin(app: Flask, client: FlaskClient, database: Database) -> FlaskClient:
    load_example(app)
    emergency(client, app)
    create_admin(database)
    assert log_in(client).status_code == 302
    return client


@pytest.mark.parametrize(
    ("path", "form"),
    [
        pytest.param("/admin/incidents/1/note", {"text": "call back\x00now"}, id="a note"),
        pytest.param("/admin/analysts/sa%00m", {"name": "Sam"}, id="in the path"),
        pytest.param("/admin/directory/policies", {"code": "\x00"}, id="a policy code"),
        pytest.param("/admin/incidents/1/resolve", {"x\x00": "1"}, id="a field's name"),
    ],
)
def test_a_nul_character_is_refused_and_changes_nothing(
    admin: FlaskClient, database: Database, path: str, form: dict[str, str]
) -> None:
    token = csrf_token(admin, "/admin/")
    before = fingerprint(database)
    response = admin.post(path, data={**form, "csrf_token": token})
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)
    assert changed_tables(before, fingerprint(database)) == []


def test_a_nul_in_a_query_string_is_refused(admin: FlaskClient) -> None:
    response = admin.get("/admin/incidents", query_string={"q": "pat\x00"})
    assert response.status_code == 400
