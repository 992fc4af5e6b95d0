"""Paging webhooks keep the caller's promise when the database is slow or gone.

An analyst answering a page hears, within the deadline, that it cannot be loaded and
may try again; SMS replies get an answer; status reports that cannot be stored in time
are kept in the spool and replayed once, whether the late work landed after all (a lock
held too long) or failed (the database gone).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.test import TestResponse

from escalation.page_reports import page_spool, replay_page_reports
from escalation.tasks import worker_tasks
from escalation.wiring import paging_for
from simulator.rest import FakeTwilioApi
from tests.conftest import LINE_NUMBER, PRODUCT_ANSWER_DEADLINE, app_config, post_signed
from tests.escalation_helpers import (
    SAM,
    emergency,
    incident,
    kinds,
    load_example,
    pages,
    quiet,
)
from tests.line_helpers import TwiML, path_of
from tests.tcp_proxy import TcpProxy
from voiceline import extensions
from voiceline.app import create_app
from voiceline.clock import ManualClock
from webhooks.deadline import wait_for_late_work

VOICE = "0.0.sam.voice.1"
SMS = "0.0.sam.sms.1"
PROMISE_SECONDS = 2.0  # what the README promises a caller; an analyst gets the same


@contextmanager
def writes_blocked(database_url: str) -> Iterator[None]:
    """Hold a lock that makes every paging write wait (SQLite: 15 s busy timeout)."""
    if database_url.startswith("sqlite"):
        blocker = sqlite3.connect(make_url(database_url).database or "", timeout=0)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            blocker.rollback()
            blocker.close()
        return
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        # Readers go on; FOR UPDATE (every page webhook locks its incident) waits.
        conn.execute(text("LOCK TABLE incidents IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            conn.rollback()
    engine.dispose()


def timed(post: Callable[[], TestResponse]) -> TestResponse:
    started = time.monotonic()
    response = post()
    seconds = time.monotonic() - started
    assert seconds < PROMISE_SECONDS, f"Twilio waited {seconds:.2f}s"
    return response


def call_sid(app: Flask) -> str:
    sid = pages(app)[VOICE].provider_sid
    assert sid is not None
    return sid


def kept(app: Flask) -> list[dict]:
    """Return the page reports waiting in the spool."""
    spool = page_spool(extensions.services(app).settings.spool_dir)
    return [json.loads(p.read_text("utf-8")) for p in spool.pending_files()]


def with_product_deadline(app: Flask) -> None:
    """Answer within the product's own deadline (the test apps allow 6 s)."""
    settings = app.config["VOICELINE"]
    app.config["VOICELINE"] = replace(
        settings, answer_deadline_seconds=float(PRODUCT_ANSWER_DEADLINE)
    )


@pytest.fixture
def paged(app: Flask, client: FlaskClient) -> Flask:
    """An emergency from Acme Dental has paged Sam (Tier 1) by SMS and voice.

    These tests are about the deadline: the app answers within the product's own.
    """
    with_product_deadline(app)
    load_example(app)
    emergency(client, app)
    quiet(app)
    return app


def test_a_page_call_while_the_database_is_locked_offers_to_try_again(
    paged: Flask, client: FlaskClient, database_url: str
) -> None:
    voice = {"CallSid": call_sid(paged), "From": LINE_NUMBER, "To": SAM}
    with writes_blocked(database_url):
        answered = timed(lambda: post_signed(client, f"/twilio/page/1/{VOICE}", voice))
        twiml = TwiML.parse(answered.data)
        assert "details cannot be loaded right now. To try again, press any key." in twiml.says()
        assert path_of(twiml.one("Gather").get("action", "")) == f"/twilio/page/1/{VOICE}?round=2"
        assert twiml.verbs() == ["Gather", "Say", "Hangup"]

        pressed = timed(
            lambda: post_signed(client, f"/twilio/page/1/{VOICE}/keys", {**voice, "Digits": "1"})
        )
        assert "could not confirm your choice right now" in TwiML.parse(pressed.data).says()

        ended = {**voice, "DialCallStatus": "completed"}
        bridge = timed(lambda: post_signed(client, f"/twilio/page/1/{VOICE}/bridge", ended))
        assert TwiML.parse(bridge.data).verbs() == ["Hangup"]

        reply = {"MessageSid": "SM" + "a" * 32, "From": SAM, "To": LINE_NUMBER, "Body": "A"}
        texted = timed(lambda: post_signed(client, "/twilio/sms", reply))
        assert texted.status_code == 200
        assert "could not process your reply just now" in texted.get_data(as_text=True)
    assert kept(paged) == []  # nothing of these is a report to replay
    # The key press and the reply were only late: they land once the lock is gone.
    assert wait_for_late_work(timeout=20)
    quiet(paged)
    assert incident(paged).acknowledged_by_id is not None


