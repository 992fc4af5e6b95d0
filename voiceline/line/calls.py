"""The emergency line: what a caller hears, and the record their call leaves.

Each function handles one Twilio request for one call and returns a ``Reply``: the TwiML
(built with ``twilio.twiml.voice_response``) and the incidents to hand over to paging
once the transaction commits. Decisions are pure (``entitlement.decide``); this module
joins them to the directory and the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from voiceline.customers.business_time import BusinessCalendar
from voiceline.customers.entitlement import Route, decide, next_business_day_phrase
from voiceline.customers.services import (
    Caller,
    Target,
    calendar_for,
    find_caller,
    plan_terms_for,
    service_calendar,
    service_settings,
    target_for,
)
from voiceline.hours import is_open_at
from voiceline.incidents.handover import mark_for_paging
from voiceline.incidents.models import Incident, Recording
from voiceline.line.incidents import (
    PAGED_PRIORITIES,
    attach_recording,
    log_event,
    open_incident,
    open_incident_of,
)
from voiceline.line.models import Call
from voiceline.line.prompts import Prompts, prompts_for
from voiceline.phones import caller_e164

log = logging.getLogger(__name__)

Form = Mapping[str, str]
UrlFor = Callable[..., str]  # (endpoint, **query) -> absolute public URL

MAX_MESSAGE_SECONDS = 300
SILENCE_TIMEOUT_SECONDS = 10
MENU_TIMEOUT_SECONDS = 6
DESK_RING_SECONDS = 25


@dataclass
class Reply:
    """TwiML for the caller, and incidents to page once committed."""

    twiml: VoiceResponse
    to_page: list[int] = field(default_factory=list)


@dataclass
class CallView:
    """Everything about the caller and the moment that the prompts need."""

    caller: Caller
    calendar: BusinessCalendar
    prompts: Prompts
    service: dict[str, Any]
    now: datetime

    def say(self, response: VoiceResponse | Any, key: str, **values: Any) -> None:
        response.say(self.prompts.text(key, **self.values(**values)), **self.prompts.say_kwargs())

    def values(self, **extra: Any) -> dict[str, Any]:
        plan = self.caller.customer.plan if self.caller.customer else None
        emergency = target_for(plan, "emergency") if plan else None
        out: dict[str, Any] = {
            "service": self.service.get("name", "support"),
            "customer": self.caller.customer.name if self.caller.customer else "",
            "next_open": next_business_day_phrase(self.calendar, self.now),
            "rate": (plan.billable_rate if plan and plan.billable_rate else "the after-hours"),
            "target": emergency.phrase() if emergency else "as soon as possible",
        }
        out.update(extra)
        return out


def view_of(session: Session, number: str | None, now: datetime) -> CallView:
    """Identify the caller and gather their calendar and prompts."""
    caller = find_caller(session, number)
    service = service_settings(session)
    service_prompts = service.get("prompts") if isinstance(service.get("prompts"), dict) else None
    if caller.customer is not None:
        calendar = calendar_for(caller.customer)
        prompts = prompts_for(
            service_prompts, caller.customer.plan.prompts, caller.customer.prompts
        )
    else:
        calendar = service_calendar(session)
        prompts = prompts_for(service_prompts)
    return CallView(caller, calendar, prompts, service, now)


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


def _ensure_call(session: Session, form: Form, view: CallView, route: str) -> Call:
    call_sid = form.get("CallSid", "")
    call = session.scalars(select(Call).filter_by(call_sid=call_sid)).one_or_none()
    if call is None:
        call = Call(
            call_sid=call_sid,
            direction="inbound",
            from_number=form.get("From"),
            to_number=form.get("To"),
            customer_id=view.caller.customer.id if view.caller.customer else None,
            contact_id=view.caller.contact.id if view.caller.contact else None,
            route=route,
            started_at=view.now,
            status=form.get("CallStatus"),
        )
        session.add(call)
        session.flush()
    return call


def answer(session: Session, form: Form, now: datetime, url_for: UrlFor) -> Reply:
    """Answer a new call: identify the caller and choose the path for this moment."""
    number = caller_e164(form.get("From"), default_region=_region(form))
    view = view_of(session, number, now)
    response = VoiceResponse()

    existing = open_incident_of(session, view.caller, now)
    # Only an emergency that is being paged turns a new call into an update: a caller with
    # a next-business-day message open must still reach the menu if the business is down.
    if existing is not None and existing.priority in PAGED_PRIORITIES:
        call = _ensure_call(session, form, view, "repeat")
        call.incident_id = existing.id
        log_event(
            session, existing, "caller_called_again", now, actor=number, call_sid=call.call_sid
        )
        _say_status(response, view, existing, session)
        view.say(response, "repeat_add")
        record_message(response, view, url_for, "addendum", incident=str(existing.id))
        return Reply(response)

    if not view.caller.is_authorized or view.caller.customer is None:
        decision = decide(None, view.calendar, now)
        if decision.route is Route.DESK and _desk_number(view):
            _ensure_call(session, form, view, "desk")
            return Reply(_dial_desk(view, url_for))
        _ensure_call(session, form, view, "unknown")
        view.say(response, "greeting")
        view.say(response, "record_unknown")
        record_message(response, view, url_for, "unverified")
        return Reply(response)

    customer = view.caller.customer
    decision = decide(plan_terms_for(customer.plan), view.calendar, now)
    _ensure_call(session, form, view, decision.route.value)
    if decision.route is Route.DESK and _desk_number(view):
        return Reply(_dial_desk(view, url_for))
    if decision.route in (Route.EMERGENCY_MENU, Route.BILLABLE_MENU):
        view.say(response, "greeting")
        _menu(response, view, url_for, decision.route, attempt=1)
        return Reply(response)
    view.say(response, "greeting")
    view.say(response, "record_standard")
    record_message(response, view, url_for, "standard")
    return Reply(response)


def _region(form: Form) -> str | None:
    country = form.get("FromCountry") or form.get("CallerCountry")
    return country if country and len(country) == 2 else "US"


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
    session: Session, form: Form, now: datetime, url_for: UrlFor, kind: str, attempt: int
) -> Reply:
    """Act on the digit pressed in the emergency or billable menu."""
    number = caller_e164(form.get("From"), default_region=_region(form))
    view = view_of(session, number, now)
    call = _ensure_call(session, form, view, f"{kind}_menu")
    digit = (form.get("Digits") or "").strip()[:1]
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


def _priority_of(view: CallView, priority: str) -> str:
    if priority == "fallback":
        # The message was taken while we could not decide; decide now, for that moment.
        if not view.caller.is_authorized or view.caller.customer is None:
            return "unverified"
        decision = decide(plan_terms_for(view.caller.customer.plan), view.calendar, view.now)
        return "emergency" if decision.route is Route.EMERGENCY_MENU else "standard"
    return priority


def take_message(
    session: Session,
    form: Form,
    now: datetime,
    priority: str,
    incident_id: int | None = None,
    finished_at: datetime | None = None,
) -> tuple[Incident | None, list[int], CallView]:
    """Open (or find) the incident for a recorded message and attach the recording."""
    number = caller_e164(form.get("From"), default_region=_region(form))
    call_sid = form.get("CallSid", "")
    stored_call = session.scalars(select(Call).filter_by(call_sid=call_sid)).one_or_none()
    if number is None and stored_call is not None:
        number = caller_e164(stored_call.from_number)
    view = view_of(session, number, finished_at or now)
    call = _ensure_call(
        session, form, view, (stored_call.route if stored_call else None) or "fallback"
    )
    recording_sid = form.get("RecordingSid")
    to_page: list[int] = []
    if priority == "addendum" and incident_id is not None:
        incident = session.get(Incident, incident_id)
        if incident is not None and recording_sid:
            attach_recording(
                session,
                incident,
                call_sid=call_sid,
                recording_sid=recording_sid,
                url=form.get("RecordingUrl"),
                duration=_int(form.get("RecordingDuration")),
                now=now,
                is_addendum=True,
            )
        return incident, to_page, view
    priority = _priority_of(view, priority)
    incident, created = open_incident(
        session,
        call_sid=call_sid,
        caller=view.caller,
        priority=priority,
        clock_started_at=finished_at or now,
        now=now,
        missed=not recording_sid,
    )
    call.incident_id = incident.id
    if recording_sid and not created and incident.summary.startswith("Missed "):
        # a message that arrives after the call was logged as missed (spool replay order)
        incident.summary = _message_summary(incident.summary)
    if recording_sid:
        attach_recording(
            session,
            incident,
            call_sid=call_sid,
            recording_sid=recording_sid,
            url=form.get("RecordingUrl"),
            duration=_int(form.get("RecordingDuration")),
            now=now,
        )
    if created and call.billable_consent_at is not None:
        log_event(
            session,
            incident,
            "billable_consent",
            call.billable_consent_at,
            actor=number,
            rate=view.caller.customer.plan.billable_rate if view.caller.customer else None,
        )
    if created and _is_paged(priority, view):
        mark_for_paging(session, incident, now)
        to_page.append(incident.id)
    return incident, to_page, view


def _message_summary(missed_summary: str) -> str:
    text = missed_summary.removeprefix("Missed ").removesuffix(", no message left")
    kind, _, rest = text.partition(" call from ")
    return f"{kind.capitalize()} message from {rest}"


def _is_paged(priority: str, view: CallView) -> bool:
    if priority in PAGED_PRIORITIES:
        return True
    return priority == "unverified" and bool(view.service.get("page_unverified", False))


def without_recording(form: Form) -> dict[str, str]:
    """Return the call's parameters minus the recording: what a missed call leaves."""
    return {k: v for k, v in form.items() if k not in ("RecordingSid", "RecordingUrl")}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def recorded(
    session: Session,
    form: Form,
    now: datetime,
    url_for: UrlFor,
    priority: str,
    incident_id: int | None,
) -> Reply:
    """The caller finished speaking: open the incident and say what happens next."""
    incident, to_page, view = take_message(session, form, now, priority, incident_id)
    response = VoiceResponse()
    if priority == "addendum":
        view.say(response, "thanks_addendum")
    elif incident is not None and incident.priority == "emergency":
        view.say(response, "thanks_emergency", target=_target_phrase(incident))
    elif incident is not None and incident.priority == "billable":
        phrase = _target_phrase(incident)
        view.say(
            response,
            "thanks_billable",
            within=f" within {phrase}" if incident.target_minutes else "",
        )
    elif incident is not None and incident.priority == "standard":
        view.say(response, "thanks_standard")
    else:
        view.say(response, "thanks_unknown")
    response.hangup()
    return Reply(response, to_page)


