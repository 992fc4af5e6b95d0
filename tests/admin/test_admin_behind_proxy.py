"""Behind a PaaS router: the client's own address, login limits per person, HSTS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from simulator.rest import FakeTwilioApi
from tests.admin_helpers import create_admin, log_in
from tests.conftest import app_config
from voiceline.admin.auth import MAX_FAILURES, MAX_FAILURES_PER_ADDRESS
from voiceline.admin.models import AuditEntry
from voiceline.app import create_app
from voiceline.clock import ManualClock
from voiceline.config import ConfigError, load_settings
from voiceline.db import Database

ROUTER = "10.8.0.1"  # the PaaS router every request arrives from
STRANGER = "203.0.113.66"
ADMIN_HOME = "198.51.100.20"
HSTS = "Strict-Transport-Security"

MakeApp = Callable[..., Flask]


@pytest.fixture
def make_app(
    database_url: str, twilio_api: FakeTwilioApi, clock: ManualClock, tmp_path: Path
) -> MakeApp:
    """Return a factory for the real app with extra settings."""

    def make(**extra: Any) -> Flask:
        config = app_config(
            database_url, twilio_api.base_url, VOICELINE_SPOOL_DIR=str(tmp_path / "spool"), **extra
        )
        return create_app(config, clock=clock)

    return make


@pytest.fixture
def behind_router(make_app: MakeApp, database: Database) -> Iterator[FlaskClient]:
    """Return a client of an app that trusts one proxy, with an admin login."""
    create_admin(database)
    yield make_app(VOICELINE_TRUSTED_PROXIES="1").test_client()


def _through_router(client: FlaskClient, address: str, **kwargs: Any) -> int:
    return log_in(client, remote_addr=ROUTER, forwarded_for=address, **kwargs).status_code


def _failed_ips(database: Database) -> list[str]:
    with database.session() as session:
        rows = session.scalars(select(AuditEntry).filter_by(action="login_failed"))
        return [row.detail["ip"] for row in rows]


def test_a_strangers_failures_behind_the_router_do_not_lock_out_the_admin(
    behind_router: FlaskClient, database: Database
) -> None:
    for n in range(MAX_FAILURES_PER_ADDRESS):
        assert _through_router(behind_router, STRANGER, username=f"guess{n}") == 401
    assert _through_router(behind_router, STRANGER, username="admin") == 429
    assert _failed_ips(database) == [STRANGER] * MAX_FAILURES_PER_ADDRESS
    assert _through_router(behind_router, ADMIN_HOME) == 302


def test_a_stranger_guessing_the_admins_name_does_not_lock_the_admin_out(
    behind_router: FlaskClient,
) -> None:
    for _ in range(MAX_FAILURES):
        assert _through_router(behind_router, STRANGER, password="wrong password!") == 401
    assert _through_router(behind_router, STRANGER) == 429  # even with the right password
    assert _through_router(behind_router, ADMIN_HOME) == 302


def test_a_spoofed_forwarded_for_does_not_dodge_the_limit(
    behind_router: FlaskClient, database: Database
) -> None:
    # The router appends the address it saw; what the client wrote before that is not
    # trusted, so a fresh made-up address per attempt still counts against the real one.
    for n in range(MAX_FAILURES):
        chain = f"192.0.2.{n + 1}, {STRANGER}"
        assert _through_router(behind_router, chain, password="wrong password!") == 401
    assert _through_router(behind_router, f"192.0.2.99, {STRANGER}") == 429
    assert set(_failed_ips(database)) == {STRANGER}


def test_without_trusted_proxies_forwarded_for_is_ignored(
    make_app: MakeApp, database: Database
) -> None:
    create_admin(database)
    client = make_app().test_client()
    for n in range(MAX_FAILURES):
        status = log_in(
            client, password="wrong password!", remote_addr=STRANGER, forwarded_for=f"192.0.2.{n}"
        ).status_code
        assert status == 401
    assert log_in(client, remote_addr=STRANGER, forwarded_for="192.0.2.99").status_code == 429
    assert set(_failed_ips(database)) == {STRANGER}


@pytest.mark.parametrize(("value", "expected"), [(None, 0), ("0", 0), ("1", 1), (" 2 ", 2)])
def test_trusted_proxies_is_read_from_the_environment(value: str | None, expected: int) -> None:
    env = {"SECRET_KEY": "made-up-secret-key-for-tests-only"}
    if value is not None:
        env["VOICELINE_TRUSTED_PROXIES"] = value
    assert load_settings(env).trusted_proxies == expected


@pytest.mark.parametrize("value", ["one", "-1", "1.5", "11"])
def test_a_malformed_trusted_proxies_is_refused_by_name(value: str) -> None:
    env = {"SECRET_KEY": "made-up-secret-key-for-tests-only", "VOICELINE_TRUSTED_PROXIES": value}
    with pytest.raises(ConfigError, match="VOICELINE_TRUSTED_PROXIES"):
        load_settings(env)


def test_every_response_carries_hsts_when_the_public_url_is_https(
    make_app: MakeApp, database: Database
) -> None:
    client = make_app(VOICELINE_PUBLIC_URL="https://voiceline.example.test").test_client()
    responses = {
        "login": client.get("/admin/login"),
        "admin redirect": client.get("/admin/"),
        "health": client.get("/healthz"),
        "unsigned webhook": client.post("/twilio/voice", data={}),
        "missing page": client.get("/no-such-page"),
        "static": client.get("/static/admin/admin.css"),
    }
    for name, response in responses.items():
        header = response.headers.get(HSTS)
        assert header is not None, name
        max_age = int(header.split(";")[0].removeprefix("max-age="))
        assert max_age >= 365 * 24 * 3600, name


def test_no_hsts_when_the_public_url_is_plain_http(make_app: MakeApp, database: Database) -> None:
    client = make_app(VOICELINE_PUBLIC_URL="http://127.0.0.1:5000").test_client()
    assert HSTS not in client.get("/admin/login").headers
    assert HSTS not in client.get("/healthz").headers
