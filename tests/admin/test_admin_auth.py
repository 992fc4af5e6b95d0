"""Admin login: redirects, wrong passwords, rate limits, CSRF, session fixation, headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.admin_helpers import (
    ADMIN_PASSWORD,
    create_admin,
    csrf_token,
    log_in,
    post_form,
    text_of,
)
from voiceline.admin import audit
from voiceline.admin.accounts import set_admin_password
from voiceline.admin.auth import MAX_FAILURES
from voiceline.admin.blueprint import CONTENT_SECURITY_POLICY
from voiceline.admin.models import AuditEntry
from voiceline.clock import ManualClock
from voiceline.db import Database


@pytest.fixture
def admin(database: Database) -> str:
    create_admin(database)
    return "admin"


def _entries(database: Database, action: str) -> list[AuditEntry]:
    with database.session() as session:
        return list(session.scalars(select(AuditEntry).filter_by(action=action)))


def _admin_rules(app: Flask) -> list[tuple[str, set[str]]]:
    rules = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint in ("admin.login", "admin.logout"):
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", "x").replace(f"<int:{arg}>", "1")
        path = path.replace("<int:", "<").replace("<x>", "1")
        rules.append((path, set(rule.methods or ()) - {"HEAD", "OPTIONS"}))
    return rules


def test_every_admin_page_sends_a_stranger_to_the_login_page(
    app: Flask, client: FlaskClient
) -> None:
    rules = _admin_rules(app)
    assert any(path == "/admin/" for path, _ in rules)
    token = csrf_token(client)
    for path, methods in rules:
        for method in methods:
            data = {"csrf_token": token} if method == "POST" else None
            response = client.open(path, method=method, data=data)
            assert response.status_code == 302, (method, path, response.status_code)
            assert response.headers["Location"].startswith("/admin/login?next="), path


def test_a_stranger_posting_without_a_csrf_token_is_refused(
    app: Flask, client: FlaskClient
) -> None:
    posts = [path for path, methods in _admin_rules(app) if "POST" in methods]
    for path in posts:
        assert client.post(path, data={}).status_code == 400, path


def test_a_form_posted_after_the_session_ended_returns_to_its_page(
    client: FlaskClient, admin: str
) -> None:
    token = csrf_token(client)
    response = client.post(
        "/admin/rotations/tier1/overrides",
        data={"csrf_token": token},
        headers={"Referer": "http://localhost/admin/rotations/tier1"},
    )
    assert response.headers["Location"] == "/admin/login?next=/admin/rotations/tier1"
    response = client.post(
        "/admin/rotations/tier1/overrides",
        data={"csrf_token": token},
        headers={"Referer": "https://evil.example//evil.example/x"},
    )
    assert response.headers["Location"] == "/admin/login?next=/admin/"


def test_login_takes_the_admin_where_they_were_going(client: FlaskClient, admin: str) -> None:
    first = client.get("/admin/audit?page=2")
    assert first.status_code == 302
    assert first.headers["Location"] == "/admin/login?next=/admin/audit?page%3D2"
    response = log_in(client, next_url="/admin/audit?page=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/audit?page=2"
    home = client.get("/admin/")
    assert home.status_code == 200
    assert "Log out" in text_of(home)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "admin",
        "/\t/evil.example",  # redirect() drops the tab: //evil.example
        "/\n/evil.example",
        "/ /evil.example",
    ],
)
def test_login_never_redirects_off_site(client: FlaskClient, admin: str, target: str) -> None:
    response = log_in(client, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    # an admin already logged in is not sent off-site either
    again = client.get("/admin/login", query_string={"next": target})
    assert again.status_code == 302
    assert again.headers["Location"] == "/admin/"


def test_a_wrong_password_is_refused_and_audited(
    client: FlaskClient, admin: str, database: Database
) -> None:
    response = log_in(client, password="not the password")
    assert response.status_code == 401
    assert "Wrong username or password." in text_of(response)
    assert client.get("/admin/").status_code == 302
    unknown = log_in(client, username="nobody", password="whatever-it-is")
    assert unknown.status_code == 401
    failed = _entries(database, "login_failed")
    assert [(e.subject, e.detail["ip"]) for e in failed] == [
        ("admin admin", "127.0.0.1"),
        ("admin nobody", "127.0.0.1"),
    ]


def test_repeated_failures_lock_that_username_from_that_address(
    client: FlaskClient, admin: str, clock: ManualClock
) -> None:
    for _ in range(MAX_FAILURES):
        assert log_in(client, password="wrong password!").status_code == 401
    locked = log_in(client)  # even the right password is refused while locked
    assert locked.status_code == 429
    assert "Too many failed attempts" in text_of(locked)
    assert int(locked.headers["Retry-After"]) > 0
    assert client.get("/admin/").status_code == 302
    # Another address is not locked out by someone else's guessing.
    assert log_in(client, remote_addr="192.0.2.7").status_code == 302
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    clock.advance(timedelta(minutes=16))
    assert log_in(client).status_code == 302


def test_a_correct_login_resets_the_count(client: FlaskClient, admin: str) -> None:
    for _ in range(MAX_FAILURES - 1):
        log_in(client, password="wrong password!")
    assert log_in(client).status_code == 302
    post_form(client, "/admin/logout", {})
    for _ in range(MAX_FAILURES - 1):
        log_in(client, password="wrong password!")
    assert log_in(client).status_code == 302


def test_login_starts_a_fresh_session(app: Flask, client: FlaskClient, admin: str) -> None:
    with client.session_transaction() as planted:
        planted["planted"] = "by an attacker"
        planted["admin_id"] = 999
    assert client.get("/admin/").status_code == 302
    log_in(client)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["admin_user"] == "admin"


def test_logout_needs_the_csrf_token(client: FlaskClient, admin: str, database: Database) -> None:
    log_in(client)
    assert client.post("/admin/logout").status_code == 400
    assert client.get("/admin/").status_code == 200  # still logged in
    response = post_form(client, "/admin/logout", {})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login"
    assert client.get("/admin/").status_code == 302
    assert [e.actor for e in _entries(database, "logout")] == ["admin"]


def test_logout_is_not_a_get(client: FlaskClient, admin: str) -> None:
    log_in(client)
    assert client.get("/admin/logout").status_code == 405
    assert client.get("/admin/").status_code == 200


def test_an_admin_saved_with_the_production_hash_can_log_in(
    client: FlaskClient, database: Database
) -> None:
    with database.session() as session:
        user = set_admin_password(session, "lead", "a long enough password")
        assert user.password_hash.startswith("scrypt:")
    assert log_in(client, "lead", "a long enough password!").status_code == 401
    assert log_in(client, "lead", "a long enough password").status_code == 302


def test_changing_the_password_ends_other_sessions(
    client: FlaskClient, admin: str, database: Database
) -> None:
    log_in(client)
    with database.session() as session:
        set_admin_password(session, "admin", "a brand new password")
    assert client.get("/admin/").status_code == 302


def test_a_session_expires_after_twelve_hours(
    client: FlaskClient, admin: str, clock: ManualClock
) -> None:
    log_in(client)
    clock.advance(timedelta(hours=11, minutes=59))
    assert client.get("/admin/").status_code == 200
    clock.advance(timedelta(minutes=2))
    assert client.get("/admin/").status_code == 302


def test_admin_pages_carry_security_headers(client: FlaskClient, admin: str) -> None:
    for response in (client.get("/admin/login"), client.get("/admin/"), log_in(client)):
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" not in client.get("/healthz").headers


def test_the_session_cookie_is_http_only(client: FlaskClient, admin: str) -> None:
    response = log_in(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert ADMIN_PASSWORD not in cookie


def test_audit_record_adds_a_plain_append_only_entry(database: Database) -> None:
    at = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    with database.session() as session:
        audit.record(
            session,
            "admin",
            "override_added",
            "rotation tier1",
            at=at,
            start=at,
            members=("alex", "sam"),
            count=2,
        )
    with database.session() as session:
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.actor, entry.action, entry.subject, entry.at) == (
            "admin",
            "override_added",
            "rotation tier1",
            at,
        )
        assert entry.detail == {
            "start": "2026-11-22T10:00:00+00:00",
            "members": ["alex", "sam"],
            "count": 2,
        }
        entry.subject = "rewritten"
        with pytest.raises(ValueError, match="append-only"):
            session.flush()
        session.rollback()
    with pytest.raises(ValueError, match="aware"), database.session() as session:
        audit.record(session, "admin", "x", "y", at=datetime(2026, 1, 1))
