"""A bare ``A``: acknowledge every incident a phone was paged for, and say which.

``escalation.replies`` answers a reply naming one incident; a bundle pages several at
once, so ``A`` alone takes every incident that reached this phone (a page to it was
sent, not just queued) and is still waiting for an analyst. Incidents someone else took,
or that are over, are left alone; the others escalate on as before.

``acknowledge_each`` is the one way several incidents are taken at once: by ``A`` here,
and by key 1 or 2 of a bundled voice page (``escalation.voice_bundles``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.bundle_texts import ack_all_reply
from escalation.bundles import NOT_SENT
from escalation.dispatch import Paging, deliver
from escalation.events import Acknowledged, Via
from escalation.models import Acknowledgement, Page
from escalation.runner import Outcome, feed, lock_incident, subject_of
from escalation.state import state_from_dict
from escalation.texts import Subject
from voiceline.incidents.log import OPEN_STATUSES
from voiceline.incidents.models import Incident


def _open_incidents_paged_to(session: Session, sender: str) -> list[int]:
    """Return the open incidents a page actually went out to ``sender`` for, in id order."""
    return list(
        session.scalars(
            select(Incident.id)
            .join(Page, Page.incident_id == Incident.id)
            .where(
                Page.to_number == sender,
                Page.status.not_in(NOT_SENT),
                Incident.status.in_(OPEN_STATUSES),
                Incident.acknowledged_at.is_(None),
            )
            .distinct()
            .order_by(Incident.id)  # one lock order for every caller: no deadlocks
        )
    )


def is_several_waiting(paging: Paging, sender: str) -> bool:
    """Return True when more than one unacknowledged incident was paged to ``sender``.

    With one (or none), a bare "A" means what it always meant: the latest page, with its
    own answers (taken, already closed, not paged); with several, it takes them all.
    """
    with paging.database.session() as session:
        return len(_open_incidents_paged_to(session, sender)) > 1


@dataclass
class Acknowledging:
    """What acknowledging several incidents for one phone did."""

    mine: list[Subject] = field(default_factory=list)  # this analyst has them now
    others: list[Subject] = field(default_factory=list)  # someone else took them first
    outcomes: list[Outcome] = field(default_factory=list)


Reached = Callable[[Session, Incident, str], None]


def acknowledge_each(
    session: Session,
    incident_ids: Iterable[int],
    number: str,
    via: Via,
    now: datetime,
    *,
    reached: Reached | None = None,
) -> Acknowledging:
    """Acknowledge each incident for the analyst ``number`` paged, unless someone has it.

    Incidents are locked in id order (one lock order for every caller: no deadlocks). One
    that is over is left alone; one another analyst took is reported in ``others``, never
    acknowledged again; ``reached(session, incident, analyst)`` runs for each one this
    call acknowledged, so the caller can log which page reached it.
    """
    done = Acknowledging()
    for incident_id in sorted(set(incident_ids)):
        incident = lock_incident(session, incident_id)
        if incident is None or incident.escalation_state is None:
            continue
        state = state_from_dict(incident.escalation_state)
        analyst = state.analyst_for_number(number)
        if analyst is None or state.is_final:
            continue
        if state.acknowledged_by is not None:
            mine = state.acknowledged_by == analyst
            (done.mine if mine else done.others).append(subject_of(session, incident))
            continue
        done.outcomes.append(feed(session, incident, Acknowledged(analyst, via), now))
        after = state_from_dict(incident.escalation_state or {})
        if after.acknowledged_by == analyst:
            done.mine.append(subject_of(session, incident))
            if reached is not None:
                reached(session, incident, analyst)
    return done


def name_reaching_page(session: Session, incident_id: int, page_id: int, at: datetime) -> None:
    """Record on the acknowledgement made ``at`` the page that reached the analyst."""
    session.flush()
    ack = session.scalars(
        select(Acknowledgement)
        .where(
            Acknowledgement.incident_id == incident_id,
            Acknowledgement.page_id.is_(None),
            Acknowledgement.at == at,
        )
        .order_by(Acknowledgement.id.desc())
        .limit(1)
    ).first()
    if ack is not None:
        ack.page_id = page_id


def _latest_page_to(session: Session, incident: Incident, sender: str, at: datetime) -> None:
    """Name the newest page sent to ``sender`` about ``incident`` as the one that reached it."""
    page_id = session.scalar(
        select(Page.id)
        .where(
            Page.incident_id == incident.id,
            Page.to_number == sender,
            Page.status.not_in(NOT_SENT),
        )
        .order_by(Page.sent_at.desc(), Page.id.desc())
        .limit(1)
    )
    if page_id is not None:
        name_reaching_page(session, incident.id, page_id, at)


def acknowledge_all(paging: Paging, sender: str) -> str:
    """Acknowledge every unacknowledged incident paged to ``sender``; return the reply."""
    now = paging.clock.now()
    with paging.database.session() as session:
        ids = _open_incidents_paged_to(session, sender)
        done = acknowledge_each(
            session,
            ids,
            sender,
            "sms",
            now,
            reached=lambda s, i, _: _latest_page_to(s, i, sender, now),
        )
    for outcome in done.outcomes:
        paging.later(deliver, paging, outcome)
    return ack_all_reply(done.mine)
