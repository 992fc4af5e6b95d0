"""Timers that keep their meaning when the wall clock steps (NTP, a resumed VM, an operator).

Every escalation timer is a wall-clock instant in the database (``Incident.next_due_at``,
a queued page's ``sent_at``, a claimed page's ``updated_at`` for the in-doubt check),
written by whichever process armed it. When the host's wall clock steps by ``d``, a
timer armed before the step now means ``d`` earlier (or later) in real time: a step
forward fires every waiting step at once, a step back holds them until the clock has
caught up again, minutes late. Timers armed after the step are right as they are.

``StepWatch`` notices a step the way the kernel shows one: the wall clock minus the
monotonic clock (which no step moves) changes. Before the worker looks for due work it
asks the watch; on a step it moves every pending timer by the same ``d`` in one
transaction, so each keeps its real-time distance. Workers on one host see the same
step: a row in ``worker_leases`` named after the host holds the offset last applied,
and a worker finding it already moved there leaves the timers alone. A worker starting
up records the offset as it finds it and moves nothing (monotonic time restarts at
boot; what it says about an earlier process's clock means nothing).

A timer armed by the web process after the step but before the watch looked (at most
one worker tick) was read from the new clock already and must stay: a timer armed
within that span, read from the new clock, is left alone (a step timer was armed its
delay before it is due; a hand-over, a retry or a page row when it was last written).
After a step back, a timer armed the length of the step before it falls in the same
span and is left alone too: the one case the watch gets wrong, by the step.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from escalation.models import Page
from escalation.runner import lock_incident
from escalation.state import EscalationState, as_utc, state_from_dict, state_to_dict
from voiceline.clock import Clock
from voiceline.db import Database
from voiceline.incidents.models import Incident
from voiceline.lease import WorkerLease

log = logging.getLogger(__name__)

TOLERANCE_SECONDS = 1.0  # smaller changes are slewing or scheduling noise, not a step


@dataclass
class StepWatch:
    """Watch one process's wall clock against its monotonic clock; move timers on a step."""

    database: Database
    clock: Clock
    monotonic: Callable[[], float] = time.monotonic
    host: str = field(default_factory=socket.gethostname)
    _offset: float | None = None
    _checked_at: float = 0.0  # the monotonic time of the last check
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def _name(self) -> str:
        return f"clock@{self.host}"[:64]

    def check(self) -> float:
        """Move pending timers by a step seen since the last check; return the step."""
        with self._lock:
            return self._check()

    def _check(self) -> float:
        mono = self.monotonic()
        now = self.clock.now()
        offset = now.timestamp() - mono
        since, self._checked_at = self._checked_at, mono
        if self._offset is None:
            self._record(offset)
            self._offset = offset
            return 0.0
        step = offset - self._offset
        if abs(step) < TOLERANCE_SECONDS:
            self._offset = offset  # follow a slewing clock without calling it a step
            return 0.0
        # What the web process armed since the step (at most since the last check) is
        # read from the new clock already; a little margin for a clock read mid-write.
        fresh = (now - timedelta(seconds=mono - since + TOLERANCE_SECONDS), now)
        applied = self._apply(step, offset, fresh)
        self._offset = offset
        return applied

    def _record(self, offset: float) -> None:
        try:
            with self.database.session() as session:
                self._mark(session, offset)
        except Exception:
            log.warning("could not record this host's clock offset", exc_info=True)

    def _mark(self, session: Session, offset: float) -> None:
        row = session.get(WorkerLease, self._name, with_for_update=True)
        if row is None:
            row = WorkerLease(name=self._name)
            session.add(row)
        row.holder = f"{offset:.3f}"
        row.expires_at = self.clock.now()

    def _apply(self, step: float, offset: float, fresh: tuple[datetime, datetime]) -> float:
        with self.database.session() as session:
            row = session.get(WorkerLease, self._name, with_for_update=True)
            if row is not None and _near(row.holder, offset):
                log.info("wall clock stepped %+.1f s; another worker moved the timers", step)
                return 0.0
            moved = shift_timers(session, timedelta(seconds=step), fresh)
            self._mark(session, offset)
        log.warning("wall clock stepped %+.1f s: moved %d pending timers with it", step, moved)
        return step


def _near(recorded: str, offset: float) -> bool:
    try:
        return abs(float(recorded) - offset) < TOLERANCE_SECONDS
    except ValueError:
        return False


def shift_timers(
    session: Session, delta: timedelta, fresh: tuple[datetime, datetime] | None = None
) -> int:
    """Move every pending escalation timer by ``delta``; return how many moved.

    ``fresh`` is the span, read from the new clock, since the step: a timer whose
    incident (or page) was last touched within it was armed from the new clock already
    and stays as it is.
    """
    moved = 0
    for incident_id, due in _armed_incidents(session):
        incident = lock_incident(session, incident_id)
        if incident is None or incident.next_due_at != due:
            continue  # re-armed meanwhile, from the new clock
        if incident.escalation_state is None:  # handed over, not started: due when armed
            if not _is_fresh(due, fresh):
                incident.next_due_at = due + delta
                moved += 1
            continue
        state = state_from_dict(incident.escalation_state)
        shifted = _shifted(state, delta, fresh)
        if shifted != state:
            incident.escalation_state = state_to_dict(shifted)
            incident.next_due_at = shifted.wake_at
            moved += 1
    pages = cast(Table, Page.__table__)
    for column, status, claimed in (("sent_at", "queued", False), ("updated_at", "sending", True)):
        query = select(pages.c.id, pages.c[column], pages.c.updated_at).where(
            pages.c.status == status, pages.c[column].is_not(None)
        )
        if claimed:
            query = query.where(pages.c.provider_sid.is_(None))
        rows = [
            (i, at) for i, at, touched in session.execute(query) if not _is_fresh(touched, fresh)
        ]
        if not rows:
            continue
        session.execute(
            pages.update()
            # Only a timer nobody re-armed meanwhile: a new one was read from the new clock.
            .where(pages.c.id == bindparam("row_id"), pages.c[column] == bindparam("was"))
            .values({column: bindparam("moved_to")}),
            [{"row_id": row_id, "was": at, "moved_to": at + delta} for row_id, at in rows],
        )
        moved += len(rows)
    return moved


def _armed_incidents(session: Session) -> list[tuple[int, datetime]]:
    """Return (id, due) of every incident with a timer."""
    rows = session.execute(
        select(Incident.id, Incident.next_due_at)
        .where(Incident.next_due_at.is_not(None))
        .order_by(Incident.id)
    )
    return [(i, due) for i, due in rows if due is not None]


def _is_fresh(touched: datetime | None, fresh: tuple[datetime, datetime] | None) -> bool:
    if fresh is None or touched is None:
        return False
    since, until = fresh
    return since <= as_utc(touched) <= until


def _shifted(
    state: EscalationState, delta: timedelta, fresh: tuple[datetime, datetime] | None
) -> EscalationState:
    """Return the state with its step and retry timers armed before the step moved.

    A step timer was armed when its step began, its delay before it is due; a retry is
    due seconds after its failure, so its due time stands for when it was armed.
    """
    pages = tuple(
        replace(page, retry_at=page.retry_at + delta)
        if page.retry_at is not None and not _is_fresh(page.retry_at, fresh)
        else page
        for page in state.pages
    )
    due = state.step_due_at
    steps = state.policy.steps
    armed = due - steps[state.step].delay if due and 0 <= state.step < len(steps) else due
    if due is not None and not _is_fresh(armed, fresh):
        due = due + delta
    return replace(state, step_due_at=due, pages=pages)
