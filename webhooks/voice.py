"""Inbound calls to the emergency line: thin views over ``voiceline.line``.

Each view parses the signed form into an event (``voiceline.twilio_forms``) and the
query string it put in its own callback URLs, then runs the service within the deadline
(``webhooks.deadline.answer_in_time``, on the request's own thread). A caller must always
get TwiML that takes their message: if the service fails or is late, the caller gets
TwiML that records it, and the raw verified form goes to the spool, from which
``voiceline.line.recovery`` replays it through the same parser once the database answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from flask import Flask, Response, current_app, request
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from voiceline import extensions
from voiceline import twilio_forms as forms
from voiceline.incidents.handover import hand_over
from voiceline.line import calls, messages, missed_calls
from voiceline.line.prompts import Prompts
from voiceline.twilio_events import RecordingDone
from voiceline.urls import UrlFor, rule
from webhooks.blueprint import bp
from webhooks.deadline import answer_in_time, spool_of

log = logging.getLogger(__name__)

_paging = ThreadPoolExecutor(max_workers=4, thread_name_prefix="handover")

# The priorities our own <Record> URLs carry; anything else is decided afresh.
PRIORITIES = frozenset({"emergency", "billable", "standard", "unverified", "addendum", "fallback"})


def twiml(response: VoiceResponse | str) -> Response:
    """Return TwiML (built, or rendered already) with the right content type."""
    return Response(str(response), mimetype="text/xml")


def _query_number(name: str) -> int | None:
    """Return a positive whole number from our own query string, or None."""
    number = forms.whole_number(request.args.get(name))
    return number if number else None


def run_for_caller(
    work: Callable[[Session, datetime], calls.Reply],
    fallback: Callable[[], VoiceResponse],
    spool_kind: str,
    **spool_data: Any,
) -> Response:
    """Run ``work`` in a transaction within the deadline; otherwise spool and fall back."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    form = request.form.to_dict()
    now = extensions.clock(app).now()
    database = extensions.database(app)

    def job() -> calls.Reply:
        with database.session() as session:
            return work(session, now)

    try:
        reply = answer_in_time(job, app)
    except TimeoutError:
        log.error(
            "%s for call %s missed its deadline; caller gets the fallback", request.path, _sid()
        )
        spool_of(app).write(spool_kind, form=form, at=now.isoformat(), **spool_data)
        return twiml(fallback())
    except Exception:
        log.exception("%s failed for call %s; caller gets the fallback", request.path, _sid())
        spool_of(app).write(spool_kind, form=form, at=now.isoformat(), **spool_data)
        return twiml(fallback())
    if reply.to_page:
        _paging.submit(hand_over, app, list(reply.to_page))
    return twiml(reply.twiml)


def _sid() -> str:
    """Return the request's call, for the log."""
    return forms.call_leg(request.form).sid


def _goodbye(prompt: str) -> Callable[[], VoiceResponse]:
    """Return a fallback that says ``prompt`` and hangs up (the message is already taken)."""

    def fallback() -> VoiceResponse:
        response = VoiceResponse()
        response.say(Prompts().text(prompt))
        response.hangup()
        return response

    return fallback


def _fallback() -> VoiceResponse:
    return calls.fallback_twiml(extensions.services().callback_url)  # type: ignore[attr-defined]


@bp.post(rule("twilio.incoming_call"))
def incoming_call() -> Response:
    """Answer a call to the emergency line."""
    url_for = extensions.services().callback_url
    event = forms.incoming_call(request.form)
    return run_for_caller(lambda s, now: calls.answer(s, event, now, url_for), _fallback, "call")


