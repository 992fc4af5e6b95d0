"""Hand an emergency over to paging: one call, so the line works before paging exists.

The line marks the incident due (``next_due_at``) in the same transaction that opens it,
so the worker will start its escalation even if this process dies. After the commit it
calls the registered pagers at once, which is what gets the first page out in well under
a second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from voiceline.incidents.log import log_event
from voiceline.incidents.models import Incident

log = logging.getLogger(__name__)

Pager = Callable[[int], None]
CallbackListener = Callable[[int, str], None]


def mark_for_paging(session: Session, incident: Incident, now: datetime) -> None:
    """Record that ``incident`` must be paged, and make it due now."""
    incident.next_due_at = now
    log_event(session, incident, "handed_over_to_paging", now)


def register_pager(app: Flask, pager: Pager) -> None:
    """Call ``pager(incident_id)`` after each emergency is committed."""
    app.extensions.setdefault("voiceline.pagers", []).append(pager)


def hand_over(app: Flask, incident_ids: Iterable[int]) -> None:
    """Run the registered pagers for committed incidents; never raise into the caller."""
    pagers: list[Pager] = app.extensions.get("voiceline.pagers", [])
    for incident_id in incident_ids:
        if not pagers:
            log.warning("incident %s is due for paging; no pager in this process", incident_id)
        for pager in pagers:
            try:
                pager(incident_id)
            except Exception:
                log.exception("pager failed for incident %s; the worker will retry", incident_id)


def register_callback_listener(app: Flask, listener: CallbackListener) -> None:
    """Call ``listener(incident_id, actor)`` after a callback is recorded outside paging."""
    app.extensions.setdefault("voiceline.callback_listeners", []).append(listener)


def callback_recorded(app: Flask, incident_id: int, actor: str) -> None:
    """Tell paging a callback was recorded (e.g. on the SLA page), so it stops at once."""
    listeners: list[CallbackListener] = app.extensions.get("voiceline.callback_listeners", [])
    for listener in listeners:
        try:
            listener(incident_id, actor)
        except Exception:
            log.exception("callback listener failed for incident %s", incident_id)
