"""The emergency line's call flow: answering, the menus, and the support desk.

Each function takes one Twilio event (``voiceline.twilio_events``) for one call and
returns a ``Reply``: the TwiML (built with ``twilio.twiml.voice_response``) and the
incidents to hand over to paging once the transaction commits. Decisions are pure
(``entitlement.decide``); this module joins them to the directory and the database.
What follows the ``<Record>`` (the message, its recording, its transcription) is in
``voiceline.line.messages``; calls that end without one are in
``voiceline.line.missed_calls``. The split follows the call: the flow up to the beep
changes with the plans and prompts, the message-taking with the incident's rules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from voiceline.customers.entitlement import Route, decide
from voiceline.customers.services import Target, plan_terms_for
from voiceline.db import begin_writes, each_statement_commits
from voiceline.hours import is_open_at
from voiceline.incidents.log import log_event
from voiceline.incidents.models import Incident
from voiceline.line.call_rows import ensure_call, store_first_call, store_new_call, stored_call
from voiceline.line.caller_view import (
    CallView,
    kept_answer,
    kept_view,
    terms_of,
    view_and_open_incident,
    view_of,
)
from voiceline.line.incidents import PAGED_PRIORITIES
from voiceline.line.prompts import Prompts
from voiceline.phones import caller_e164
from voiceline.twilio_events import CallLeg, DialEnded, IncomingCall, KeyPressed
from voiceline.urls import UrlFor

log = logging.getLogger(__name__)

MAX_MESSAGE_SECONDS = 300
SILENCE_TIMEOUT_SECONDS = 10
MENU_TIMEOUT_SECONDS = 6
DESK_RING_SECONDS = 25


@dataclass
class Reply:
    """TwiML for the caller, and incidents to page once committed."""

    twiml: VoiceResponse | str  # a str is TwiML already rendered (``kept_answer``)
    to_page: list[int] = field(default_factory=list)


# --- recording TwiML shared by every path -------------------------------------------------


def record_message(
    response: VoiceResponse, view: CallView, url_for: UrlFor, priority: str, **query: str
) -> None:
    """Ask for the message, record it, and say what happens if nothing was said."""
    response.record(
        action=url_for("twilio.recorded", priority=priority, **query),
        method="POST",
        max_length=MAX_MESSAGE_SECONDS,
        timeout=SILENCE_TIMEOUT_SECONDS,
        finish_on_key="#",
        play_beep=True,
        trim="trim-silence",
        recording_status_callback=url_for("twilio.recording_status", priority=priority, **query),
        recording_status_callback_event="completed absent",
        recording_status_callback_method="POST",
        transcribe=bool(view.service.get("transcribe", False)),
        transcribe_callback=url_for("twilio.transcription"),
    )
    # An empty recording skips the action and falls through to the next verb.
    response.redirect(url_for("twilio.no_message", priority=priority, **query), method="POST")


def fallback_twiml(url_for: UrlFor, prompts: Prompts | None = None) -> VoiceResponse:
    """Return TwiML that takes a message whatever is broken inside."""
    prompts = prompts or Prompts()
    response = VoiceResponse()
    response.say(prompts.text("greeting", service="support"), **prompts.say_kwargs())
    response.say(prompts.text("record_fallback"), **prompts.say_kwargs())
    response.record(
        action=url_for("twilio.recorded", priority="fallback"),
        method="POST",
        max_length=MAX_MESSAGE_SECONDS,
        timeout=SILENCE_TIMEOUT_SECONDS,
        finish_on_key="#",
        recording_status_callback=url_for("twilio.recording_status", priority="fallback"),
        recording_status_callback_event="completed absent",
        recording_status_callback_method="POST",
    )
    response.say(prompts.text("thanks_unknown"), **prompts.say_kwargs())
    response.hangup()
    return response


# --- the call, step by step ---------------------------------------------------------------


def caller_number(leg: CallLeg) -> str | None:
    """Return the caller's number in E.164, or None when withheld or unreadable."""
    # Twilio gives the caller's country when it knows it; local digits are read in it.
    return caller_e164(leg.from_number, default_region=leg.country or "US")


