"""Claiming due pages for sending: the oldest due page, and every page its send carries.

A sender takes the destination's lock (``bundles.lock_destination``), asks whether the
phone may be paged yet (``bundles.hold_for_rate``), then claims the lead page and every
due page to the same phone on the same channel (``bundles.bundle_rows``) with one
conditional update (``queued`` -> ``sending``), and commits the claim before calling
Twilio (``escalation.dispatch``). A bundle of thirty incidents is claimed and named in a
handful of statements, not a few per incident: the time between the claim and Twilio is
time the phone's next send must wait for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from escalation.bundle_texts import bundle_sms
from escalation.bundles import bundle_rows, hold_for_rate, lock_destination
from escalation.models import Page
from escalation.runner import on_sqlite, subjects_of
from escalation.state import state_from_dict
from escalation.texts import purpose_of, sms_body
from voiceline.clock import Clock
from voiceline.db import Database
from voiceline.incidents.log import log_event
from voiceline.incidents.models import Incident

MAX_ROUNDS = 200  # a safety stop for one call; the next tick carries on


@dataclass(frozen=True)
class Claim:
    """A page this sender claimed, with what sending it needs; a bundle carries riders."""

    page_id: int
    incident_id: int
    key: str
    to: str
    channel: str
    body: str
    riders: tuple[tuple[int, int, str], ...] = ()  # (page id, incident id, key) of the others


def claim_next_page(database: Database, clock: Clock, incident_id: int | None) -> Claim | None:
    """Claim the oldest due queued page and every page it bundles; commit the claim."""
    now = clock.now()
    with database.session() as session:
        locks = not on_sqlite(session)
        for _ in range(MAX_ROUNDS):
            query = select(Page.to_number, Page.channel).where(
                Page.status == "queued", Page.sent_at <= now
            )
            if incident_id is not None:
                query = query.where(Page.incident_id == incident_id)
            due = session.execute(query.order_by(Page.sent_at, Page.id).limit(1)).first()
            if due is None:
                return None
            # Taken before any page row is locked, so senders to one phone cannot deadlock.
            lock_destination(session, due.to_number, due.channel)
            # The clock is read again once the lock is held: a sender that held it
            # meanwhile stamped its claim with its own later time, which an earlier
            # reading would place in the future and so not count as sent.
            now = max(now, clock.now())
            lead_query = (
                select(Page)
                .where(
                    Page.status == "queued",
                    Page.sent_at <= now,
                    Page.to_number == due.to_number,
                    Page.channel == due.channel,
                )
                .order_by(Page.sent_at, Page.id)
                .limit(1)
            )
            if incident_id is not None:
                lead_query = lead_query.where(Page.incident_id == incident_id)
            if locks:
                lead_query = lead_query.with_for_update(skip_locked=True)
            lead = session.scalars(lead_query).first()
            if lead is None:
                continue  # another sender took it
            if hold_for_rate(session, lead, now) is not None:
                session.commit()  # the phone was paged too recently: they go with the next send
                continue
            wanted = claim_rows(session, bundle_rows(session, lead, now, locks=locks), now)
            for row, _ in wanted[1:]:
                # Stored with the claim, before the send: a status callback for the
                # message (on the first row's URL) then reaches every row it carries,
                # even if this sender dies before recording Twilio's answer.
                row.bundle_lead_id = wanted[0][0].id
            if not wanted:
                session.commit()
                continue
            (page, incident), riders = wanted[0], wanted[1:]
            channel = page.channel
            if channel != "sms":
                body = ""
            elif riders:
                body = bundle_sms(subjects_of(session, [found for _, found in wanted]))
            else:
                body = sms_body(purpose_of(page.page_key), subjects_of(session, [incident])[0])
            claim = Claim(
                page.id,
                incident.id,
                page.page_key,
                page.to_number,
                channel,
                body,
                tuple((row.id, found.id, row.page_key) for row, found in riders),
            )
            session.commit()
            return claim
    return None


def claim_rows(
    session: Session, page_ids: Sequence[int], now: datetime
) -> list[tuple[Page, Incident]]:
    """Claim queued pages (``queued`` -> ``sending``) in one statement, in ``page_ids``'
    order; a page another sender claimed first is left out, one no longer needed dropped."""
    if not page_ids:
        return []
    claimed = set(
        session.scalars(
            update(Page)
            .where(Page.id.in_(page_ids), Page.status == "queued")
            .values(status="sending", sent_at=now, updated_at=now)
            .returning(Page.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not claimed:
        return []
    pages = {
        page.id: page
        for page in session.scalars(
            select(Page).where(Page.id.in_(claimed)).execution_options(populate_existing=True)
        )
    }
    incidents = {
        incident.id: incident
        for incident in session.scalars(
            select(Incident)
            .where(Incident.id.in_({page.incident_id for page in pages.values()}))
            .options(selectinload(Incident.customer), selectinload(Incident.contact))
            .execution_options(populate_existing=True)
        )
    }
    wanted = []
    for page_id in page_ids:
        page = pages.get(page_id)
        incident = incidents.get(page.incident_id) if page is not None else None
        if page is None or incident is None:
            continue
        if not still_wanted(incident, page.page_key):
            page.status, page.updated_at = "cancelled", now
            log_event(
                session,
                incident,
                "page_dropped",
                now,
                key=page.page_key,
                detail="the escalation no longer needs this page",
            )
            continue
        wanted.append((page, incident))
    return wanted


def still_wanted(incident: Incident, key: str) -> bool:
    """Return True if the escalation still waits for this page to be sent."""
    if incident.escalation_state is None:
        return False
    state = state_from_dict(incident.escalation_state)
    page = state.find_page(key)
    return not state.is_final and page is not None and page.status == "sending"