def status_reports(app: Flask) -> list[tuple[str, dict[str, str]]]:
    sid = call_sid(app)
    return [
        (f"/twilio/status/page/1/{VOICE}", {"CallSid": sid, "CallStatus": "busy", "SequenceNumber": "3"}),
        (f"/twilio/page/1/{VOICE}/amd", {"CallSid": sid, "AnsweredBy": "machine_start"}),
        (f"/twilio/status/page/1/{SMS}", {"MessageSid": pages(app)[SMS].provider_sid or "", "MessageStatus": "delivered"}),
    ]  # fmt: skip


def post_reports_within_the_deadline(client: FlaskClient, reports) -> None:  # type: ignore[no-untyped-def]
    for path, form in reports:
        assert timed(lambda: post_signed(client, path, form)).status_code == 204  # noqa: B023


def assert_applied_once(app: Flask) -> None:
    rows = pages(app)
    assert rows[SMS].status == "delivered"
    assert rows[VOICE].status == "busy" and rows[VOICE].answered_by == "machine_start"
    assert kinds(app).count("page_delivered") == 1
    assert kinds(app).count("page_machine") == 1


def test_reports_held_up_by_a_lock_are_kept_and_applied_once(
    paged: Flask, client: FlaskClient, database_url: str
) -> None:
    reports = status_reports(paged)
    with writes_blocked(database_url):
        post_reports_within_the_deadline(client, reports)
        entries = kept(paged)
    assert [e["kind"] for e in entries] == ["page_status", "page_amd", "page_status"]
    assert [e["form"] for e in entries] == [form for _, form in reports]  # raw, as posted
    assert {(e["incident"], e["key"]) for e in entries} == {(1, VOICE), (1, SMS)}
    # The late work lands once the lock is released; the replay then finds it done.
    assert wait_for_late_work(timeout=20)
    quiet(paged)
    assert pages(paged)[SMS].status == "delivered"
    spool = page_spool(extensions.services(paged).settings.spool_dir)
    assert replay_page_reports(paging_for(paged), spool) == 3
    quiet(paged)
    assert_applied_once(paged)
    assert kept(paged) == []


@pytest.fixture
def outage(
    database_url: str, twilio_api: FakeTwilioApi, clock: ManualClock, tmp_path: Path
) -> Iterator[tuple[Flask, Callable[[], None], Callable[[], None]]]:
    """An app paging Sam, and (take the database away, bring it back)."""
    url = make_url(database_url)
    proxy = None
    if url.drivername.startswith("postgresql"):
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        database_url = url.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False
        )
    spool_dir = str(tmp_path / "spool")
    app = create_app(
        app_config(
            database_url,
            twilio_api.base_url,
            VOICELINE_SPOOL_DIR=spool_dir,
            VOICELINE_ANSWER_DEADLINE_SECONDS=PRODUCT_ANSWER_DEADLINE,
        ),
        clock=clock,
    )
    load_example(app)
    emergency(app.test_client(), app)
    quiet(app)
    files = [Path(f"{url.database}{suffix}") for suffix in ("", "-wal", "-shm")]

    def away() -> None:
        extensions.database(app).dispose()
        if proxy is not None:
            proxy.black_hole()
            return
        for file in files:  # a new connection finds an empty database: no tables
            if file.exists():
                os.replace(file, f"{file}.away")

    def back() -> None:
        extensions.database(app).dispose()
        if proxy is not None:
            proxy.restore()
            return
        for file in files:
            file.unlink(missing_ok=True)
            if Path(f"{file}.away").exists():
                os.replace(f"{file}.away", file)

    yield app, away, back
    quiet(app)
    if proxy is not None:
        proxy.close()


def test_reports_that_fail_while_the_database_is_gone_are_replayed_once(outage) -> None:  # type: ignore[no-untyped-def]
    app, away, back = outage
    client = app.test_client()
    reports = status_reports(app)
    before = kinds(app)
    away()
    try:
        post_reports_within_the_deadline(client, reports)
        assert len(kept(app)) == 3
        assert wait_for_late_work(timeout=20)  # it fails: it finds no database
    finally:
        back()
    assert kinds(app) == before  # nothing reached the database
    # The worker's task replays them (its Paging sends at once, no background pool).
    [replay] = [
        run
        for name, _, run in worker_tasks(extensions.services(app), None)
        if name == "page-reports"
    ]
    replay()
    assert_applied_once(app)
    assert kept(app) == []
    spool = page_spool(extensions.services(app).settings.spool_dir)
    assert replay_page_reports(paging_for(app), spool) == 0