def answer(session: Session, event: IncomingCall, now: datetime, url_for: UrlFor) -> Reply:
    """Answer a new call: identify the caller and choose the path for this moment.

    A caller the directory cache keeps is answered in one statement, the call's row
    written on the condition that what was kept still holds (``_answer_kept``). Otherwise
    the directory's version and the caller's open incident are read first. Every path
    but a repeat call writes one statement, so each statement commits alone
    (``each_statement_commits``).
    """
    each_statement_commits(session)
    leg = event.call
    number = caller_number(leg)
    kept = _answer_kept(session, leg, number, now, url_for)
    if kept is not None:
        return kept
    view, existing = view_and_open_incident(session, number, now)

    # Only an emergency that is being paged turns a new call into an update: a caller with
    # a next-business-day message open must still reach the menu if the business is down.
    if existing is not None and existing.priority in PAGED_PRIORITIES:
        begin_writes(session)  # the call's row and the incident's log, together
        store_new_call(session, leg, view, "repeat", incident_id=existing.id)
        log_event(session, existing, "caller_called_again", now, actor=number, call_sid=leg.sid)
        response = VoiceResponse()
        _say_status(response, view, existing, session)
        view.say(response, "repeat_add")
        record_message(response, view, url_for, "addendum", incident=str(existing.id))
        return Reply(response)

    # The call's row is written last: on SQLite the INSERT takes the database's one write
    # lock until the commit, and every other caller's INSERT waits on it meanwhile.
    route, twiml = _first_answer(view, now, url_for)
    store_new_call(session, leg, view, route)
    return Reply(twiml)


def _answer_kept(
    session: Session, leg: CallLeg, number: str | None, now: datetime, url_for: UrlFor
) -> Reply | None:
    """Answer a kept caller with one statement; None when it wrote nothing.

    The answer is worked out from the kept listing as for a caller with no open
    incident, and its row is written only if the directory is still the version the
    listing was read at and the caller has no open incident (``store_first_call``).
    If either changed, or a retry of this request already wrote the row, the answer is
    dropped and the caller is answered the long way, which reads both.
    """
    found = kept_view(session, number, now)
    if found is None:
        return None
    view, version = found
    route, twiml = _first_answer(view, now, url_for)
    if store_first_call(session, leg, view, route, version):
        return Reply(twiml)
    return None


def _first_answer(view: CallView, now: datetime, url_for: UrlFor) -> tuple[str, str]:
    """Return the route of a call from a caller with no open emergency, and its TwiML."""
    if not view.caller.is_authorized or view.caller.customer is None:
        decision = decide(None, view.calendar, now)
        if decision.route is Route.DESK and _desk_number(view):
            return "desk", kept_answer(view, url_for, "desk", lambda: _dial_desk(view, url_for))

        def unknown() -> VoiceResponse:
            response = VoiceResponse()
            view.say(response, "greeting")
            view.say(response, "record_unknown")
            record_message(response, view, url_for, "unverified")
            return response

        return "unknown", kept_answer(view, url_for, "unknown", unknown)

    decision = decide(terms_of(view), view.calendar, now)
    route = decision.route
    if route is Route.DESK and _desk_number(view):
        return route.value, kept_answer(view, url_for, "desk", lambda: _dial_desk(view, url_for))

    def menu_or_message() -> VoiceResponse:
        response = VoiceResponse()
        view.say(response, "greeting")
        if route in (Route.EMERGENCY_MENU, Route.BILLABLE_MENU):
            _menu(response, view, url_for, route, attempt=1)
        else:
            view.say(response, "record_standard")
            record_message(response, view, url_for, "standard")
        return response

    return route.value, kept_answer(view, url_for, route.value, menu_or_message)


def _desk_number(view: CallView) -> str | None:
    customer = view.caller.customer
    number = customer.desk_number if customer and customer.desk_number else None
    return number or (str(view.service["desk_number"]) if view.service.get("desk_number") else None)


def _dial_desk(view: CallView, url_for: UrlFor) -> VoiceResponse:
    response = VoiceResponse()
    view.say(response, "desk_connect")
    dial = response.dial(
        action=url_for("twilio.desk_result"), method="POST", timeout=DESK_RING_SECONDS
    )
    dial.number(_desk_number(view))
    return response


