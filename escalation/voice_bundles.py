"""The bundled voice page: one call that reads several incidents in turn.

``escalation.dispatch`` places one call for every due page to a phone
(``escalation.bundles``); it rings on the first page's URLs, and the other pages point at
it (``Page.bundle_lead_id``). When it is answered, ``escalation.voice_pages`` hands the
page and the pages it carries here (``callbacks.open_bundle``, every incident locked).

The call says how many are waiting and that 1 takes them all, then reads each incident
that still waits for this analyst (number, customer, caller, the recorded message or its
transcript), says which were taken by someone else meanwhile, and offers the single
page's keys with the bundle's meaning (``escalation.bundle_speech`` says why):

- **1** acknowledges every incident read that is still unacknowledged, through the same
  service as the SMS reply ``A`` (``bundle_replies.acknowledge_each``); each incident's
  log names the page and call that reached it (``bundle_acknowledged``);
- **2** does the same, then connects the analyst to each caller in turn: a ``<Dial>``
  whose action (``bundle_bridge``) dials the next; a caller who does not answer is
  skipped and logged (``bridge_failed``), and the bridge's own status callback
  (``voice_pages.bridge_status``, on that incident's page) logs each SLA callback;
- **3** escalates every incident read that nobody has acknowledged;
- **\\*** (or silence) reads them again.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from escalation import bundle_speech as speech
from escalation.bundle_replies import acknowledge_each, name_reaching_page
from escalation.callbacks import PageContext, is_machine, mark_answered, open_bundle
from escalation.dispatch import Paging
from escalation.events import Declined, PageDelivered
from escalation.runner import Outcome, feed, subject_of
from escalation.state import state_from_dict
from escalation.texts import Subject
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
from voiceline.incidents.models import Incident
from voiceline.twilio_events import DialEnded, PageAnswered

CONNECTED = ("completed", "answered")  # a DialCallStatus of a bridge that was talked on


def answered(
    setup: VoiceSetup,
    members: list[PageContext],
    answer: PageAnswered,
    rounds: int,
    response: VoiceResponse,
) -> list[Outcome]:
    """Build the TwiML of an answered bundled page call; return what it fed the engine."""
    lead = members[0]
    session = lead.session
    answered_by = answer.answered_by or lead.page.answered_by
    if is_machine(answered_by):
        outcomes = [mark_answered(ctx, answered_by or "machine_start") for ctx in members]
        response.say(speech.voicemail([subject_of(session, ctx.incident) for ctx in members]))
        response.hangup()
        return [outcome for outcome in outcomes if outcome is not None]
    wanted = [ctx for ctx in members if is_wanted(ctx)]
    if not wanted:
        response.say(speech.all_taken())
        response.hangup()
    elif rounds > MAX_ROUNDS:
        response.say("No key was pressed. We will keep trying. Goodbye.")
        response.hangup()
    else:
        _read_out(setup, members, wanted, rounds, response)
    return []


def _read_out(
    setup: VoiceSetup,
    members: list[PageContext],
    wanted: list[PageContext],
    rounds: int,
    response: VoiceResponse,
) -> None:
    """Read each incident still waiting, play its message, and offer the keys."""
    lead = members[0]
    session = lead.session
    lead_values = {"incident_id": lead.incident.id, "page_key": lead.page.page_key}
    gather = response.gather(
        num_digits=1,
        timeout=GATHER_SECONDS,
        action=setup.url_for("twilio.page_keys", **lead_values),
        method="POST",
    )
    gather.say(speech.opening(len(wanted)))
    for ctx in members:
        if ctx not in wanted and _taken_by_other(ctx):
            gather.say(speech.taken_by_other(subject_of(session, ctx.incident)))
    for position, ctx in enumerate(wanted, start=1):
        subject = subject_of(session, ctx.incident)
        gather.say(speech.intro(position, len(wanted), subject))
        recording = first_recording(session, ctx.incident.id)
        if recording is not None:
            gather.play(setup.recording_url(recording.id))
        else:
            gather.say(subject.summary or "No message was recorded.")
    gather.say(speech.menu(len(wanted)))
    response.redirect(
        setup.url_for("twilio.page_call", **lead_values, round=rounds + 1), method="POST"
    )


def key_pressed(
    setup: VoiceSetup, members: list[PageContext], digits: str, response: VoiceResponse
) -> list[Outcome]:
    """Act on a key pressed during a bundled page call; return what it fed the engine."""
    lead = members[0]
    session, now = lead.session, lead.now
    again = setup.url_for(
        "twilio.page_call", incident_id=lead.incident.id, page_key=lead.page.page_key, round=1
    )
    if digits not in ("1", "2", "3"):
        if digits != "*":
            response.say("Sorry, that is not one of the choices.")
        response.redirect(again, method="POST")
        return []
    wanted = [ctx for ctx in members if is_wanted(ctx)]
    outcomes: list[Outcome] = []
    for ctx in wanted:
        # A key pressed is a person listening: the call reached every incident it read.
        if ctx.page.answered_by != "human":
            ctx.page.answered_by, ctx.page.updated_at = "human", now
            outcomes.append(feed(session, ctx.incident, PageDelivered(ctx.page.page_key), now))
    if digits == "3":
        declined: list[Subject] = []
        for ctx in wanted:
            if state_from_dict(ctx.incident.escalation_state or {}).acknowledged_by is None:
                outcomes.append(feed(session, ctx.incident, Declined(ctx.analyst, "voice"), now))
                declined.append(subject_of(session, ctx.incident))
        response.say(speech.escalated(declined))
        response.hangup()
        return outcomes
    pages = {ctx.incident.id: ctx for ctx in members}
    bundle = [ctx.incident.id for ctx in members]

    def reached(session: Session, incident: Incident, analyst: str) -> None:
        page = pages[incident.id].page
        log_event(
            session,
            incident,
            "bundle_acknowledged",
            now,
            actor=analyst,
            key=page.page_key,
            call=lead.page.provider_sid,
            bundle=bundle,
        )
        name_reaching_page(session, incident.id, page.id, now)

    # Those another analyst took are named again: they are not this analyst's to call.
    done = acknowledge_each(
        session,
        [ctx.incident.id for ctx in members if ctx in wanted or _taken_by_other(ctx)],
        lead.page.to_number,
        "voice",
        now,
        reached=reached,
    )
    outcomes += done.outcomes
    response.say(speech.acknowledged(done.mine, done.others))
    taken = {subject.number for subject in done.mine}
    mine = [c for c in members if c.incident.id in taken and _needs_callback(c, lead.analyst)]
    if digits == "1" or not mine:
        _goodbye(response, done.mine)
        return outcomes
    _connect_next(setup, lead, mine, response)
    return outcomes


def bridge_ended(
    paging: Paging, setup: VoiceSetup, incident_id: int, key: str, after: int, ended: DialEnded
) -> VoiceResponse:
    """One bridge of key 2 ended: log a caller who did not answer, then dial the next."""
    response = VoiceResponse()
    now = paging.clock.now()
    with paging.database.session() as session:
        members = open_bundle(session, incident_id, key, now)
        if not members:
            response.say("This Voiceline page is no longer valid. Goodbye.")
            response.hangup()
            return response
        lead = members[0]
        ids = [ctx.incident.id for ctx in members]
        position = ids.index(after) if after in ids else len(ids)
        if position < len(ids) and ended.dial_status not in CONNECTED:
            done = members[position]
            log_event(
                session,
                done.incident,
                "bridge_failed",
                now,
                actor=done.analyst,
                key=done.page.page_key,
                status=ended.dial_status,
                detail="skipped: the analyst is connected to the next caller",
            )
            response.say(speech.not_answered(subject_of(session, done.incident)))
        analyst = lead.analyst
        waiting = [ctx for ctx in members if _needs_callback(ctx, analyst)]
        later = [ctx for ctx in members[position + 1 :] if ctx in waiting]
        if later:
            _connect_next(setup, lead, later, response)
        else:
            response.say("That was the last caller.")
            _goodbye(response, [subject_of(session, ctx.incident) for ctx in waiting])
    return response


def _connect_next(
    setup: VoiceSetup, lead: PageContext, queue: list[PageContext], response: VoiceResponse
) -> None:
    """Dial the first caller of ``queue`` who left a number; the action dials the next."""
    session, now = lead.session, lead.now
    reachable = [ctx for ctx in queue if ctx.incident.caller_number]
    if not reachable:
        _goodbye(response, [subject_of(session, ctx.incident) for ctx in queue])
        return
    ctx = reachable[0]
    number = ctx.incident.caller_number
    response.say(speech.connecting(subject_of(session, ctx.incident)))
    dial = response.dial(
        caller_id=bridge_caller_id(setup, session),
        action=setup.url_for(
            "twilio.page_bundle_bridge",
            incident_id=lead.incident.id,
            page_key=lead.page.page_key,
            after=ctx.incident.id,
        ),
        method="POST",
        timeout=BRIDGE_RING_SECONDS,
    )
    dial.number(
        number,
        status_callback=setup.url_for(
            "twilio.bridge_status", incident_id=ctx.incident.id, page_key=ctx.page.page_key
        ),
        status_callback_event="answered completed",
        status_callback_method="POST",
    )
    log_event(
        session,
        ctx.incident,
        "bridge_started",
        now,
        actor=ctx.analyst,
        key=ctx.page.page_key,
        to=number,
        call=lead.page.provider_sid,
    )


def _goodbye(response: VoiceResponse, to_call: list[Subject]) -> None:
    """Say who still needs a call back, then hang up."""
    if to_call:
        response.say(speech.call_back_list(to_call))
    response.say("Thank you. Goodbye.")
    response.hangup()


def _taken_by_other(ctx: PageContext) -> bool:
    """Return True when another analyst has the incident (and it is not over)."""
    state = state_from_dict(ctx.incident.escalation_state or {})
    return not state.is_final and state.acknowledged_by not in (None, ctx.analyst)


def _needs_callback(ctx: PageContext, analyst: str) -> bool:
    """Return True while ``analyst`` has the incident and has not called back yet."""
    state = state_from_dict(ctx.incident.escalation_state or {})
    return state.acknowledged_by == analyst and state.callback_at is None and not state.is_final
