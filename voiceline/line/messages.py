"""The caller's message: the incident it opens, its recording, and what the caller hears.

Everything after the ``<Record>`` lives here, apart from the call flow before it
(``voiceline.line.calls``), because Twilio reports a message up to three times and in
any order (the action, the recording status callback, the transcription) and each report
must come to the same incident once, also when the spool replays it hours later. Every
path that ends without a recording still leaves a "missed call" incident.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from voiceline.customers.entitlement import Route, decide
from voiceline.customers.services import Target, plan_terms_for
from voiceline.incidents.handover import mark_for_paging
from voiceline.incidents.log import log_event
from voiceline.incidents.models import Incident, Recording
from voiceline.line.call_rows import ensure_call, stored_call
from voiceline.line.calls import (
    CallView,
    Reply,
    caller_number,
    view_of,
)
from voiceline.line.incidents import PAGED_PRIORITIES, attach_recording, open_incident
from voiceline.phones import caller_e164
from voiceline.twilio_events import (
    CallLeg,
    RecordingDone,
    RecordingRef,
    RecordingReported,
    TranscriptionDone,
)
from voiceline.urls import UrlFor


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
    leg: CallLeg,
    recording: RecordingRef | None,
    now: datetime,
    priority: str,
    incident_id: int | None = None,
    finished_at: datetime | None = None,
) -> tuple[Incident | None, list[int], CallView]:
    """Open (or find) the incident for a message and attach its recording, if there is one.

    Without ``recording`` the call still leaves a "missed call" incident.
    """
    number = caller_number(leg)
    call_row = stored_call(session, leg.sid)
    if number is None and call_row is not None:
        number = caller_e164(call_row.from_number)
    view = view_of(session, number, finished_at or now)
    call = ensure_call(session, leg, view, (call_row.route if call_row else None) or "fallback")
    to_page: list[int] = []
    if priority == "addendum" and incident_id is not None:
        incident = session.get(Incident, incident_id)
        if incident is not None and recording is not None:
            attach_recording(
                session,
                incident,
                call_sid=leg.sid,
                recording_sid=recording.sid,
                url=recording.url,
                duration=recording.duration_seconds,
                now=now,
                is_addendum=True,
            )
        return incident, to_page, view
    priority = _priority_of(view, priority)
    incident, created = open_incident(
        session,
        call_sid=leg.sid,
        caller=view.caller,
        priority=priority,
        clock_started_at=finished_at or now,
        now=now,
        missed=recording is None,
    )
    call.incident_id = incident.id
    if recording is not None and not created and incident.summary.startswith("Missed "):
        # a message that arrives after the call was logged as missed (spool replay order)
        incident.summary = _message_summary(incident.summary)
    if recording is not None:
        attach_recording(
            session,
            incident,
            call_sid=leg.sid,
            recording_sid=recording.sid,
            url=recording.url,
            duration=recording.duration_seconds,
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


def recorded(
    session: Session,
    done: RecordingDone,
    now: datetime,
    url_for: UrlFor,
    priority: str,
    incident_id: int | None,
) -> Reply:
    """The caller finished speaking: open the incident and say what happens next."""
    incident, to_page, view = take_message(
        session, done.call, done.recording, now, priority, incident_id
    )
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
    session: Session,
    report: RecordingReported,
    now: datetime,
    priority: str,
    incident_id: int | None,
) -> list[int]:
    """Twilio reports a recording completed or absent; make sure the call left a record."""
    if report.status == "completed":
        _, to_page, _ = take_message(
            session, report.call, report.recording, now, priority, incident_id
        )
        return to_page
    if report.status == "absent" and priority != "addendum":
        _, to_page, _ = take_message(session, report.call, None, now, priority, incident_id)
        return to_page
    return []


def no_message(
    session: Session,
    done: RecordingDone,
    now: datetime,
    url_for: UrlFor,
    priority: str,
    incident_id: int | None,
) -> Reply:
    """The recording was empty: log a missed call so someone still calls back."""
    response = VoiceResponse()
    if priority == "addendum":
        view = view_of(session, caller_number(done.call), now)
        view.say(response, "thanks_addendum")
        response.hangup()
        return Reply(response)
    _, to_page, view = take_message(session, done.call, None, now, priority, incident_id)
    view.say(response, "no_message")
    response.hangup()
    return Reply(response, to_page)


def transcription(session: Session, done: TranscriptionDone) -> None:
    """Store the text Twilio transcribed from a message."""
    recording = session.scalars(
        select(Recording).filter_by(recording_sid=done.recording_sid)
    ).one_or_none()
    if recording is not None and done.status == "completed":
        recording.transcription = done.text
