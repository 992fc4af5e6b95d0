"""Pages come from the directory's emergency number when TWILIO_FROM_NUMBER is unset.

The app here is configured exactly as the README's Configuration table tells a reader:
a secret, a database, the public URL and the Twilio credentials (with the API pointed at
the fake Twilio on loopback), and nothing else; in particular no TWILIO_FROM_NUMBER and
no test switch.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from escalation.tasks import worker_tasks
from escalation.wiring import settle
from simulator.rest import FakeTwilioApi
from tests.conftest import PUBLIC_URL, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_SECRET_KEY
from tests.escalation_helpers import SAM, emergency, load_example, wait_sent
from voiceline import extensions
from voiceline.app import create_app
from voiceline.clock import ManualClock
from voiceline.config import load_settings
from voiceline.customers.models import ServiceSetting
from voiceline.extensions import build_services

EMERGENCY_NUMBER = "+15035550100"  # examples/directory.yaml's service.emergency_number


def readme_environment(database_url: str, api_base: str, spool: Path) -> dict[str, str]:
    """Return only the variables the README's Configuration table lists."""
    return {
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": database_url,
        "VOICELINE_PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_API_BASE_URL": api_base,
        "VOICELINE_SPOOL_DIR": str(spool),
    }


@pytest.fixture
def readme_app(
    database_url: str, twilio_api: FakeTwilioApi, clock: ManualClock, tmp_path: Path
) -> Iterator[Flask]:
    """Return the app as a README reader configures it (no TWILIO_FROM_NUMBER)."""
    env = readme_environment(database_url, twilio_api.base_url, tmp_path / "spool")
    settings = load_settings(env)
    assert settings.twilio_from_number is None and not settings.testing
    app = create_app(settings, clock=clock)
    yield app
    settle(app)


def test_pages_come_from_the_directory_emergency_number(readme_app, twilio_api) -> None:
    load_example(readme_app)
    emergency(readme_app.test_client(), readme_app)
    [sms] = wait_sent(twilio_api, "sms", SAM)
    [call] = wait_sent(twilio_api, "call", SAM)
    assert sms.get("From") == EMERGENCY_NUMBER
    assert call.get("From") == EMERGENCY_NUMBER


def test_a_new_emergency_number_is_used_without_a_restart(readme_app, twilio_api) -> None:
    load_example(readme_app)
    with extensions.database(readme_app).session() as session:
        row = session.scalars(select(ServiceSetting)).one()
        row.value = {**row.value, "emergency_number": "+15035550190"}
    emergency(readme_app.test_client(), readme_app)
    [sms] = wait_sent(twilio_api, "sms", SAM)
    assert sms.get("From") == "+15035550190"


def test_twilio_from_number_wins_over_the_directory(
    database_url, twilio_api, clock, tmp_path
) -> None:
    env = readme_environment(database_url, twilio_api.base_url, tmp_path / "spool")
    app = create_app(load_settings({**env, "TWILIO_FROM_NUMBER": "+15035550199"}), clock=clock)
    try:
        load_example(app)
        emergency(app.test_client(), app)
        [sms] = wait_sent(twilio_api, "sms", SAM)
        assert sms.get("From") == "+15035550199"
    finally:
        settle(app)


def test_the_worker_pages_from_the_emergency_number_too(readme_app, twilio_api, clock) -> None:
    load_example(readme_app)
    twilio_api.fail_next("sms", to=SAM, status=500, code=20500)  # retried by the worker
    emergency(readme_app.test_client(), readme_app)
    # The worker builds its own services from the same settings, as ``run_worker`` does.
    services = build_services(extensions.services(readme_app).settings, clock=clock)
    try:
        [(_name, _seconds, tick), *_others] = worker_tasks(services, None)
        clock.advance(timedelta(seconds=5))
        tick()
        [sms] = wait_sent(twilio_api, "sms", SAM)
        assert sms.get("From") == EMERGENCY_NUMBER
    finally:
        services.database.dispose()
