"""Inbound calls to the emergency line: thin views over ``voiceline.line.calls``.

A caller must always get TwiML that takes their message, fast. Each view runs its work
on a small thread pool with a deadline; if the work fails or is still running when the
deadline passes (a database outage, a slow dependency), the caller gets TwiML that
records their message and what is needed to recover it goes to the spool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime
from typing import Any

from flask import Flask, Response, current_app, request
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from voiceline import extensions
from voiceline.incidents.handover import hand_over
from voiceline.line import calls as line
from voiceline.line.prompts import Prompts
from voiceline.line.spool import Spool
from voiceline.urls import UrlFor
from webhooks.blueprint import bp

log = logging.getLogger(__name__)

ANSWER_DEADLINE_SECONDS = 1.2
_work = ThreadPoolExecutor(max_workers=16, thread_name_prefix="voice")
_paging = ThreadPoolExecutor(max_workers=4, thread_name_prefix="handover")


def twiml(response: VoiceResponse) -> Response:
    """Return TwiML with the right content type."""
    return Response(str(response), mimetype="text/xml")


def spool_of(app: Flask) -> Spool:
    """Return the app's spool for messages taken while the database is unreachable."""
    return Spool(app.config["VOICELINE"].spool_dir)


def _optional_int(name: str) -> int | None:
    value = request.args.get(name)
    return int(value) if value and value.isdigit() else None


def run_for_caller(
    work: Callable[[Session, dict[str, str], datetime], line.Reply],
    fallback: Callable[[], VoiceResponse],
    spool_kind: str,
    **spool_data: Any,
) -> Response:
    """Run ``work`` in a transaction within the deadline; otherwise spool and fall back."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    form = request.form.to_dict()
    now = extensions.clock(app).now()
    database = extensions.database(app)

    def job() -> line.Reply:
        with database.session() as session:
            return work(session, form, now)

    future = _work.submit(job)
    try:
        reply = future.result(timeout=ANSWER_DEADLINE_SECONDS)
    except FutureTimeout:
        log.error(
            "%s for call %s missed its deadline; caller gets the fallback",
            request.path,
            form.get("CallSid"),
        )
        spool_of(app).write(spool_kind, form=form, at=now.isoformat(), **spool_data)
        return twiml(fallback())
    except Exception:
        log.exception(
            "%s failed for call %s; caller gets the fallback", request.path, form.get("CallSid")
        )
        spool_of(app).write(spool_kind, form=form, at=now.isoformat(), **spool_data)
        return twiml(fallback())
    if reply.to_page:
        _paging.submit(hand_over, app, list(reply.to_page))
    return twiml(reply.twiml)


def _goodbye(prompt: str) -> Callable[[], VoiceResponse]:
    """Return a fallback that says ``prompt`` and hangs up (the message is already taken)."""

    def fallback() -> VoiceResponse:
        response = VoiceResponse()
        response.say(Prompts().text(prompt))
        response.hangup()
        return response

    return fallback


def _fallback() -> VoiceResponse:
    return line.fallback_twiml(extensions.services().callback_url)  # type: ignore[attr-defined]


@bp.post("/voice")
def incoming_call() -> Response:
    """Answer a call to the emergency line."""
    url_for = extensions.services().callback_url
    return run_for_caller(lambda s, f, now: line.answer(s, f, now, url_for), _fallback, "call")


@bp.post("/voice/menu")
def menu() -> Response:
    """Act on the caller's menu choice."""
    url_for = extensions.services().callback_url
    kind = "billable" if request.args.get("kind") == "billable" else "emergency"
    attempt = _optional_int("attempt") or 1
    return run_for_caller(
        lambda s, f, now: line.menu(s, f, now, url_for, kind, attempt), _fallback, "call"
    )


def _after_record(
    step: Callable[[Session, dict[str, str], datetime, UrlFor, str, int | None], line.Reply],
    goodbye_prompt: str,
) -> Response:
    """Run a step that follows <Record>; its fallback thanks the caller and hangs up."""
    url_for = extensions.services().callback_url
    priority = request.args.get("priority", "fallback")
    incident_id = _optional_int("incident")
    return run_for_caller(
        lambda s, f, now: step(s, f, now, url_for, priority, incident_id),
        _goodbye(goodbye_prompt),
        "message",
        priority=priority,
        incident=incident_id,
    )


@bp.post("/voice/recorded")
def recorded() -> Response:
    """The caller finished their message."""
    return _after_record(line.recorded, "thanks_unknown")


@bp.post("/voice/no-message")
def no_message() -> Response:
    """The recording was empty; the call still leaves a record."""
    return _after_record(line.no_message, "no_message")


@bp.post("/voice/desk")
def desk_result() -> Response:
    """The support desk answered, or not."""
    url_for = extensions.services().callback_url
    return run_for_caller(lambda s, f, now: line.desk_result(s, f, now, url_for), _fallback, "call")


def _callback(
    work: Callable[[Session, dict[str, str], datetime], list[int]], kind: str, **data: Any
) -> Response:
    """Handle a status callback; on failure spool it so nothing is lost."""

    def as_reply(session: Session, form: dict[str, str], now: datetime) -> line.Reply:
        return line.Reply(VoiceResponse(), work(session, form, now))

    run_for_caller(as_reply, VoiceResponse, kind, **data)
    return Response(status=204)


@bp.post("/recording")
def recording_status() -> Response:
    """A recording completed or was absent (too short, silent)."""
    priority = request.args.get("priority", "fallback")
    incident_id = _optional_int("incident")
    return _callback(
        lambda s, f, now: line.recording_status(s, f, now, priority, incident_id),
        "recording",
        priority=priority,
        incident=incident_id,
    )


@bp.post("/status/call")
def call_status() -> Response:
    """An inbound call changed state (the number's 'call status changes' URL)."""
    return _callback(lambda s, f, now: line.call_status(s, f, now), "call_status")


@bp.post("/transcription")
def transcription() -> Response:
    """Twilio finished transcribing a message."""

    def work(session: Session, form: dict[str, str], now: datetime) -> list[int]:
        line.transcription(session, form)
        return []

    return _callback(work, "transcription")