def _target_phrase(incident: Incident) -> str:
    if incident.target_minutes is None:
        return "as soon as possible"
    return Target(incident.target_minutes, incident.target_clock or "wall").phrase()


def recording_status(
    session: Session, form: Form, now: datetime, priority: str, incident_id: int | None
) -> list[int]:
    """Twilio reports a recording completed or absent; make sure the call left a record."""
    status = form.get("RecordingStatus", "")
    if status == "completed":
        _, to_page, _ = take_message(session, form, now, priority, incident_id)
        return to_page
    if status == "absent" and priority != "addendum":
        data = without_recording(form)
        _, to_page, _ = take_message(session, data, now, priority, incident_id)
        return to_page
    return []


def no_message(
    session: Session,
    form: Form,
    now: datetime,
    url_for: UrlFor,
    priority: str,
    incident_id: int | None,
) -> Reply:
    """The recording was empty: log a missed call so someone still calls back."""
    response = VoiceResponse()
    if priority == "addendum":
        view = view_of(session, caller_e164(form.get("From")), now)
        view.say(response, "thanks_addendum")
        response.hangup()
        return Reply(response)
    data = without_recording(form)
    _, to_page, view = take_message(session, data, now, priority, incident_id)
    view.say(response, "no_message")
    response.hangup()
    return Reply(response, to_page)


