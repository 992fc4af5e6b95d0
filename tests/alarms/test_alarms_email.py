"""Alarms are emailed to VOICELINE_ALARM_EMAIL after the commit, never in the paging path.

A real SMTP server (aiosmtpd) listens on loopback; one that never answers and a port
nobody listens on stand for a mail server that hangs or is down.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from escalation.wiring import settle
from simulator.rest import FakeTwilioApi
from tests.alarms.alarm_helpers import (  # noqa: F401  (mailbox: a fixture)
    ALARM_FROM,
    ALARM_TO,
    Mailbox,
    alarms,
    body_of,
    free_port,
    mailbox,
    make_app,
    readme_env,
)
from tests.conftest import LINE_NUMBER, PUBLIC_URL
from tests.escalation_helpers import SAM, desk, emergency, load_text, sent
from voiceline import extensions
from voiceline.alarms import AlarmMailer, mailer_for, raise_alarm
from voiceline.alarms.mail import install_mailer
from voiceline.alarms.service import RaisedAlarm
from voiceline.clock import ManualClock
from voiceline.config import ConfigError, load_settings
from voiceline.db import Database
from voiceline.sla.report_mail import smtp_settings

EMPTY_STEPS = "      - {targets: [{on_call: tier2}], channels: [sms, voice], delay: 5m}"
SMS_ONLY = "      - {targets: [{on_call: tier1}], channels: [sms], delay: 5m}"


def mail_env(database_url: str, api: str, tmp_path: Path, smtp_url: str) -> dict[str, str]:
    """Return the README's variables with alarm email on."""
    return readme_env(
        database_url,
        api,
        tmp_path,
        TWILIO_FROM_NUMBER=LINE_NUMBER,
        SMTP_URL=smtp_url,
        VOICELINE_REPORT_FROM=ALARM_FROM,
        VOICELINE_ALARM_EMAIL=", ".join(ALARM_TO),
    )


@pytest.fixture
def mail_app(
    database_url: str,
    twilio_api: FakeTwilioApi,
    clock: ManualClock,
    tmp_path: Path,
    mailbox: Mailbox,  # noqa: F811
) -> Iterator[Flask]:
    app = make_app(mail_env(database_url, twilio_api.base_url, tmp_path, mailbox.url), clock)
    yield app
    settle(app)


def test_nobody_paged_is_emailed_to_the_alarm_addresses(
    mail_app: Flask,
    mailbox: Mailbox,  # noqa: F811
) -> None:
    load_text(mail_app, desk(EMPTY_STEPS, tier2="[]"))
    emergency(mail_app.test_client(), mail_app)
    [(recipients, message)] = mailbox.wait(1)
    assert sorted(recipients) == sorted(ALARM_TO)
    assert message["From"] == ALARM_FROM
    assert message["To"] == ", ".join(ALARM_TO)
    # The two alarms of one decision arrive in one email.
    assert message["Subject"] == (
        "Voiceline alarm: incident 1: nobody could be paged in 1 pass(es): no step resolved to "
        "anyone (+1 more)"
    )
    body = body_of(message)
    assert "[nobody_paged]  incident 1: nobody could be paged: every step" in body
    assert f"{PUBLIC_URL}/admin/incidents/1" in body
    assert f"Open alarms: {PUBLIC_URL}/admin/alarms" in body


