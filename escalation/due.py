"""Work that is due, for the worker's tick: started, escalated, retried, sent, settled.

``run_due`` claims due incidents one at a time (``SELECT ... FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several workers share the work without waiting on each other), starts
those handed over by the line that nobody started yet, and feeds ``TimerFired`` to the
others; then it sends queued pages whose time has come (throttled ones, and ones a
crashed process queued but never sent), and settles pages left in doubt (see
``escalation.dispatch``). ``next_wake`` says when the next of these falls due.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from escalation.dispatch import (
    IN_DOUBT_AFTER,
    MAX_ROUNDS,
    Paging,
    deliver,
    send_due_pages,
)
from escalation.events import PageFailed, TimerFired
from escalation.models import Page
from escalation.runner import Outcome, feed, lock_incident, on_sqlite, start
from voiceline.incidents.log import log_event
from voiceline.incidents.models import Incident

log = logging.getLogger(__name__)


def reconcile_in_doubt(paging: Paging) -> int:
    """Settle pages claimed long ago that never got a SID; return how many."""
    now = paging.clock.now()
    with paging.database.session() as session:
        doubtful = list(
            session.execute(
                select(Page.id, Page.incident_id, Page.page_key).where(
                    Page.status == "sending",
                    Page.provider_sid.is_(None),
                    Page.updated_at <= now - IN_DOUBT_AFTER,
                )
            )
        )
    settled = 0
    for page_id, incident_id, key in doubtful:
        with paging.database.session() as session:
            incident = lock_incident(session, incident_id)
            page = session.get(Page, page_id, populate_existing=True)
            if incident is None or page is None or page.provider_sid or page.status != "sending":
                continue  # a status callback proved it was sent, or another worker settled it
            page.status, page.updated_at = "lost", now
            log_event(
                session,
                incident,
                "page_in_doubt",
                now,
                key=key,
                detail="no answer from Twilio and no callback: sending the next attempt",
            )
            lost = PageFailed(key, None, True, "no answer from Twilio and no status callback")
            outcome = feed(session, incident, lost, now)
        deliver(paging, outcome)
        settled += 1
    return settled


@dataclass(frozen=True)
class Lanes:
    """Threads that handle due incidents side by side (see ``run_due``)."""

    count: int
    pool: ThreadPoolExecutor

    @classmethod
    def of(cls, count: int) -> Lanes:
        """Return ``count`` lanes on a pool of their own."""
        return cls(count, ThreadPoolExecutor(count, thread_name_prefix="escalation-lane"))


def run_due(paging: Paging, lanes: Lanes | None = None) -> int:
    """Do everything that is due: start handed-over incidents, fire timers, send pages.

    With ``lanes`` (used on PostgreSQL only), each of their threads claims due incidents
    side by side (``SKIP LOCKED`` keeps them apart): almost all of an incident's time is
    spent waiting on database round trips and on Twilio, and incidents due together
    would otherwise wait for each other's. SQLite has one writer: one lane.
    """
    skipped: set[int] = set()
    lock = threading.Lock()
    if lanes is not None and not _on_sqlite(paging):
        runs = lanes.pool.map(lambda _: _run_lane(paging, skipped, lock), range(lanes.count))
        done = sum(runs)
    else:
        done = _run_lane(paging, skipped, lock)
    done += send_due_pages(paging)
    done += reconcile_in_doubt(paging)
    return done


def _on_sqlite(paging: Paging) -> bool:
    return paging.database.engine.dialect.name == "sqlite"


def _run_lane(paging: Paging, skipped: set[int], lock: threading.Lock) -> int:
    """Start or advance due incidents until none is left; return how many."""
    done = 0
    for _ in range(MAX_ROUNDS):
        outcome = _run_one_due_incident(paging, skipped, lock)
        if outcome is None:
            break
        if outcome.incident_id != 0:
            try:
                deliver(paging, outcome)
            except Exception:
                # Committed already: a page not sent is queued (the next tick sends it),
                # one sent but not recorded is settled as in doubt.
                log.exception("sending incident %s's pages failed", outcome.incident_id)
            done += 1
    return done


def _run_one_due_incident(
    paging: Paging, skipped: set[int], lock: threading.Lock
) -> Outcome | None:
    """Claim one due incident, start or advance it, commit; None when nothing is due."""
    now = paging.clock.now()
    with lock:
        passed = list(skipped)  # done by this run already (or by another lane)
    try:
        with paging.database.session() as session:
            query = (
                select(Incident.id)
                .where(Incident.next_due_at <= now, Incident.id.not_in(passed))
                .order_by(Incident.next_due_at, Incident.id)
                .limit(1)
            )
            if not on_sqlite(session):
                query = query.with_for_update(skip_locked=True)
            incident_id = session.scalar(query)
            if incident_id is None:
                return None
            with lock:
                skipped.add(incident_id)
            incident = lock_incident(session, incident_id)
            if incident is None or incident.next_due_at is None or incident.next_due_at > now:
                return Outcome(0)  # another process got there first
            if incident.escalation_state is None:
                return start(session, incident, now)
            return feed(session, incident, TimerFired(), now)
    except Exception:
        log.exception("escalation of a due incident failed; it stays due for the next tick")
        return Outcome(0)


def next_wake(paging: Paging) -> datetime | None:
    """Return when something is next due: an incident timer or a throttled page."""
    with paging.database.session() as session:
        return _next_wake(session)


def _next_wake(session: Session) -> datetime | None:
    incident_due = session.scalar(select(func.min(Incident.next_due_at)))
    page_due = session.scalar(select(func.min(Page.sent_at)).where(Page.status == "queued"))
    claimed = session.scalar(
        select(func.min(Page.updated_at)).where(
            Page.status == "sending", Page.provider_sid.is_(None)
        )
    )
    doubt_due = claimed + IN_DOUBT_AFTER if claimed is not None else None
    present = [t for t in (incident_due, page_due, doubt_due) if t is not None]
    return min(present) if present else None
