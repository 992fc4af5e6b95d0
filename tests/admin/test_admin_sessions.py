"""Admin sessions end on the server: logout revokes a copied cookie, CSRF tokens expire."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import inspect, select

from oncall.models import Analyst
from tests.admin_helpers import create_admin, csrf_token, log_in, post_form
from tests.conftest import TEST_SECRET_KEY
from voiceline.admin.models import AdminUser
from voiceline.db import Database
from voiceline.migrate import downgrade, upgrade

SESSION_HOURS = 12


@pytest.fixture
def admin(database: Database) -> str:
    create_admin(database)
    return "admin"


def _replay(app: Flask, cookie: str) -> FlaskClient:
    """Return a new browser that holds a copy of someone's session cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def _analyst_codes(database: Database) -> set[str]:
    with database.session() as session:
        return set(session.scalars(select(Analyst.code)))


def _new_analyst(code: str) -> dict[str, str]:
    return {"code": code, "name": code.title(), "email": "", "sms": "+15035550177", "voice": ""}


def test_logout_revokes_a_copied_session_cookie_and_its_csrf_token(
    app: Flask, client: FlaskClient, admin: str, database: Database
) -> None:
    log_in(client)
    client.get("/admin/analysts")  # a page with a form: the session now holds its CSRF secret
    cookie = client.get_cookie("session")
    assert cookie is not None
    copied = cookie.value
    stolen_token = csrf_token(_replay(app, copied), "/admin/analysts")
    # Before logout the copy works like the original: it can add an analyst.
    response = _replay(app, copied).post(
        "/admin/analysts", data={"csrf_token": stolen_token, **_new_analyst("before")}
    )
    assert response.status_code == 302
    assert _analyst_codes(database) == {"before"}

    assert post_form(client, "/admin/logout", {}).status_code == 302

    home = _replay(app, copied).get("/admin/")
    assert home.status_code == 302
    assert home.headers["Location"].startswith("/admin/login")
    response = _replay(app, copied).post(
        "/admin/analysts", data={"csrf_token": stolen_token, **_new_analyst("after")}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")
    assert _analyst_codes(database) == {"before"}  # nothing changed


def test_logging_in_again_does_not_revive_a_revoked_cookie(
    app: Flask, client: FlaskClient, admin: str
) -> None:
    log_in(client)
    cookie = client.get_cookie("session")
    assert cookie is not None
    copied = cookie.value
    post_form(client, "/admin/logout", {})
    assert log_in(client).status_code == 302
    assert client.get("/admin/").status_code == 200
    assert _replay(app, copied).get("/admin/").status_code == 302


def test_logout_ends_the_admins_sessions_in_every_browser(
    app: Flask, client: FlaskClient, admin: str, database: Database
) -> None:
    laptop, phone = client, app.test_client()
    log_in(laptop)
    log_in(phone)
    assert phone.get("/admin/").status_code == 200
    post_form(laptop, "/admin/logout", {})
    assert phone.get("/admin/").status_code == 302
    with database.session() as session:
        user = session.scalars(select(AdminUser).filter_by(username="admin")).one()
        assert user.session_generation == 1


def test_logout_of_one_admin_leaves_another_admin_logged_in(
    app: Flask, client: FlaskClient, admin: str, database: Database
) -> None:
    create_admin(database, "lead", "another long password")
    lead = app.test_client()
    log_in(client)
    log_in(lead, "lead", "another long password")
    post_form(client, "/admin/logout", {})
    assert lead.get("/admin/").status_code == 200


def _token_issued(raw: str, age: timedelta) -> str:
    """Return the signed CSRF token Flask-WTF would have issued ``age`` ago for ``raw``."""

    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age.total_seconds())

    serializer = URLSafeTimedSerializer(TEST_SECRET_KEY, salt="wtf-csrf-token", signer=Earlier)
    return serializer.dumps(raw)


def test_a_csrf_token_expires_with_the_session_lifetime(client: FlaskClient, admin: str) -> None:
    log_in(client)
    csrf_token(client, "/admin/")
    with client.session_transaction() as session:
        raw = session["csrf_token"]
    stale = _token_issued(raw, timedelta(hours=SESSION_HOURS, minutes=1))
    assert client.post("/admin/logout", data={"csrf_token": stale}).status_code == 400
    assert client.get("/admin/").status_code == 200  # the stale token did nothing
    # The same construction, younger than the limit, is accepted: the age is what counts.
    fresh = _token_issued(raw, timedelta(hours=SESSION_HOURS - 1))
    assert client.post("/admin/logout", data={"csrf_token": fresh}).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_the_csrf_time_limit_is_the_session_lifetime(app: Flask) -> None:
    assert app.config["WTF_CSRF_TIME_LIMIT"] == SESSION_HOURS * 3600


def test_migration_0003_adds_and_removes_the_session_generation(
    database: Database, admin: str
) -> None:
    def columns() -> set[str]:
        return {c["name"] for c in inspect(database.engine).get_columns("admin_users")}

    assert "session_generation" in columns()
    downgrade(database.engine, "0002")
    assert "session_generation" not in columns()
    upgrade(database.engine)
    assert "session_generation" in columns()
    with database.session() as session:  # the admin made before the downgrade is intact
        user = session.scalars(select(AdminUser)).one()
        assert (user.username, user.session_generation) == ("admin", 0)
