"""The voice page: what an analyst hears and can press when a page call is answered.

A person hears the incident read out and the caller's message played, then chooses:
**1** acknowledge, **2** acknowledge and be connected to the caller now (a ``<Dial>``
bridge from the support number; the moment the caller answers is the SLA callback),
**3** escalate now, **\\*** repeat. A voicemail box (answered by ``machine_*``, from
Twilio's detection) gets a short message and the call moves on: it is neither an
acknowledgement nor a delivery. A page the escalation no longer needs (someone else
acknowledged while it rang) says so and hangs up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

from escalation.callbacks import PageContext, is_duplicate, is_machine, mark_answered, open_page
from escalation.dispatch import Paging, deliver, record_provider_sid
from escalation.events import Acknowledged, CallbackLogged, Declined, PageDelivered
from escalation.runner import Outcome, feed, subject_of
from escalation.state import state_from_dict
from escalation.texts import Subject, purpose_of, voice_intro, voice_menu, voicemail_message
from voiceline.customers.services import service_settings
from voiceline.incidents.log import log_event
from voiceline.incidents.models import Recording
from voiceline.phones import spoken
from voiceline.twilio_events import CallProgress, DialEnded, KeyPressed, PageAnswered
from voiceline.urls import UrlFor

MAX_ROUNDS = 3
GATHER_SECONDS = 6
BRIDGE_RING_SECONDS = 30


@dataclass
class VoiceSetup:
    """What building voice-page TwiML needs besides the database."""

    url_for: UrlFor
    recording_url: Callable[[int], str]
    caller_id: str | None  # the support number the bridge shows the customer


def answered(
    paging: Paging,
    setup: VoiceSetup,
    incident_id: int,
    key: str,
    answer: PageAnswered,
    rounds: int,
) -> VoiceResponse:
    """Return the TwiML for an answered page call (and for each repeat of it)."""
    now = paging.clock.now()
    response = VoiceResponse()
    outcome: Outcome | None = None
    with paging.database.session() as session:
        ctx = open_page(session, incident_id, key, now)
        if ctx is None:
            response.say("This Voiceline page is no longer valid. Goodbye.")
            response.hangup()
            return response
        if answer.call_sid:
            record_provider_sid(ctx.page, answer.call_sid, now)
        subject = subject_of(session, ctx.incident)
        answered_by = answer.answered_by or ctx.page.answered_by
        if is_machine(answered_by):
            outcome = mark_answered(ctx, answered_by or "machine_start")
            response.say(voicemail_message(subject))
            response.hangup()
        elif not _is_wanted(ctx):
            taken = subject.acknowledged_by or "another analyst"
            response.say(
                f"Voiceline: incident {subject.number} for {subject.customer} is already "
                f"taken by {taken}. Nothing to do. Goodbye."
            )
            response.hangup()
        elif rounds > MAX_ROUNDS:
            response.say("No key was pressed. We will keep trying. Goodbye.")
            response.hangup()
        else:
            _read_out(response, setup, ctx, subject, key, incident_id, rounds)
    if outcome is not None:
        paging.later(deliver, paging, outcome)
    return response


def _read_out(
    response: VoiceResponse,
    setup: VoiceSetup,
    ctx: PageContext,
    subject: Subject,
    key: str,
    incident_id: int,
    rounds: int,
) -> None:
    """Read the incident, play the message and offer the keys."""
    purpose = purpose_of(key)
    recording = ctx.session.scalars(
        select(Recording)
        .where(Recording.incident_id == incident_id, Recording.url.is_not(None))
        .order_by(Recording.id)
        .limit(1)
    ).first()
    gather = response.gather(
        num_digits=1,
        timeout=GATHER_SECONDS,
        action=setup.url_for("twilio.page_keys", incident_id=incident_id, page_key=key),
        method="POST",
    )
    gather.say(voice_intro(purpose, subject))
    if recording is not None:
        gather.play(setup.recording_url(recording.id))
    else:
        gather.say("No message was recorded.")
    gather.say(voice_menu(purpose))
    response.redirect(
        setup.url_for("twilio.page_call", incident_id=incident_id, page_key=key, round=rounds + 1),
        method="POST",
    )


def key_pressed(
    paging: Paging, setup: VoiceSetup, incident_id: int, key: str, pressed: KeyPressed
) -> VoiceResponse:
    """Act on the key the analyst pressed during a voice page."""
    now = paging.clock.now()
    digits = pressed.digits
    response = VoiceResponse()
    outcomes: list[Outcome] = []
    again = setup.url_for("twilio.page_call", incident_id=incident_id, page_key=key, round=1)
    with paging.database.session() as session:
        ctx = open_page(session, incident_id, key, now)
        if ctx is None:
            response.say("This Voiceline page is no longer valid. Goodbye.")
            response.hangup()
            return response
        if digits == "*":
            response.redirect(again, method="POST")
            return response
        if digits not in ("1", "2", "3"):
            response.say("Sorry, that is not one of the choices.")
            response.redirect(again, method="POST")
            return response
        # A key pressed is a person listening: the page reached them.
        if ctx.page.answered_by != "human":
            ctx.page.answered_by = "human"
            outcomes.append(feed(session, ctx.incident, PageDelivered(key), now))
        analyst = ctx.analyst
        event = Declined(analyst, "voice") if digits == "3" else Acknowledged(analyst, "voice")
        outcomes.append(feed(session, ctx.incident, event, now))
        subject = subject_of(session, ctx.incident)
        number = subject.caller_number
        if digits == "3":
            response.say("OK. We are paging the next tier now. Goodbye.")
            response.hangup()
        elif digits == "1" or not number:
            on = f" on {spoken(number)}" if number else ""
            lead = "" if number else "The caller's number is withheld, so we cannot connect you. "
            response.say(
                f"{lead}Thank you. Incident {subject.number} is acknowledged. "
                f"Please call {subject.caller_name or 'the caller'} back{on}. Goodbye."
            )
            response.hangup()
        else:
            caller_id = setup.caller_id or service_settings(session).get("emergency_number")
            response.say(f"Connecting you to {subject.caller_name or 'the caller'} now.")
            dial = response.dial(
                caller_id=caller_id,
                action=setup.url_for("twilio.page_bridge", incident_id=incident_id, page_key=key),
                method="POST",
                timeout=BRIDGE_RING_SECONDS,
            )
            dial.number(
                number,
                status_callback=setup.url_for(
                    "twilio.bridge_status", incident_id=incident_id, page_key=key
                ),
                status_callback_event="answered completed",
                status_callback_method="POST",
            )
            log_event(
                session, ctx.incident, "bridge_started", now, actor=analyst, key=key, to=number
            )
    for outcome in outcomes:
        paging.later(deliver, paging, outcome)
    return response


def bridge_finished(paging: Paging, incident_id: int, key: str, ended: DialEnded) -> VoiceResponse:
    """Say goodbye after the bridge, or how to call back if the caller did not answer."""
    now = paging.clock.now()
    status = ended.dial_status
    response = VoiceResponse()
    with paging.database.session() as session:
        ctx = open_page(session, incident_id, key, now)
        number = ctx.incident.caller_number if ctx is not None else None
        if ctx is not None and status != "completed":
            log_event(
                session,
                ctx.incident,
                "bridge_failed",
                now,
                actor=ctx.analyst,
                key=key,
                status=status,
            )
    if status == "completed":
        response.say("The call has ended. Thank you. Goodbye.")
    else:
        on = f" on {spoken(number)}" if number else ""
        response.say(
            f"The caller did not answer. The incident is yours: please call them back{on}."
        )
    response.hangup()
    return response


def bridge_status(paging: Paging, incident_id: int, key: str, progress: CallProgress) -> None:
    """Log the callback the moment the caller answers the bridge."""
    now = paging.clock.now()
    status = progress.status
    outcome: Outcome | None = None
    with paging.database.session() as session:
        ctx = open_page(session, incident_id, key, now)
        sequence = status if progress.sequence is None else progress.sequence
        receipt = f"bridge:{progress.sid or None}:{sequence}"
        if ctx is None or is_duplicate(session, receipt, now):
            return
        if status == "in-progress":
            outcome = feed(session, ctx.incident, CallbackLogged(ctx.analyst, "voice", False), now)
        elif status == "completed":
            log_event(
                session,
                ctx.incident,
                "bridge_ended",
                now,
                actor=ctx.analyst,
                key=key,
                seconds=progress.duration_seconds,
            )
    if outcome is not None:
        paging.later(deliver, paging, outcome)


def _is_wanted(ctx: PageContext) -> bool:
    """Return True while the page's purpose still stands (nobody else took the incident)."""
    if ctx.incident.escalation_state is None:
        return False
    state = state_from_dict(ctx.incident.escalation_state)
    if state.is_final:
        return False
    if purpose_of(ctx.page.page_key) == "page" and state.status == "acknowledged":
        return state.acknowledged_by == ctx.analyst
    return True
