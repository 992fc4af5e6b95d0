"""The thin runner: feed one event to an incident's escalation and record what follows.

Everything here runs inside the caller's transaction, with the incident row locked
(``lock_incident``), and touches only the database:

- ``start`` snapshots the customer's policy into ``incident.policy_snapshot`` (later edits
  never change an escalation in flight), creates the state and feeds ``Opened``;
- ``feed`` loads the state, resolves who the policy's targets are now
  (``escalation.roster``), calls ``engine.next``, stores the new state and
  ``next_due_at = state.wake_at`` (the database timer the worker wakes on), mirrors the
  result on the incident (status, acknowledgement, callback), and performs the database
  half of every action: ``LogEvent`` becomes a line in the incident's event log,
  ``NotifyAdmins`` an alarm (``voiceline.alarms``: an admin notice, emailed after the
  commit), ``SendPage`` a ``Page`` row in status ``queued``; then every way the
  transition gave up raises an alarm too (``escalation.alarm_points``).

A queued page is the durable promise to send it, committed with the decision that made
it. ``Page.sent_at`` is when the page goes (or went): now, or later when the
per-destination throttle spaces out pages to one number. Sending happens after the
commit, in ``escalation.dispatch``, which returns here with ``PageFailed`` and the like.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from escalation import alarm_points, engine
from escalation.actions import CancelPages, LogEvent, NotifyAdmins, SendPage
from escalation.bundles import carries_others
from escalation.errors import EscalationError
from escalation.events import (
    Acknowledged,
    CallbackLogged,
    Declined,
    Event,
    Opened,
    OptedOut,
    Resolved,
)
from escalation.models import Acknowledgement, EscalationPolicy, Page
from escalation.policy import parse_delay, policy_from_dict, policy_to_dict
from escalation.roster import resolve_policy
from escalation.state import (
    DEFAULT_REMIND_BEFORE,
    EscalationState,
    new_state,
    state_from_dict,
    state_to_dict,
)
from escalation.texts import Subject
from escalation.throttle import SMS_LIMITS, VOICE_LIMITS, decide
from oncall.models import Analyst
from voiceline.alarms import raise_alarm
from voiceline.customers.services import service_settings
from voiceline.incidents.log import log_event
from voiceline.incidents.models import Incident, Recording
from voiceline.sla.clocks import SlaError, stop_callback

log = logging.getLogger(__name__)

# Page rows in these statuses never reached Twilio, so they do not count for the throttle.
UNSENT_STATUSES = ("error", "lost", "cancelled")
# Page rows of calls not answered yet (ours, then Twilio's words before an answer).
RINGING_STATUSES = ("sending", "accepted", "sent", "ringing")
DEFAULT_POLICY_CODE = "default"


@dataclass
class Outcome:
    """What must happen after the commit: the incident's queued pages go, these calls stop."""

    incident_id: int
    hang_up: list[str] = field(default_factory=list)  # provider SIDs of ringing pages


def on_sqlite(session: Session) -> bool:
    """Return True when the session talks to SQLite (no row locks, one worker)."""
    return session.get_bind().dialect.name == "sqlite"


