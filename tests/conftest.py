"""Shared fixtures: a migrated database per test (SQLite, or PostgreSQL when
VOICELINE_TEST_DATABASE_URL is set), the app, the fake Twilio API and signed requests.

Credentials here are made up; nothing talks to the real Twilio.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from escalation.wiring import settle
from simulator.rest import FakeTwilioApi
from voiceline.app import create_app
from voiceline.clock import ManualClock
from voiceline.config import DEFAULT_ANSWER_DEADLINE_SECONDS
from voiceline.db import Database
from voiceline.line.spool import Spool
from voiceline.migrate import upgrade
from voiceline.schema import metadata

TEST_ACCOUNT_SID = "AC" + "0" * 31 + "1"
TEST_AUTH_TOKEN = "made-up-auth-token-for-tests"
TEST_SECRET_KEY = "made-up-secret-key-for-tests-only"
PUBLIC_URL = "https://voiceline.example.test"
LINE_NUMBER = "+15035550100"
EXAMPLE_DIRECTORY = Path(__file__).resolve().parent.parent / "examples" / "directory.yaml"


def postgres_url() -> str | None:
    """Return the PostgreSQL URL the suite should use, or None for SQLite."""
    return os.environ.get("VOICELINE_TEST_DATABASE_URL") or None


# In CI the browser and contract tests must run: a missing browser or Prism is an
# install step that failed, not a reason to pass.
MUST_RUN_IN_CI = ("browser", "contract")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if (
        os.environ.get("CI")
        and report.skipped
        and any(item.get_closest_marker(name) for name in MUST_RUN_IN_CI)
    ):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where it must run: {report.longrepr}"


def pytest_report_header(config: pytest.Config) -> str:
    url = postgres_url()
    return f"voiceline test database: {'PostgreSQL ' + url if url else 'SQLite (per-test file)'}"


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate once per session: a SQLite template file, or a fresh PostgreSQL database."""
    url = postgres_url()
    if url is None:
        path = tmp_path_factory.mktemp("template") / "voiceline.db"
        database = Database(f"sqlite:///{path}")
        upgrade(database.engine)
        database.dispose()
        yield str(path)
        return
    base = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"voiceline_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    test_url = base.set(database=name).render_as_string(hide_password=False)
    database = Database(test_url)
    upgrade(database.engine)
    database.dispose()
    yield test_url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(_migrated_template: str, tmp_path: Path) -> Iterator[str]:
    """Return the URL of an empty, migrated database for this test."""
    if postgres_url() is None:
        path = tmp_path / "voiceline.db"
        shutil.copy(_migrated_template, path)
        yield f"sqlite:///{path}"
        return
    yield _migrated_template
    engine = create_engine(_migrated_template)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """Return a Database on this test's migrated database."""
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def twilio_api() -> Iterator[FakeTwilioApi]:
    """Run the fake Twilio REST API on loopback for this test."""
    with FakeTwilioApi(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN) as api:
        yield api


@pytest.fixture
def clock() -> ManualClock:
    """Return a clock that starts on a Saturday night in Oregon and moves only when told."""
    return ManualClock(datetime(2026, 11, 22, 10, 0, tzinfo=UTC))  # Sun 02:00 PST


TEST_ANSWER_DEADLINE = "6"
PRODUCT_ANSWER_DEADLINE = str(DEFAULT_ANSWER_DEADLINE_SECONDS)


def app_config(database_url: str, api_base: str, **extra: Any) -> dict[str, Any]:
    """Return settings for a test app with made-up credentials."""
    config: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_API_BASE_URL": api_base,
        "TWILIO_FROM_NUMBER": LINE_NUMBER,
        "VOICELINE_PUBLIC_URL": PUBLIC_URL,
        # In one pytest process the app's threads share one interpreter with the fake
        # Twilio and the test: on a slow or busy machine a webhook's work can stall past
        # the product's 1.2 s and spool, failing a test that is not about the deadline.
        # The outage tests set the product's own deadline; the drills run the default.
        "VOICELINE_ANSWER_DEADLINE_SECONDS": TEST_ANSWER_DEADLINE,
        "TESTING": "1",
    }
    config.update(extra)
    return config


@pytest.fixture
def app(
    database_url: str, twilio_api: FakeTwilioApi, clock: ManualClock, tmp_path: Path
) -> Iterator[Flask]:
    """Return the real app on a fresh database, the fake Twilio API and a manual clock."""
    app = create_app(
        app_config(database_url, twilio_api.base_url, VOICELINE_SPOOL_DIR=str(tmp_path / "spool")),
        clock=clock,
    )
    yield app
    # Paging goes on after a request is answered; let it finish before the database goes.
    settle(app)
    # The caller's fallback answers 200 whatever broke: a test whose request quietly took
    # it (and spooled the call) would pass for the wrong reason.
    spooled = Spool(tmp_path / "spool").pending_files()
    assert not spooled, f"a request fell back to the spool: {[p.read_text() for p in spooled]}"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sign(url: str, params: Mapping[str, str], token: str = TEST_AUTH_TOKEN) -> str:
    """Return the X-Twilio-Signature Twilio would send for ``url`` and ``params``."""
    return RequestValidator(token).compute_signature(url, dict(params))


def post_signed(
    client: FlaskClient,
    path: str,
    params: Mapping[str, str],
    *,
    token: str = TEST_AUTH_TOKEN,
    base: str = "http://localhost",
) -> TestResponse:
    """POST ``params`` to ``path`` signed the way Twilio signs the public URL."""
    signature = sign(PUBLIC_URL + path, params, token)
    return client.post(
        path, data=dict(params), headers={"X-Twilio-Signature": signature}, base_url=base
    )
