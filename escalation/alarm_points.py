"""Where paging gives up, an alarm (``voiceline.alarms``); where someone has it, the end of one.

The runner calls ``after_transition`` with the state before and after every event, and
the worker calls ``check_twilio`` every few seconds. The give-up points:

==========================================  ===========================================
what happened                               alarm (kind; about)
==========================================  ===========================================
no policy applies, policy unusable, state   ``nobody_paged``; the incident (runner's
unreadable                                  ``give_up``)
every step of every pass found nobody       ``nobody_paged``; the incident
the engine tells the admins (exhausted,     ``escalation``; the incident and analyst
analyst unreachable on every channel, no    (runner's ``notify_admins``)
usable number, STOP, no tier to warn)
a page failed for good: a permanent error   ``page_failed``; the incident (and the
for the number, or its retries spent        analyst, when the number is wrong)
Twilio refuses our account or sender        ``twilio_refused``; Twilio, not an incident
no caller ID (Twilio codes 21603/21213)     ``no_caller_id``; Twilio, not an incident
no page accepted for a minute while         ``twilio_unreachable``; Twilio (worker's
attempts keep failing without an answer     ``check_twilio``)
==========================================  ===========================================

Incident alarms end when someone acknowledges or the incident closes; Twilio alarms end
when Twilio accepts a page again; alarms about one analyst (a wrong number, STOP, no
usable number) wait for an admin to mark them dealt with.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from escalation.events import Event, OptedOut, PageFailed, PageUndelivered
from escalation.failures import OPTED_OUT_CODE
from escalation.models import Page
from escalation.state import EscalationState
from escalation.state import Page as StatePage
from oncall.models import Analyst
from voiceline.admin.models import AdminNotice
from voiceline.alarms import (
    raise_alarm,
    resolve_incident_alarms,
    resolve_twilio_alarms,
)
from voiceline.alarms.readiness import NO_CALLER_ID
from voiceline.alarms.service import TWILIO_KINDS
from voiceline.incidents.models import Incident
from voiceline.telephony import NO_SENDER_CODES
from voiceline.twilio_errors import CODES, Failure, classify, meaning_of

UNREACHABLE_AFTER = timedelta(minutes=1)
# A failure older than this says nothing about Twilio now.
FRESH_FAILURE = timedelta(minutes=10)
# Page rows that never reached Twilio: refused at send, or never answered (in doubt).
FAILED_SEND_STATUSES = ("error", "lost")
SETTLED = ("acknowledged", "called_back", "resolved")
PERMANENT_CODES = tuple(code for code, known in CODES.items() if not known.failure.is_temporary)


def after_transition(
    session: Session,
    incident: Incident,
    old: EscalationState,
    new: EscalationState,
    event: Event,
    now: datetime,
) -> None:
    """Raise an alarm for each way this transition gave up; end them once someone has it."""
    for page in new.pages:
        before = old.find_page(page.key)
        if page.status == "failed" and (before is None or before.status != "failed"):
            page_failed(session, incident, page, event, now)
    if (
        new.status == "exhausted"
        and old.status != "exhausted"
        and not any(page.purpose == "page" for page in new.pages)
    ):
        raise_alarm(
            session,
            "nobody_paged",
            f"incident {incident.id}: nobody could be paged: every step of policy "
            f"{new.policy.name!r} found nobody reachable",
            incident.id,
            now=now,
        )
    if new.status in SETTLED and old.status not in SETTLED:
        resolve_incident_alarms(session, incident.id, now)


def page_failed(
    session: Session, incident: Incident, page: StatePage, event: Event, now: datetime
) -> None:
    """Raise the alarm for one page given up on: Twilio's fault, or this number's."""
    # Refused at send (PageFailed) or reported by a status callback (PageUndelivered).
    code = event.code if isinstance(event, PageFailed | PageUndelivered) else None
    if isinstance(event, OptedOut) or code == OPTED_OUT_CODE:
        return  # STOP: the engine tells the admins about the analyst itself
    if code in NO_SENDER_CODES.values():
        raise_alarm(session, "no_caller_id", f"no page can be sent: {NO_CALLER_ID}", now=now)
        return
    if code is not None and classify(None, code) is Failure.PERMANENT_ACCOUNT:
        raise_alarm(
            session,
            "twilio_refused",
            f"Twilio refuses our pages: error {code} ({meaning_of(code)}); "
            "check the account, its numbers and permissions",
            now=now,
        )
        return
    meaning = meaning_of(code) if code is not None else None
    said = f"Twilio error {code} ({meaning})" if meaning else f"Twilio error {code}"
    if isinstance(event, PageFailed) and event.is_temporary:
        last = said if code is not None else "no answer from Twilio"
        why = f"gave up after {page.attempt} attempt(s), the last: {last}"
    else:
        why = said if code is not None else "no answer from Twilio"
    # Only a wrong number is the analyst's to fix; other failures end with the incident's.
    is_number = code is not None and classify(None, code) is Failure.PERMANENT_NUMBER
    analyst_id = (
        session.scalar(select(Analyst.id).filter_by(code=page.analyst)) if is_number else None
    )
    raise_alarm(
        session,
        "page_failed",
        f"incident {incident.id}: the {page.channel} page to {page.analyst} failed: {why}",
        incident.id,
        analyst_id,
        now=now,
    )


def check_twilio(session: Session, now: datetime) -> None:
    """Alarm when no page has gone out for a minute while attempts keep failing; end it after."""
    # Unreachable: since the last page Twilio accepted, two or more attempts failed with
    # a temporary error (a timeout, a refused connection, a 5xx, an in-doubt send), the
    # first a minute ago or more and the latest in the last ten minutes (a lone old
    # failure says nothing about Twilio now).
    last_ok = session.scalar(
        select(func.max(Page.updated_at)).where(Page.provider_sid.is_not(None))
    )
    opened = session.scalar(
        select(func.min(AdminNotice.at)).where(
            AdminNotice.kind.in_(TWILIO_KINDS),
            AdminNotice.incident_id.is_(None),
            AdminNotice.resolved_at.is_(None),
        )
    )
    if opened is not None and last_ok is not None and last_ok > opened:
        resolve_twilio_alarms(session, now)
    temporary = or_(Page.error_code.is_(None), Page.error_code.not_in(PERMANENT_CODES))
    query = select(func.count(Page.id), func.min(Page.updated_at), func.max(Page.updated_at)).where(
        Page.status.in_(FAILED_SEND_STATUSES), Page.updated_at.is_not(None), temporary
    )
    if last_ok is not None:
        query = query.where(Page.updated_at > last_ok)
    count, first, latest = session.execute(query).one()
    if count < 2 or first is None or latest is None:
        return
    if first <= now - UNREACHABLE_AFTER and latest >= now - FRESH_FAILURE:
        raise_alarm(
            session,
            "twilio_unreachable",
            f"Twilio has accepted no page since {first:%Y-%m-%d %H:%M:%S} UTC: "
            "attempts keep failing without an answer",
            now=now,
        )
