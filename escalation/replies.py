"""Analysts' SMS replies: acknowledge, called back, escalate, and the carrier keywords.

``A``/``ACK``, ``C`` and ``E`` (with or without the incident's short number) count only
from a phone this incident paged (``state.analyst_for_number``). Without a number, the
reply is about the most recent open incident that paged the phone. Anything else, or a
reply from a phone that was not paged, gets a short help text, at most
``sms_commands.HELP_LIMIT`` an hour per number, so an auto-responder cannot loop with us.

STOP (and its synonyms): Twilio blocks our texts to the number from then on, so the
analyst's SMS contact method is marked opted out, every open incident that paged them
gets ``OptedOut`` (its SMS pages fall back to voice), and the admins are told that the
analyst is unreachable by text. START clears it. Twilio answers both keywords itself.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.bundle_replies import acknowledge_all, is_several_waiting
from escalation.dispatch import Paging, deliver
from escalation.events import Acknowledged, CallbackLogged, Declined, Event, OptedOut
from escalation.models import Page, SmsReplyLog
from escalation.runner import Outcome, feed, lock_incident, notify_admins, subject_of
from escalation.sms_commands import Command, help_text, parse_reply, should_send_help
from escalation.state import EscalationState, state_from_dict
from escalation.texts import ack_reply, callback_reply, closed_reply, escalate_reply, taken_reply
from oncall.models import Analyst, ContactMethod
from voiceline.incidents.log import OPEN_STATUSES, log_event
from voiceline.incidents.models import Incident
from voiceline.twilio_events import SmsReceived

NOT_PAGED = "This phone was not paged for that incident. " + help_text()


def reply_to_sms(paging: Paging, sms: SmsReceived) -> str | None:
    """Act on an SMS to our number; return the text to answer with, or None for silence."""
    now = paging.clock.now()
    sender = sms.from_number
    command = parse_reply(sms.body)
    if command.kind in ("stop", "start"):
        with paging.database.session() as session:
            outcomes = _opt(session, sender, command.kind == "stop", now)
        for outcome in outcomes:
            paging.later(deliver, paging, outcome)
        return None
    if command.kind in ("help", "unknown"):
        with paging.database.session() as session:
            return _help(session, sender, help_text(), now)
    if command.is_for_all and is_several_waiting(paging, sender):
        return acknowledge_all(paging, sender)  # a bare "A" after a bundle: take them all
    with paging.database.session() as session:
        incident_id = _incident_for(session, sender, command)
        if incident_id is None:
            return _help(session, sender, NOT_PAGED, now)
        incident = lock_incident(session, incident_id)
        assert incident is not None
        state = state_from_dict(incident.escalation_state or {})
        analyst = state.analyst_for_number(sender)
        if analyst is None:
            return _help(session, sender, NOT_PAGED, now)
        if state.is_final:
            return closed_reply(incident.id)
        event: Event
        if command.kind == "ack":
            event = Acknowledged(analyst, "sms")
        elif command.kind == "callback":
            event = CallbackLogged(analyst, "sms", is_reported=True)
        else:
            event = Declined(analyst, "sms")
        outcome = feed(session, incident, event, now)
        after = state_from_dict(incident.escalation_state or {})
        text = _confirmation(session, incident, after, analyst, command)
    paging.later(deliver, paging, outcome)
    return text


def _confirmation(
    session: Session, incident: Incident, state: EscalationState, analyst: str, command: Command
) -> str:
    """Return what to text back after the command was applied."""
    subject = subject_of(session, incident)
    if command.kind == "callback":
        return (
            callback_reply(subject) if state.callback_by == analyst else closed_reply(incident.id)
        )
    if command.kind == "escalate":
        return escalate_reply(subject)
    if state.acknowledged_by == analyst:
        return ack_reply(subject)
    return taken_reply(subject)


def _incident_for(session: Session, sender: str, command: Command) -> int | None:
    """Return the incident the reply is about: the one named, or the latest that paged us."""
    if command.incident_number is not None:
        found = session.get(Incident, command.incident_number)
        return found.id if found is not None and found.escalation_state is not None else None
    candidates = session.scalars(
        select(Incident)
        .join(Page, Page.incident_id == Incident.id)
        .where(Page.to_number == sender, Incident.status.in_(OPEN_STATUSES))
        .order_by(Incident.opened_at.desc(), Incident.id.desc())
        .limit(50)
    )
    paged = [row for row in candidates if row.escalation_state]
    for row in paged:
        if not state_from_dict(row.escalation_state or {}).is_final:
            return row.id
    # Nothing is waiting on this phone: answer about the latest, which says it is closed.
    return paged[0].id if paged else None


def _help(session: Session, sender: str, text: str, now: datetime) -> str | None:
    """Return the help text unless this number had enough of it this hour."""
    recent = session.scalars(
        select(SmsReplyLog.at).where(SmsReplyLog.number == sender, SmsReplyLog.kind == "help")
    )
    if not should_send_help(list(recent), now):
        return None
    session.add(SmsReplyLog(number=sender, at=now, kind="help"))
    return text


def _opt(session: Session, sender: str, is_stop: bool, now: datetime) -> list[Outcome]:
    """Mark the sender's SMS contact methods opted out (or in) and tell open incidents."""
    methods = list(
        session.scalars(
            select(ContactMethod).where(
                ContactMethod.kind == "sms", ContactMethod.address == sender
            )
        )
    )
    session.add(SmsReplyLog(number=sender, at=now, kind="stop" if is_stop else "start"))
    outcomes: list[Outcome] = []
    for method in methods:
        method.is_opted_out = is_stop
        method.opted_out_at = now if is_stop else None
        analyst = session.get(Analyst, method.analyst_id)
        if analyst is None:
            continue
        if not is_stop:
            continue
        notify_admins(
            session,
            None,
            f"{analyst.name} ({analyst.code}) texted STOP: they cannot be paged by SMS until "
            "they text START; voice pages continue",
            analyst.code,
            now,
        )
        incident_ids = session.scalars(
            select(Incident.id)
            .join(Page, Page.incident_id == Incident.id)
            .where(Page.to_number == sender, Incident.status.in_(OPEN_STATUSES))
            .distinct()
        )
        for incident_id in list(incident_ids):
            incident = lock_incident(session, incident_id)
            if incident is None or incident.escalation_state is None:
                continue
            log_event(session, incident, "sms_opted_out", now, actor=analyst.code, number=sender)
            outcomes.append(feed(session, incident, OptedOut(analyst.code), now))
    return outcomes