def _menu(
    response: VoiceResponse, view: CallView, url_for: UrlFor, route: Route, attempt: int
) -> None:
    kind = "emergency" if route is Route.EMERGENCY_MENU else "billable"
    action = url_for("twilio.menu", kind=kind, attempt=str(attempt))
    gather = response.gather(
        num_digits=1, action=action, method="POST", timeout=MENU_TIMEOUT_SECONDS, input="dtmf"
    )
    view.say(gather, f"{kind}_menu")
    # No input falls through the Gather: come back without Digits.
    response.redirect(action, method="POST")


def menu(
    session: Session, pressed: KeyPressed, now: datetime, url_for: UrlFor, kind: str, attempt: int
) -> Reply:
    """Act on the digit pressed in the emergency or billable menu."""
    view = view_of(session, caller_number(pressed.call), now)
    call = ensure_call(session, pressed.call, view, f"{kind}_menu")
    digit = pressed.digits[:1]
    response = VoiceResponse()
    route = Route.EMERGENCY_MENU if kind == "emergency" else Route.BILLABLE_MENU
    if digit == "1" and kind == "emergency":
        call.choice = "emergency"
        view.say(response, "record_emergency")
        record_message(response, view, url_for, "emergency")
    elif digit == "1" and kind == "billable":
        call.choice = "billable"
        call.billable_consent_at = now
        view.say(response, "record_billable")
        record_message(response, view, url_for, "billable")
    elif digit == "2":
        call.choice = "standard"
        view.say(response, "record_standard")
        record_message(response, view, url_for, "standard")
    elif attempt < 2:
        view.say(response, "menu_again")
        _menu(response, view, url_for, route, attempt=attempt + 1)
    else:
        # Never hang up on a caller: after the menu twice, take the message anyway.
        # A covered caller who cannot use the keypad is treated as an emergency.
        priority = "emergency" if kind == "emergency" else "standard"
        call.choice = f"{priority} (no input)"
        view.say(response, f"record_{priority}")
        record_message(response, view, url_for, priority)
    return Reply(response)


def _say_status(
    response: VoiceResponse, view: CallView, incident: Incident, session: Session
) -> None:
    minutes = int((view.now - incident.opened_at).total_seconds() // 60)
    ago = "just now" if minutes < 1 else f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    missed = incident.summary.startswith("Missed ")
    view.say(response, "repeat_logged" if missed else "repeat_received", ago=ago)
    if incident.callback_at is not None:
        view.say(response, "repeat_called_back")
    elif incident.acknowledged_by_id is not None:
        from oncall.models import Analyst

        analyst = session.get(Analyst, incident.acknowledged_by_id)
        view.say(
            response,
            "repeat_acknowledged",
            analyst=analyst.name.split()[0] if analyst else "An analyst",
        )
    elif incident.priority in PAGED_PRIORITIES:
        target = (
            Target(incident.target_minutes, incident.target_clock or "wall")
            if incident.target_minutes
            else None
        )
        view.say(
            response, "repeat_paged", target=target.phrase() if target else "as soon as possible"
        )
    else:
        view.say(response, "repeat_standard")


def desk_result(session: Session, ended: DialEnded, now: datetime, url_for: UrlFor) -> Reply:
    """The desk answered (done) or did not (the emergency menu if covered, else a message)."""
    response = VoiceResponse()
    call = stored_call(session, ended.call.sid)
    if call is not None:
        call.choice = f"desk {ended.dial_status or 'unknown'}"
    if ended.dial_status == "completed":
        response.hangup()
        return Reply(response)
    view = view_of(session, caller_number(ended.call), now)
    view.say(response, "desk_missed")
    customer = view.caller.customer
    if view.caller.is_authorized and customer is not None and _is_covered_now(view):
        # A plan that covers this hour still gets its emergency path when the desk is busy.
        _menu(response, view, url_for, Route.EMERGENCY_MENU, attempt=1)
    elif view.caller.is_authorized:
        view.say(response, "record_standard")
        record_message(response, view, url_for, "standard")
    else:
        view.say(response, "record_unknown")
        record_message(response, view, url_for, "unverified")
    return Reply(response)


def _is_covered_now(view: CallView) -> bool:
    assert view.caller.customer is not None
    terms = plan_terms_for(view.caller.customer.plan)
    return terms.after_hours_cover and is_open_at(
        terms.effective_cover_hours, view.calendar.tz, view.now
    )
