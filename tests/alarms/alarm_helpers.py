"""Helpers for the alarm tests: an app configured as the README says, a mailbox, rows.

The SMTP server is aiosmtpd's on loopback (the process boundary); the Twilio API is the
simulator's fake REST API. Credentials and addresses are made up.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import PUBLIC_URL, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_SECRET_KEY
from voiceline import extensions
from voiceline.admin.models import AdminNotice
from voiceline.app import create_app
from voiceline.clock import ManualClock
from voiceline.config import load_settings

ALARM_FROM = "Voiceline alarms <alarms@cascade.example>"
ALARM_TO = ("lead@cascade.example", "manager@cascade.example")


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def readme_env(database_url: str, api_base: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Return only variables the README's Configuration table lists (no test switch)."""
    env = {
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": database_url,
        "VOICELINE_PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_API_BASE_URL": api_base,
        "VOICELINE_SPOOL_DIR": str(tmp_path / "spool"),
    }
    env.update(extra)
    return env


def make_app(env: dict[str, str], clock: ManualClock) -> Flask:
    """Create the app from exactly ``env`` (not the test runner's environment)."""
    return create_app(load_settings(env), clock=clock)


def health(client: FlaskClient) -> dict[str, Any]:
    """Return /healthz's body; it must answer 200 (the line keeps serving calls)."""
    response = client.get("/healthz")
    assert response.status_code == 200, response.data
    body: dict[str, Any] = response.json  # type: ignore[assignment]
    return body


@dataclass(frozen=True)
class Alarm:
    """An alarm row, detached."""

    kind: str
    message: str
    incident_id: int | None
    analyst_id: int | None
    is_open: bool


def alarms(app: Flask) -> list[Alarm]:
    """Return every alarm (admin notice), oldest first."""
    with extensions.database(app).session() as session:
        rows = session.scalars(select(AdminNotice).order_by(AdminNotice.id))
        return [
            Alarm(r.kind, r.message, r.incident_id, r.analyst_id, r.resolved_at is None)
            for r in rows
        ]


def open_kinds(app: Flask) -> list[str]:
    """Return the kinds of the open alarms, oldest first."""
    return [a.kind for a in alarms(app) if a.is_open]


class _Collect:
    """aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class Mailbox:
    """An SMTP server on loopback and what it received."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = _Collect()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def messages(self) -> list[tuple[list[str], Message]]:
        """Return (recipients, parsed message) of everything received."""
        return [
            (list(e.rcpt_tos), message_from_bytes(e.original_content, policy=policy.default))
            for e in self.handler.envelopes
        ]

    def wait(self, count: int = 1, timeout: float = 5.0) -> list[tuple[list[str], Message]]:
        """Wait until ``count`` messages arrived; return them all."""
        deadline = time.monotonic() + timeout
        while len(self.handler.envelopes) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.handler.envelopes)} email(s) after {timeout}s")
            time.sleep(0.02)
        return self.messages()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """Run an SMTP server on loopback for this test."""
    box = Mailbox()
    box.controller.start()
    yield box
    box.controller.stop()


def body_of(message: Message) -> str:
    """Return a plain-text email's body."""
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()
