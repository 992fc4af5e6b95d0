"""Every route of the URL map, enumerated: none escapes the login or the CSRF check.

New routes are covered without editing this file. A route may be public only by being
listed below with its reason; the list is checked against the map, so it cannot go stale.
"""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import Rule

from tests.admin_helpers import create_admin, csrf_token, log_in
from voiceline.admin.models import AuditEntry
from voiceline.db import Database

READ_ONLY = {"GET", "HEAD", "OPTIONS"}
WEBHOOKS = "twilio."  # signed by Twilio instead: an unsigned request gets 403
PUBLIC = {
    "admin.login": "the login form itself",
    "admin.logout": "ends whatever session it is sent with; a stranger has none to end",
    "health.healthz": "the platform's health check",
    "static": "stylesheets and scripts",
}
# Capability URLs: the token in the link is the credential; a made-up one is refused.
CAPABILITIES = {
    "calendar.analyst_calendar": 404,
    "calendar.rotation_calendar": 404,
    "media.recording": 403,
}


def _url(app: Flask, rule: Rule) -> str:
    values = dict.fromkeys(rule.arguments, 1)
    url: str = app.url_map.bind("localhost").build(rule.endpoint, values, method=None)
    return url


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    """Return (endpoint, method, url) for every route and method of the app."""
    return sorted(
        (rule.endpoint, method, _url(app, rule))
        for rule in app.url_map.iter_rules()
        for method in sorted(set(rule.methods or ()) - {"HEAD", "OPTIONS"})
    )


def _guarded(app: Flask) -> list[tuple[str, str, str]]:
    return [
        route
        for route in _routes(app)
        if not route[0].startswith(WEBHOOKS)
        and route[0] not in PUBLIC
        and route[0] not in CAPABILITIES
    ]


def _audit_count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count(AuditEntry.id))) or 0


def _sent_to_login(status: int, location: str | None) -> bool:
    return status in (401, 403) or (status == 302 and (location or "").startswith("/admin/login"))


def test_the_exceptions_name_routes_that_exist(app: Flask) -> None:
    endpoints = {endpoint for endpoint, _, _ in _routes(app)}
    assert set(PUBLIC) | set(CAPABILITIES) <= endpoints
    guarded = {endpoint for endpoint, _, _ in _guarded(app)}
    # the sweep reaches every area's pages, not a handful
    assert {"home.home", "oncall.add_override", "incidents.act", "sla.report_csv"} <= guarded
    assert any(endpoint.startswith(WEBHOOKS) for endpoint in endpoints)


def test_no_route_serves_a_stranger(app: Flask, client: FlaskClient, database: Database) -> None:
    create_admin(database)
    token = csrf_token(client)  # a valid token does not stand in for a login
    escaped = []
    for endpoint, method, url in _guarded(app):
        data = None if method in READ_ONLY else {"csrf_token": token}
        response = client.open(url, method=method, data=data)
        if not _sent_to_login(response.status_code, response.headers.get("Location")):
            escaped.append((endpoint, method, url, response.status_code))
    assert escaped == []
    assert _audit_count(database) == 0


def test_capability_urls_refuse_a_made_up_token(app: Flask, client: FlaskClient) -> None:
    for endpoint, method, url in _routes(app):
        if endpoint in CAPABILITIES:
            response = client.open(url, method=method, query_string={"token": "made-up"})
            assert response.status_code == CAPABILITIES[endpoint], (endpoint, url)


def test_webhooks_refuse_an_unsigned_request(app: Flask, client: FlaskClient) -> None:
    for endpoint, method, url in _routes(app):
        if endpoint.startswith(WEBHOOKS):
            assert client.open(url, method=method, data={}).status_code == 403, endpoint


def test_no_change_goes_through_without_a_csrf_token_even_logged_in(
    app: Flask, client: FlaskClient, database: Database
) -> None:
    create_admin(database)
    assert log_in(client).status_code == 302
    before = _audit_count(database)
    changes = [r for r in _routes(app) if not r[0].startswith(WEBHOOKS) and r[1] not in READ_ONLY]
    assert {"admin.logout", "admin.login", "oncall.add_analyst"} <= {r[0] for r in changes}
    accepted = []
    for endpoint, method, url in changes:
        for data in ({}, {"csrf_token": "made-up-token"}):
            response = client.open(url, method=method, data=data)
            if response.status_code != 400:
                accepted.append((endpoint, method, url, data, response.status_code))
    assert accepted == []
    assert _audit_count(database) == before  # nothing was changed, not even a logout
    assert client.get("/admin/").status_code == 200