@bp.post(rule("twilio.voice_fallback"))
def voice_fallback() -> Response:
    """Twilio's fallback URL: our primary handler failed, so record without the database.

    Twilio asks this URL when ``/twilio/voice`` (or a later step of the call) errors or
    times out, e.g. a web worker killed mid-request. Nothing here touches the database:
    the call goes to the spool (replayed as a missed call if no message follows) and the
    caller hears the recorder, whose message the line takes as usual, or spools in turn.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    now = extensions.clock(app).now()
    log.warning("Twilio used the fallback URL for call %s", _sid())
    try:
        spool_of(app).write("call", form=request.form.to_dict(), at=now.isoformat())
    except OSError:
        log.exception("could not spool call %s from the fallback URL", _sid())
    return twiml(_fallback())


@bp.post(rule("twilio.menu"))
def menu() -> Response:
    """Act on the caller's menu choice."""
    url_for = extensions.services().callback_url
    kind = "billable" if request.args.get("kind") == "billable" else "emergency"
    attempt = _query_number("attempt") or 1
    pressed = forms.key_pressed(request.form)
    return run_for_caller(
        lambda s, now: calls.menu(s, pressed, now, url_for, kind, attempt), _fallback, "call"
    )


def _message_query() -> tuple[str, int | None]:
    """Return the priority and incident our <Record> URL carries (unknown: decide afresh)."""
    priority = request.args.get("priority", "fallback")
    incident_id = _query_number("incident")
    if priority not in PRIORITIES or (priority == "addendum" and incident_id is None):
        # An addendum names its incident; without one the message is taken like any other.
        return "fallback", incident_id
    return priority, incident_id


def _after_record(
    step: Callable[[Session, RecordingDone, datetime, UrlFor, str, int | None], calls.Reply],
    goodbye_prompt: str,
) -> Response:
    """Run a step that follows <Record>; its fallback thanks the caller and hangs up."""
    url_for = extensions.services().callback_url
    priority, incident_id = _message_query()
    done = forms.recording_done(request.form)
    return run_for_caller(
        lambda s, now: step(s, done, now, url_for, priority, incident_id),
        _goodbye(goodbye_prompt),
        "message",
        priority=priority,
        incident=incident_id,
    )


@bp.post(rule("twilio.recorded"))
def recorded() -> Response:
    """The caller finished their message."""
    return _after_record(messages.recorded, "thanks_unknown")


@bp.post(rule("twilio.no_message"))
def no_message() -> Response:
    """The recording was empty; the call still leaves a record."""
    return _after_record(messages.no_message, "no_message")


@bp.post(rule("twilio.desk_result"))
def desk_result() -> Response:
    """The support desk answered, or not."""
    url_for = extensions.services().callback_url
    ended = forms.dial_ended(request.form)
    return run_for_caller(
        lambda s, now: calls.desk_result(s, ended, now, url_for), _fallback, "call"
    )


def _callback(work: Callable[[Session, datetime], list[int]], kind: str, **data: Any) -> Response:
    """Handle a status callback; on failure spool it so nothing is lost."""

    def as_reply(session: Session, now: datetime) -> calls.Reply:
        return calls.Reply(VoiceResponse(), work(session, now))

    run_for_caller(as_reply, VoiceResponse, kind, **data)
    return Response(status=204)


@bp.post(rule("twilio.recording_status"))
def recording_status() -> Response:
    """A recording completed or was absent (too short, silent)."""
    priority, incident_id = _message_query()
    report = forms.recording_reported(request.form)
    return _callback(
        lambda s, now: messages.recording_status(s, report, now, priority, incident_id),
        "recording",
        priority=priority,
        incident=incident_id,
    )


@bp.post(rule("twilio.call_status"))
def call_status() -> Response:
    """An inbound call changed state (the number's 'call status changes' URL)."""
    changed = forms.call_status_changed(request.form)
    return _callback(lambda s, now: missed_calls.call_status(s, changed, now), "call_status")


@bp.post(rule("twilio.transcription"))
def transcription() -> Response:
    """Twilio finished transcribing a message."""
    done = forms.transcription_done(request.form)

    def work(session: Session, now: datetime) -> list[int]:
        messages.transcription(session, done)
        return []

    return _callback(work, "transcription")