def desk_result(session: Session, form: Form, now: datetime, url_for: UrlFor) -> Reply:
    """The desk answered (done) or did not (the emergency menu if covered, else a message)."""
    response = VoiceResponse()
    call = session.scalars(select(Call).filter_by(call_sid=form.get("CallSid", ""))).one_or_none()
    if call is not None:
        call.choice = f"desk {form.get('DialCallStatus') or 'unknown'}"
    if form.get("DialCallStatus") == "completed":
        response.hangup()
        return Reply(response)
    view = view_of(session, caller_e164(form.get("From"), default_region=_region(form)), now)
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


def call_status(session: Session, form: Form, now: datetime) -> list[int]:
    """An inbound call ended: a caller who hung up before the beep still leaves a record."""
    call = session.scalars(select(Call).filter_by(call_sid=form.get("CallSid", ""))).one_or_none()
    if call is None:
        return []
    status = form.get("CallStatus")
    call.status = status
    if status not in ("completed", "busy", "failed", "no-answer", "canceled"):
        return []
    call.ended_at = now
    if call.incident_id is not None or call.route == "repeat" or call.choice == "desk completed":
        return []  # the caller's incident exists, or the desk took the call
    if call.route == "desk" and call.choice is None:
        return []  # hung up while the desk was ringing: the desk saw the missed call
    if call.choice and call.choice.startswith("emergency"):
        priority = "emergency"
    elif call.choice == "billable":
        priority = "billable"
    elif call.route == Route.EMERGENCY_MENU.value and not call.choice:
        priority = "emergency"  # hung up in the menu of a covered plan: treat as urgent
    elif call.route == "unknown":
        priority = "unverified"
    else:
        priority = "standard"
    data = without_recording(form)
    if not data.get("From") and call.from_number:
        data["From"] = call.from_number
    _, to_page, _ = take_message(session, data, now, priority, None)
    return to_page


UNFINISHED_CALL_AGE = timedelta(minutes=15)


def sweep_unfinished_calls(session: Session, now: datetime) -> list[int]:
    """Log missed calls whose end Twilio never reported (no 'call status changes' URL).

    A call still without an incident 15 minutes after it started (longer than the menu
    plus the longest message) is treated as having ended then.
    """
    stale = session.scalars(
        select(Call).where(
            Call.direction == "inbound",
            Call.incident_id.is_(None),
            Call.ended_at.is_(None),
            Call.started_at <= now - UNFINISHED_CALL_AGE,
        )
    ).all()
    to_page: list[int] = []
    for call in stale:
        to_page += call_status(
            session,
            {"CallSid": call.call_sid, "From": call.from_number or "", "CallStatus": "completed"},
            now,
        )
    return to_page


def transcription(session: Session, form: Form) -> None:
    """Store the text Twilio transcribed from a message."""
    recording = session.scalars(
        select(Recording).filter_by(recording_sid=form.get("RecordingSid", ""))
    ).one_or_none()
    if recording is not None and form.get("TranscriptionStatus") == "completed":
        recording.transcription = form.get("TranscriptionText")
