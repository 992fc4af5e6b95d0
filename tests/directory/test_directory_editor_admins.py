"""The admin logins page: add a login (password checked), remove one (never your own,
never the last), each audited."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.security import check_password_hash

from tests.admin_helpers import create_admin, csrf_token, field_error, log_in, text_of
from tests.directory_helpers import audit_entries, directory_state, submit
from voiceline.admin.models import AdminUser
from voiceline.db import Database
from voiceline.directory.admin_users import remove_admin
from voiceline.directory.forms import EntryRefused

ADMINS = "/admin/directory/admins"
NEW_PASSWORD = "a long made-up password"


def _user(database: Database, username: str) -> AdminUser | None:
    with database.session() as session:
        return session.scalars(select(AdminUser).filter_by(username=username)).one_or_none()


def test_an_admin_is_added_and_can_log_in(
    editor: FlaskClient, database: Database, app: Flask
) -> None:
    fields = {"username": "riley", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    response = submit(editor, ADMINS, ADMINS, fields)
    assert response.status_code == 302
    riley = _user(database, "riley")
    assert riley is not None
    assert riley.password_hash.startswith("scrypt:")
    assert check_password_hash(riley.password_hash, NEW_PASSWORD)
    (audited,) = audit_entries(database, "admin_created")
    assert (audited.actor, audited.subject, audited.detail) == ("admin", "admin riley", {})
    assert NEW_PASSWORD not in str([e.detail for e in audit_entries(database, "admin_created")])
    assert log_in(app.test_client(), "riley", NEW_PASSWORD).status_code == 302


def test_a_weak_mistyped_or_taken_login_is_refused(editor: FlaskClient, database: Database) -> None:
    before = directory_state(database)
    short = {"username": "riley", "password": "short", "confirm": "short"}
    response = submit(editor, ADMINS, ADMINS, short)
    assert response.status_code == 422
    assert field_error(response, "admin", "password") == "password: use at least 10 characters"
    mistyped = {"username": "riley", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"}
    response = submit(editor, ADMINS, ADMINS, mistyped)
    assert field_error(response, "admin", "confirm") == "the two passwords differ"
    taken = {"username": "admin", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    response = submit(editor, ADMINS, ADMINS, taken)
    assert field_error(response, "admin", "username") == "there is already an admin called 'admin'"
    spaced = {"username": "riley chen", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    response = submit(editor, ADMINS, ADMINS, spaced)
    assert "use 1-64 letters" in (field_error(response, "admin", "username") or "")
    assert _user(database, "riley") is None
    assert directory_state(database) == before
    # what was typed comes back, except the passwords
    assert 'value="riley chen"' in response.get_data(as_text=True)
    assert NEW_PASSWORD not in response.get_data(as_text=True)


def test_another_admin_is_removed_and_logged_out(
    editor: FlaskClient, database: Database, app: Flask
) -> None:
    create_admin(database, "morgan", NEW_PASSWORD)
    theirs = app.test_client()
    assert log_in(theirs, "morgan", NEW_PASSWORD).status_code == 302
    assert theirs.get("/admin/directory/").status_code == 200
    morgan = _user(database, "morgan")
    assert morgan is not None
    response = submit(editor, ADMINS, f"{ADMINS}/{morgan.id}/remove")
    assert response.status_code == 302
    assert _user(database, "morgan") is None
    assert [e.subject for e in audit_entries(database, "admin_removed")] == ["admin morgan"]
    assert "morgan can no longer log in." in text_of(editor.get(ADMINS))
    # Their session ends at their next click.
    assert theirs.get("/admin/directory/").status_code == 302


def test_you_cannot_remove_yourself_nor_the_last_admin(
    editor: FlaskClient, database: Database
) -> None:
    me = _user(database, "admin")
    assert me is not None
    page = editor.get(ADMINS).get_data(as_text=True)
    assert f"{ADMINS}/{me.id}/remove" not in page  # no button for your own login
    before = directory_state(database)
    response = editor.post(f"{ADMINS}/{me.id}/remove", data={"csrf_token": _token(editor)})
    assert response.status_code == 422
    assert "you cannot remove your own login" in text_of(response)
    assert directory_state(database) == before
    assert _user(database, "admin") is not None


def test_two_admins_removing_each_other_at_once_leave_one(database: Database) -> None:
    create_admin(database)
    create_admin(database, "morgan", NEW_PASSWORD)
    me, morgan = _user(database, "admin"), _user(database, "morgan")
    assert me is not None and morgan is not None
    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    first = database.sessions()
    remove_admin(first, morgan.id, actor="admin", now=now)  # not committed yet
    outcome: list[str] = []

    def morgan_removes_admin() -> None:
        with database.sessions() as second:
            try:
                remove_admin(second, me.id, actor="morgan", now=now)
                second.commit()
                outcome.append("removed")
            except EntryRefused as exc:
                second.rollback()
                outcome.append(str(exc))

    racer = threading.Thread(target=morgan_removes_admin)
    racer.start()
    time.sleep(0.5)  # let the second removal reach the rows the first holds
    first.commit()
    first.close()
    racer.join(timeout=30)
    assert outcome == ["the last admin cannot be removed"]
    assert _user(database, "admin") is not None
    assert _user(database, "morgan") is None


def _token(client: FlaskClient) -> str:
    return csrf_token(client, ADMINS)