def lock_incident(session: Session, incident_id: int) -> Incident | None:
    """Return the incident with its row locked until the transaction ends."""
    if on_sqlite(session):
        # SQLite has no row locks: writing first takes the database write lock (waiting
        # out the busy timeout), so the state read next cannot change under us.
        session.execute(update(Incident).where(Incident.id == incident_id).values(id=Incident.id))
        return session.get(Incident, incident_id, populate_existing=True)
    return session.scalars(
        select(Incident)
        .where(Incident.id == incident_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def policy_for(session: Session, incident: Incident) -> EscalationPolicy | None:
    """Return the policy that pages for an incident: the customer's, else the default one."""
    if incident.customer is not None and incident.customer.escalation_policy is not None:
        return incident.customer.escalation_policy
    service = service_settings(session)
    code = str(service.get("default_escalation_policy") or DEFAULT_POLICY_CODE)
    found = session.scalars(select(EscalationPolicy).filter_by(code=code)).one_or_none()
    if found is not None:
        return found
    # A desk with a single policy means it for everybody.
    policies = list(session.scalars(select(EscalationPolicy).limit(2)))
    return policies[0] if len(policies) == 1 else None


def remind_before(session: Session) -> timedelta:
    """Return how long before the SLA deadline an unfinished callback is chased."""
    value = service_settings(session).get("remind_before")
    if value is None:
        return DEFAULT_REMIND_BEFORE
    try:
        return parse_delay(value)
    except EscalationError:
        log.error("service remind_before %r is unreadable; using the default", value)
        return DEFAULT_REMIND_BEFORE


def start(session: Session, incident: Incident, now: datetime) -> Outcome:
    """Snapshot the policy into the incident and feed ``Opened``; idempotent."""
    outcome = Outcome(incident.id)
    if incident.escalation_state is not None:
        return outcome
    if incident.status not in ("open", "acknowledged"):
        incident.next_due_at = None
        log_event(session, incident, "paging_skipped", now, detail="the incident is closed")
        return outcome
    row = policy_for(session, incident)
    if row is None:
        _give_up(session, incident, now, "no escalation policy applies: nobody was paged")
        return outcome
    try:
        policy = policy_from_dict(
            {"name": row.name, "repeat": row.repeat, "steps": row.steps, "code": row.code}
        )
        state = new_state(
            policy, sla_deadline=incident.deadline_at, remind_before=remind_before(session)
        )
    except EscalationError as exc:
        _give_up(session, incident, now, f"escalation policy {row.code} is unusable: {exc}")
        return outcome
    incident.policy_snapshot = policy_to_dict(policy)
    return _apply(session, incident, state, Opened(), now)


def feed(session: Session, incident: Incident, event: Event, now: datetime) -> Outcome:
    """Feed one event to the incident's escalation and record the transition."""
    if incident.escalation_state is None:
        log_event(session, incident, "ignored", now, detail=f"{type(event).__name__}: not paging")
        return Outcome(incident.id)
    try:
        state = state_from_dict(incident.escalation_state)
    except EscalationError as exc:
        _give_up(session, incident, now, f"escalation state unreadable: {exc}")
        return Outcome(incident.id)
    if incident.callback_at is not None and not state.is_final:
        # The callback was recorded elsewhere (the SLA page): paging must stop too.
        who = state.acknowledged_by or "admin"
        return _apply(session, incident, state, CallbackLogged(who, "web", True), now)
    return _apply(session, incident, state, event, now)


def _apply(
    session: Session, incident: Incident, state: EscalationState, event: Event, now: datetime
) -> Outcome:
    """Run the engine, store the new state, and do the database half of the actions."""
    roster = resolve_policy(session, state.policy, now)
    new, actions = engine.next(state, event, now, roster.recipients)
    incident.escalation_state = state_to_dict(new)
    incident.next_due_at = new.wake_at
    outcome = Outcome(incident.id)
    actor = _actor(event)
    name = type(event).__name__
    for action in actions:
        match action:
            case LogEvent(kind=kind, detail=detail):
                kind = "escalation_started" if kind == "opened" else kind
                log_event(session, incident, kind, now, actor=actor, detail=detail, event=name)
                if kind == "target_unresolved" and roster.problems:
                    log_event(session, incident, "roster_problem", now, detail=roster.problems)
            case SendPage():
                queue_page(session, incident, action, now)
            case NotifyAdmins(kind="page_failed"):
                pass  # alarm_points raises it, knowing whose fault it was (below)
            case NotifyAdmins(reason=reason, analyst=analyst, kind=kind):
                notify_admins(session, incident, reason, analyst, now, kind)
            case CancelPages(page_keys=keys):
                outcome.hang_up += _ringing_sids(session, incident, keys, now)
            case _:
                pass  # ScheduleTimer/CancelTimer: next_due_at above is the timer
    _mirror(session, incident, state, new, event, now)
    alarm_points.after_transition(session, incident, state, new, event, now)
    return outcome


def queue_page(session: Session, incident: Incident, action: SendPage, now: datetime) -> Page:
    """Add the page as ``queued``, at the time the destination's throttle allows."""
    limits = SMS_LIMITS if action.channel == "sms" else VOICE_LIMITS
    history = session.scalars(
        select(Page.sent_at).where(
            Page.to_number == action.to,
            Page.channel == action.channel,
            Page.sent_at >= now - limits.window,
            Page.status.not_in(UNSENT_STATUSES),
        )
    )
    decision = decide([t for t in history if t is not None], now, limits)
    analyst_id = session.scalar(select(Analyst.id).filter_by(code=action.analyst))
    page = Page(
        incident_id=incident.id,
        page_key=action.page_key,
        analyst_id=analyst_id,
        channel=action.channel,
        to_number=action.to,
        status="queued",
        created_at=now,
        sent_at=decision.send_at,
        updated_at=now,
    )
    session.add(page)
    detail: dict[str, Any] = {"key": action.page_key, "channel": action.channel, "to": action.to}
    if decision.is_delayed:
        detail["send_at"] = decision.send_at.isoformat()
        detail["throttled"] = "joins the next bundle" if decision.joins_bundle else "next bundle"
    log_event(session, incident, "page_queued", now, actor=action.analyst, **detail)
    return page


def notify_admins(
    session: Session,
    incident: Incident | None,
    reason: str,
    analyst: str | None,
    now: datetime,
    kind: str = "escalation",
) -> None:
    """Raise an alarm for the admins, once per incident and reason while unresolved."""
    incident_id = incident.id if incident is not None else None
    if incident_id is not None and not reason.startswith(f"incident {incident_id}:"):
        reason = f"incident {incident_id}: {reason}"
    analyst_id = session.scalar(select(Analyst.id).filter_by(code=analyst)) if analyst else None
    raise_alarm(session, kind, reason, incident_id, analyst_id, now=now)


def _give_up(session: Session, incident: Incident, now: datetime, reason: str) -> None:
    """Stop the timer, log why nobody can be paged, and raise the alarm."""
    incident.next_due_at = None
    log_event(session, incident, "paging_failed", now, detail=reason)
    raise_alarm(session, "nobody_paged", f"incident {incident.id}: {reason}", incident.id, now=now)


def _ringing_sids(
    session: Session, incident: Incident, keys: tuple[str, ...], now: datetime
) -> list[str]:
    """Return the provider SIDs of pages to hang up; log the cancellation."""
    pages = session.scalars(
        select(Page).where(Page.incident_id == incident.id, Page.page_key.in_(keys))
    )
    sids: list[str] = []
    for page in pages:
        if page.status == "queued":
            page.status, page.updated_at = "cancelled", now
        elif (
            page.provider_sid
            and page.status in RINGING_STATUSES
            and page.answered_by is None
            and not carries_others(session, page)
        ):
            # Someone who already picked up hears that the incident is taken; no hang-up.
            # Nor while the call (a bundle) still pages other incidents nobody has taken.
            sids.append(page.provider_sid)
    if keys:
        log_event(session, incident, "pages_cancelled", now, keys=list(keys))
    return sids


def _mirror(
    session: Session,
    incident: Incident,
    old: EscalationState,
    new: EscalationState,
    event: Event,
    now: datetime,
) -> None:
    """Copy the escalation's outcome onto the incident's own columns."""
    if new.acknowledged_by != old.acknowledged_by:
        analyst = (
            session.scalars(select(Analyst).filter_by(code=new.acknowledged_by)).one_or_none()
            if new.acknowledged_by
            else None
        )
        incident.acknowledged_by_id = analyst.id if analyst else None
        incident.acknowledged_at = new.acknowledged_at
        if analyst is not None and new.acknowledged_at is not None:
            via = getattr(event, "via", "web")
            session.add(
                Acknowledgement(incident_id=incident.id, analyst_id=analyst.id, via=via, at=now)
            )
    if new.callback_at is not None and old.callback_at is None:
        # The SLA module owns the callback columns and the clock: one entry for every way.
        via = event.via if isinstance(event, CallbackLogged) else "web"
        is_reported = not isinstance(event, CallbackLogged) or event.is_reported
        kind = {"voice": "bridge", "sms": "sms"}.get(via, "web")
        try:
            stop_callback(
                session, incident, new.callback_at, kind, is_reported, actor=new.callback_by
            )
        except SlaError as exc:
            log_event(session, incident, "callback_not_recorded", now, detail=str(exc))
    if new.status == "resolved" and incident.status != "closed":
        incident.status, incident.closed_at = "closed", now
    elif incident.status in ("open", "acknowledged"):
        incident.status = "acknowledged" if new.acknowledged_by else "open"


def _actor(event: Event) -> str | None:
    """Return who caused an event, for the log."""
    match event:
        case Acknowledged(analyst=a) | Declined(analyst=a) | CallbackLogged(analyst=a):
            return a
        case OptedOut(analyst=a):
            return a
        case Resolved(by=by):
            return by
    return None


def subject_of(session: Session, incident: Incident) -> Subject:
    """Return what a page says about an incident."""
    return subjects_of(session, [incident])[0]


def subjects_of(session: Session, incidents: Sequence[Incident]) -> list[Subject]:
    """Return what a page says about each incident: one read of each kind for them all."""
    transcripts: dict[int | None, str | None] = {}
    for incident_id, transcript in session.execute(
        select(Recording.incident_id, Recording.transcription)
        .where(
            Recording.incident_id.in_({i.id for i in incidents}),
            Recording.transcription.is_not(None),
        )
        .order_by(Recording.id)
    ):
        transcripts.setdefault(incident_id, transcript)
    ackers = {i.acknowledged_by_id for i in incidents if i.acknowledged_by_id}
    names: dict[int, str] = {}
    if ackers:
        rows = session.execute(select(Analyst.id, Analyst.name).where(Analyst.id.in_(ackers)))
        names = {analyst_id: name for analyst_id, name in rows}
    return [
        _subject(i, transcripts.get(i.id), names.get(i.acknowledged_by_id or 0)) for i in incidents
    ]


def _subject(incident: Incident, transcript: str | None, acker: str | None) -> Subject:
    customer = incident.customer
    deadline = None
    if incident.deadline_at is not None:
        zone = ZoneInfo(customer.time_zone) if customer is not None else ZoneInfo("UTC")
        local = incident.deadline_at.astimezone(zone)
        deadline = f"{local:%H:%M} {local.tzname()}"
    # The incident summary repeats who called; the page says what they said, if known yet.
    if transcript:
        summary = transcript
    elif incident.summary.startswith("Missed"):
        summary = "missed call, no message"
    else:
        summary = ""
    return Subject(
        number=incident.id,
        customer=customer.name if customer is not None else "Unknown customer",
        caller_name=incident.contact.name if incident.contact is not None else None,
        caller_number=incident.caller_number,
        priority=incident.priority,
        summary=summary,
        deadline=deadline,
        acknowledged_by=acker,
    )