def test_a_hanging_mail_server_does_not_hold_up_paging(
    database_url: str, twilio_api: FakeTwilioApi, clock: ManualClock, tmp_path: Path
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never says a word
        smtp = f"smtp://127.0.0.1:{silent.getsockname()[1]}"
        app = make_app(mail_env(database_url, twilio_api.base_url, tmp_path, smtp), clock)
        try:
            load_text(app, desk(SMS_ONLY))
            twilio_api.fail_next("sms", to=SAM, status=400, code=21211)
            started = time.monotonic()
            emergency(app.test_client(), app)
            [call] = sent(twilio_api, "call", SAM)  # the fallback went out meanwhile
            took = time.monotonic() - started
            assert took < 5.0, f"paging waited {took:.1f}s for the mail server"
            assert [a.kind for a in alarms(app)] == ["page_failed"]
        finally:
            settle(app)


def test_a_mail_server_that_is_down_is_logged_not_raised(
    database_url: str,
    twilio_api: FakeTwilioApi,
    clock: ManualClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    smtp = f"smtp://127.0.0.1:{free_port()}"
    app = make_app(mail_env(database_url, twilio_api.base_url, tmp_path, smtp), clock)
    try:
        load_text(app, desk(SMS_ONLY))
        twilio_api.fail_next("sms", to=SAM, status=400, code=21211)
        with caplog.at_level(logging.ERROR, logger="voiceline.alarms.mail"):
            emergency(app.test_client(), app)
            mailer = mailer_for(extensions.database(app).sessions)
            assert mailer is not None and mailer.flush()
        assert len(sent(twilio_api, "call", SAM)) == 1
        [record] = caplog.records
        assert record.getMessage().startswith(
            f"alarm email to {', '.join(ALARM_TO)} not sent: could not send the alarm email"
        )
        assert mailer.sent == 0
    finally:
        settle(app)


def test_only_committed_alarms_are_emailed(database_url: str, mailbox: Mailbox) -> None:  # noqa: F811
    database = Database(database_url)
    settings = smtp_settings({"SMTP_URL": mailbox.url, "VOICELINE_REPORT_FROM": ALARM_FROM})
    install_mailer(database.sessions, AlarmMailer(settings, ALARM_TO, PUBLIC_URL))
    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    try:
        with pytest.raises(RuntimeError), database.session() as session:
            raise_alarm(session, "nobody_paged", "rolled back with its transaction", now=now)
            raise RuntimeError("the decision failed")
        with database.session() as session:
            raise_alarm(session, "nobody_paged", "committed", now=now)
            assert raise_alarm(session, "nobody_paged", "committed", now=now) is None  # open
        [(_, message)] = mailbox.wait(1)
        assert message["Subject"] == "Voiceline alarm: committed"
        time.sleep(0.3)
        assert len(mailbox.messages()) == 1
    finally:
        database.dispose()


def test_alarms_during_the_cooldown_go_in_one_email(mailbox: Mailbox) -> None:  # noqa: F811
    settings = smtp_settings({"SMTP_URL": mailbox.url, "VOICELINE_REPORT_FROM": ALARM_FROM})
    mailer = AlarmMailer(settings, ALARM_TO, PUBLIC_URL, cooldown=1.0)
    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    mailer.submit([RaisedAlarm(now, "page_failed", "first", 1)])
    mailbox.wait(1)
    mailer.submit([RaisedAlarm(now, "page_failed", "second", 1)])
    mailer.submit([RaisedAlarm(now, "escalation", "third", 2)])
    messages = mailbox.wait(2)
    assert mailer.flush()
    assert [m["Subject"] for _, m in messages] == [
        "Voiceline alarm: first",
        "Voiceline alarm: second (+1 more)",
    ]
    assert "[escalation]  third" in body_of(messages[1][1])


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        ({"VOICELINE_ALARM_EMAIL": "lead@cascade.example"}, "VOICELINE_ALARM_EMAIL"),
        (
            {
                "SMTP_URL": "smtp://127.0.0.1",
                "VOICELINE_REPORT_FROM": ALARM_FROM,
                "VOICELINE_ALARM_EMAIL": "lead@cascade.example, not an address",
            },
            "VOICELINE_ALARM_EMAIL",
        ),
        (
            {"VOICELINE_ALARM_EMAIL": "lead@cascade.example", "SMTP_URL": "smtp://h"},
            "VOICELINE_REPORT_FROM",
        ),
    ],
)
def test_alarm_email_settings_are_checked_at_start(extra: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings({"SECRET_KEY": "x" * 32, **extra})


def test_alarm_addresses_are_read_as_a_list() -> None:
    settings = load_settings(
        {
            "SECRET_KEY": "x" * 32,
            "SMTP_URL": "smtp://127.0.0.1",
            "VOICELINE_REPORT_FROM": ALARM_FROM,
            "VOICELINE_ALARM_EMAIL": " lead@cascade.example ,manager@cascade.example,",
        }
    )
    assert settings.alarm_email == ALARM_TO
