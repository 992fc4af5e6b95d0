"""Sending pages exactly once.

``Paging`` bundles what sending needs (database, telephony, clock, callback URLs). The
web process uses it to page the moment a message is saved (``begin``) and to act on
Twilio callbacks and SMS replies (``handle``); the worker runs ``escalation.due.run_due``
every second and at the exact next due time.

Exactly once, across workers and crashes:

1. A page is decided and stored as a ``queued`` ``Page`` row in the same transaction as
   the escalation state (``escalation.runner``); ``(incident_id, page_key)`` is unique,
   so a decision replayed after a crash cannot queue it twice.
2. A sender claims a queued page with a conditional update (``queued`` -> ``sending``)
   and commits the claim *before* calling Twilio: of several workers, exactly one wins.
   Due incidents and due pages are picked with ``SELECT ... FOR UPDATE SKIP LOCKED`` on
   PostgreSQL so workers do not queue up behind each other.
3. Twilio's answer is recorded (``provider_sid``). A worker killed before the claim
   leaves the page ``queued`` and another worker sends it; killed while holding an
   incident lock, its transaction rolls back and the incident is still due.
4. Killed between the claim and recording the answer, the page is *in doubt*: Twilio
   may or may not have it. It is reconciled, not blindly resent: every page carries its
   key in its status-callback URL, and Twilio reports a call as ``initiated`` and a text
   as ``sent`` within seconds, so the webhook attaches the SID to the page
   (``record_provider_sid``). Only a page still without a SID ``IN_DOUBT_AFTER`` after its
   claim (well past the 10-second request timeout) is treated like a request timeout:
   ``PageFailed(temporary)``, and the engine sends the next attempt. An emergency page
   is never dropped; it is duplicated only if Twilio accepted it and then stayed silent
   for that long.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from escalation.claims import MAX_ROUNDS, Claim, claim_next_page
from escalation.events import Event, PageFailed
from escalation.models import Page
from escalation.runner import Outcome, feed, lock_incident, on_sqlite, start
from voiceline.clock import Clock
from voiceline.db import Database
from voiceline.incidents.log import log_event
from voiceline.incidents.models import Incident
from voiceline.telephony import OutboundCall, Telephony, TelephonyError
from voiceline.urls import UrlFor

log = logging.getLogger(__name__)

IN_DOUBT_AFTER = timedelta(seconds=30)
RING_SECONDS = 30


@dataclass
class Paging:
    """What sending pages needs, for one process."""

    database: Database
    telephony: Telephony
    clock: Clock
    url_for: UrlFor
    executor: ThreadPoolExecutor | None = None
    _active: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def working(self) -> Iterator[None]:
        """Count a paging job in progress, so ``drain`` can wait for it."""
        with self._lock:
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1

    def later(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn`` after the current request (in the background), or now without a pool."""
        if self.executor is None:
            fn(*args)
            return
        with self._lock:
            self._active += 1  # counted from now, not from when a thread picks it up
        self.executor.submit(self._run_counted, fn, *args)

    def _run_counted(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run a background job, logging instead of losing its exception."""
        try:
            fn(*args)
        except Exception:
            log.exception("background paging job failed; the worker will retry what is due")
        finally:
            with self._lock:
                self._active -= 1

    @property
    def is_idle(self) -> bool:
        """Return True when no paging job of this process is running or waiting."""
        with self._lock:
            return self._active == 0

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until no paging job is running or waiting; return True if that happened."""
        deadline = time.monotonic() + timeout
        while not self.is_idle:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True


def begin(paging: Paging, incident_id: int) -> None:
    """Start paging a committed incident now and send its first pages."""
    with paging.working():
        with paging.database.session() as session:
            incident = lock_incident(session, incident_id)
            if incident is None:
                return
            outcome = start(session, incident, paging.clock.now())
        deliver(paging, outcome)


def handle(paging: Paging, incident_id: int, event: Event, *, send_now: bool = True) -> Outcome:
    """Feed an event to an incident and send what it causes (in the background if set)."""
    with paging.database.session() as session:
        incident = lock_incident(session, incident_id)
        if incident is None:
            return Outcome(incident_id)
        outcome = feed(session, incident, event, paging.clock.now())
    if send_now:
        deliver(paging, outcome)
    else:
        paging.later(deliver, paging, outcome)
    return outcome


def deliver(paging: Paging, outcome: Outcome) -> None:
    """Hang up what must stop ringing, then send the incident's due pages."""
    for sid in outcome.hang_up:
        hang_up(paging, sid)
    send_due_pages(paging, outcome.incident_id)


def hang_up(paging: Paging, sid: str) -> None:
    """Hang up a page call that is still ringing; if that fails, a late answer hears it is taken."""
    try:
        paging.telephony.cancel_call(sid)
    except TelephonyError as exc:
        log.warning("could not hang up page call %s: %s", sid, exc)


def send_due_pages(paging: Paging, incident_id: int | None = None) -> int:
    """Send every queued page that is due (of one incident, or all); return how many."""
    sent = 0
    for _ in range(MAX_ROUNDS):
        claim = claim_next_page(paging.database, paging.clock, incident_id)
        if claim is None:
            break
        sent += _send_claimed(paging, claim)
    return sent


def _send_claimed(paging: Paging, claim: Claim) -> int:
    """Send one claimed page (or bundle) and record Twilio's answer; return 1 if it went."""
    page_id, incident_id, key, to = claim.page_id, claim.incident_id, claim.key, claim.to
    channel, body = claim.channel, claim.body
    url = paging.url_for
    status_url = url("twilio.page_status", incident_id=incident_id, page_key=key)
    try:
        if channel == "sms":
            result = paging.telephony.send_sms(to, body, status_callback=status_url)
        else:
            result = paging.telephony.place_call(
                OutboundCall(
                    to=to,
                    url=url("twilio.page_call", incident_id=incident_id, page_key=key),
                    status_callback=status_url,
                    machine_detection=True,
                    amd_callback=url("twilio.page_amd", incident_id=incident_id, page_key=key),
                    timeout_seconds=RING_SECONDS,
                )
            )
    except TelephonyError as exc:
        for rider_id, _, _ in claim.riders:
            _record_failure(paging, rider_id, exc)
        _record_failure(paging, page_id, exc)
        return 0
    now = paging.clock.now()
    covered = [incident_id, *(rider[1] for rider in claim.riders)]
    bundle: dict[str, Any] = {"bundle": covered} if claim.riders else {}
    rows = ((page_id, incident_id, key), *claim.riders)
    with paging.database.session() as session:
        # The incidents first, in id order, as an escalation step takes them: one being
        # advanced meanwhile makes this wait, instead of deadlocking with it over a page
        # row (its step updates the page, our event row needs its incident).
        locked = _lock_incidents(session, sorted({row[1] for row in rows}))
        pages = {
            page.id: page
            for page in session.scalars(select(Page).where(Page.id.in_([row[0] for row in rows])))
        }
        for row_id, row_incident, row_key in rows:
            page, incident = pages[row_id], locked[row_incident]
            # Sent when Twilio took it, not when it was claimed: the phone's rate runs
            # from here (``bundles.hold_for_rate``).
            page.sent_at = now
            if row_id == page_id:
                record_provider_sid(page, result.sid, now)
            else:
                # The SID is the lead's (it is unique per row); the log names the bundle.
                page.status, page.updated_at = "accepted", now
            log_event(
                session,
                incident,
                "page_sent",
                now,
                key=row_key,
                channel=channel,
                to=to,
                sid=result.sid,
                **bundle,
            )
    return 1


def _lock_incidents(session: Session, ids: list[int]) -> dict[int, Incident]:
    """Lock the incidents in id order, as ``runner.lock_incident`` would one by one."""
    query = select(Incident).where(Incident.id.in_(ids))
    if on_sqlite(session):
        # No row locks: writing first takes the database's write lock (see lock_incident).
        session.execute(update(Incident).where(Incident.id.in_(ids)).values(id=Incident.id))
    else:
        query = query.order_by(Incident.id).with_for_update()
    return {i.id: i for i in session.scalars(query.execution_options(populate_existing=True))}


def record_provider_sid(page: Page, sid: str, now: datetime) -> None:
    """Attach Twilio's SID to a page once; a callback may have done it first."""
    if page.provider_sid is None:
        page.provider_sid = sid
    if page.status in ("sending", "lost"):
        page.status = "accepted"
    page.updated_at = now


def _record_failure(paging: Paging, page_id: int, exc: TelephonyError) -> None:
    """Record a refused page and tell the engine, which retries or falls back."""
    # The adapter classified it (Twilio's errors through ``voiceline.twilio_errors``); only
    # it knows a failure that never reached Twilio, such as no caller ID, is permanent.
    temporary = exc.is_temporary
    now = paging.clock.now()
    with paging.database.session() as session:
        page = session.get(Page, page_id)
        assert page is not None
        page.status, page.error_code, page.updated_at = "error", exc.code, now
        key, incident_id = page.page_key, page.incident_id
        incident = session.get(Incident, incident_id)
        assert incident is not None
        log_event(
            session,
            incident,
            "page_send_failed",
            now,
            key=key,
            code=exc.code,
            http_status=exc.status,
            temporary=temporary,
            detail=str(exc)[:300],
        )
    handle(paging, incident_id, PageFailed(key, exc.code, temporary, str(exc)[:300]))
