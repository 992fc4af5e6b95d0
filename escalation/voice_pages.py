"""The voice page: what an analyst hears and can press when a page call is answered.

A person hears the incident read out and the caller's message played, then chooses:
**1** acknowledge, **2** acknowledge and be connected to the caller now (a ``<Dial>``
bridge from the support number; the moment the caller answers is the SLA callback),
**3** escalate now, **\\*** repeat. A voicemail box (answered by ``machine_*``, from
Twilio's detection) gets a short message and the call moves on: it is neither an
acknowledgement nor a delivery. A page the escalation no longer needs (someone else
acknowledged while it rang) says so and hangs up. A call that carries several pages (a
bundle: ``Page.bundle_lead_id``) is answered by ``escalation.voice_bundles``.
"""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from escalation import voice_bundles
from escalation.bundle_replies import name_reaching_page
from escalation.callbacks import (
    PageContext,
    is_duplicate,
    is_machine,
    mark_answered,
    open_bundle,
    open_page,
)
from escalation.dispatch import Paging, deliver, record_provider_sid
from escalation.events import Acknowledged, CallbackLogged, Declined, PageDelivered
from escalation.runner import Outcome, feed, subject_of
from escalation.texts import Subject, purpose_of, voice_intro, voice_menu, voicemail_message
from escalation.voice_common import (
    BRIDGE_RING_SECONDS,
    GATHER_SECONDS,
    MAX_ROUNDS,
    VoiceSetup,
    bridge_caller_id,
    first_recording,
    is_wanted,
)
from voiceline.incidents.log import log_event
from voiceline.phones import spoken
from voiceline.twilio_events import CallProgress, DialEnded, KeyPressed, PageAnswered

__all__ = [
    "BRIDGE_RING_SECONDS",
    "GATHER_SECONDS",
    "MAX_ROUNDS",
    "VoiceSetup",
    "answered",
    "bridge_finished",
    "bridge_status",
    "key_pressed",
]


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
    outcomes: list[Outcome] = []
    with paging.database.session() as session:
        members = open_bundle(session, incident_id, key, now)
        if not members:
            response.say("This Voiceline page is no longer valid. Goodbye.")
            response.hangup()
            return response
        ctx = members[0]
        if answer.call_sid:
            record_provider_sid(ctx.page, answer.call_sid, now)
        if len(members) > 1:
            outcomes = voice_bundles.answered(setup, members, answer, rounds, response)
        elif (outcome := _answered_one(response, setup, ctx, key, answer, rounds)) is not None:
            outcomes = [outcome]
    for each in outcomes:
        paging.later(deliver, paging, each)
    return response


def _answered_one(
    response: VoiceResponse,
    setup: VoiceSetup,
    ctx: PageContext,
    key: str,
    answer: PageAnswered,
    rounds: int,
) -> Outcome | None:
    """Build the TwiML of a page call for one incident; return what it fed the engine."""
    session, incident_id = ctx.session, ctx.incident.id
    outcome: Outcome | None = None
    subject = subject_of(session, ctx.incident)
    answered_by = answer.answered_by or ctx.page.answered_by
    if is_machine(answered_by):
        outcome = mark_answered(ctx, answered_by or "machine_start")
        response.say(voicemail_message(subject))
        response.hangup()
    elif not is_wanted(ctx):
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
    return outcome


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
    recording = first_recording(ctx.session, incident_id)
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
    """Act on the key the analyst pressed during a voice page (one incident or a bundle)."""
    now = paging.clock.now()
    response = VoiceResponse()
    outcomes: list[Outcome] = []
    with paging.database.session() as session:
        members = open_bundle(session, incident_id, key, now)
        if not members:
            response.say("This Voiceline page is no longer valid. Goodbye.")
            response.hangup()
            return response
        if len(members) > 1:
            outcomes = voice_bundles.key_pressed(setup, members, pressed.digits, response)
        else:
            outcomes = _key_one(response, setup, members[0], key, pressed.digits)
    for outcome in outcomes:
        paging.later(deliver, paging, outcome)
    return response


def _key_one(
    response: VoiceResponse, setup: VoiceSetup, ctx: PageContext, key: str, digits: str
) -> list[Outcome]:
    """Act on a key of a page call for one incident; return what it fed the engine."""
    session, incident_id, now = ctx.session, ctx.incident.id, ctx.now
    again = setup.url_for("twilio.page_call", incident_id=incident_id, page_key=key, round=1)
    if digits == "*":
        response.redirect(again, method="POST")
        return []
    if digits not in ("1", "2", "3"):
        response.say("Sorry, that is not one of the choices.")
        response.redirect(again, method="POST")
        return []
    outcomes: list[Outcome] = []
    # A key pressed is a person listening: the page reached them.
    if ctx.page.answered_by != "human":
        ctx.page.answered_by = "human"
        outcomes.append(feed(session, ctx.incident, PageDelivered(key), now))
    analyst = ctx.analyst
    event = Declined(analyst, "voice") if digits == "3" else Acknowledged(analyst, "voice")
    outcomes.append(feed(session, ctx.incident, event, now))
    if isinstance(event, Acknowledged):
        name_reaching_page(session, incident_id, ctx.page.id, now)
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
        response.say(f"Connecting you to {subject.caller_name or 'the caller'} now.")
        dial = response.dial(
            caller_id=bridge_caller_id(setup, session),
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
        log_event(session, ctx.incident, "bridge_started", now, actor=analyst, key=key, to=number)
    return outcomes


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
