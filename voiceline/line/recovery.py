"""Replay what the spool kept while the database was unreachable.

Each entry goes through the line's idempotent services in one transaction, so what a
caller said is stored once however often it is replayed. Before that, a value no call
can have or no column can hold is dropped, and the drop is noted in the incident's log
(``spooled_values_dropped``): the caller's message still gets in. A duplicate stored
meanwhile by a live request (an IntegrityError on the call's CallSid) is merged by
applying the entry again: the services then find that row and add to it. What still
fails is parked (``voiceline.line.spool``) and raised to the admins
(``voiceline.line.parked``).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from voiceline import twilio_forms as forms
from voiceline.clock import Clock
from voiceline.db import Database
from voiceline.incidents.log import log_event
from voiceline.incidents.models import Incident, Recording
from voiceline.line import messages, missed_calls
from voiceline.line.models import Call
from voiceline.line.parked import sync_parked_notices
from voiceline.line.spool import Spool

log = logging.getLogger(__name__)

MAX_CALL_SECONDS = 4 * 60 * 60  # Twilio ends every call after four hours
MERGE_ATTEMPTS = 3
SHOWN_VALUE = 40  # characters of a dropped value kept in the note

# The Twilio parameters the line stores, and what fits: whole seconds within a call's
# length, and text within its column.
SECONDS_FIELDS = (forms.RECORDING_DURATION,)
TEXT_FIELDS: dict[str, int | None] = {
    name: getattr(column.type, "length", None)
    for name, column in (
        (forms.FROM, Call.__table__.c.from_number),
        (forms.TO, Call.__table__.c.to_number),
        (forms.CALL_STATUS, Call.__table__.c.status),
        (forms.RECORDING_URL, Recording.__table__.c.url),
    )
}


def fit_form(form: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Return the form without values that cannot be stored, and those values by name."""
    kept: dict[str, str] = {}
    dropped: dict[str, str] = {}
    for name, raw in form.items():
        value = str(raw)
        if _fits(name, value):
            kept[name] = value
        else:
            dropped[name] = _shown(value)
    return kept, dropped


def _fits(name: str, value: str) -> bool:
    if name in SECONDS_FIELDS:
        return _is_seconds_of_a_call(value)
    if name in TEXT_FIELDS:
        length = TEXT_FIELDS[name]
        return length is None or len(value) <= length
    return True


def _is_seconds_of_a_call(value: str) -> bool:
    text = value.strip()
    # the length first: int() of thousands of digits is slow, and refused past 4300
    return text.isdecimal() and len(text) <= 6 and 0 <= int(text) <= MAX_CALL_SECONDS


def _shown(value: str) -> str:
    return value if len(value) <= SHOWN_VALUE else value[: SHOWN_VALUE - 1] + "…"


def replay_entry(database: Database, entry: dict[str, Any], now: datetime) -> list[int]:
    """Apply one spooled entry; merge with a row stored meanwhile; return incidents to page."""
    form, dropped = fit_form(dict(entry.get("form") or {}))
    attempt = 1
    while True:
        try:
            with database.session() as session:
                to_page = _apply(session, entry, form, now)
                if dropped:
                    _note_dropped(session, entry, form, dropped, now)
                return to_page
        except IntegrityError:
            if attempt == MERGE_ATTEMPTS:
                raise
            attempt += 1
            # A live request stored this call (or its message) after we looked: apply
            # the entry again, and the idempotent services add to that row.
            log.info(
                "spooled %s of call %s met a row stored meanwhile; merging",
                _name(entry),
                form.get(forms.CALL_SID),
            )


def _apply(
    session: Session, entry: dict[str, Any], form: dict[str, str], now: datetime
) -> list[int]:
    at = datetime.fromisoformat(entry["at"]) if entry.get("at") else now
    priority = str(entry.get("priority") or "fallback")
    incident_id = _incident_id(entry)
    kind = entry.get("kind")
    if kind == "call":
        # The caller got the fallback recorder; if no message ever arrives, the call
        # itself must still leave a record someone will call back on.
        leg = forms.call_leg(form)
        _, to_page, _ = messages.take_message(session, leg, None, now, "fallback", None, at)
        return to_page
    if kind == "message":
        done = forms.recording_done(form)
        _, to_page, _ = messages.take_message(
            session, done.call, done.recording, now, priority, incident_id, at
        )
        return to_page
    if kind == "recording":
        report = forms.recording_reported(form)
        return messages.recording_status(session, report, now, priority, incident_id)
    if kind == "call_status":
        return missed_calls.call_status(session, forms.call_status_changed(form), now)
    if kind == "transcription":
        messages.transcription(session, forms.transcription_done(form))
        return []
    log.warning("unknown spool entry kind %r ignored", kind)
    return []


def _name(entry: dict[str, Any]) -> str:
    return str(entry.get("kind") or "entry")


def _incident_id(entry: dict[str, Any]) -> int | None:
    incident = entry.get("incident")
    return int(incident) if incident is not None else None


def _note_dropped(
    session: Session,
    entry: dict[str, Any],
    form: dict[str, str],
    dropped: dict[str, str],
    now: datetime,
) -> None:
    """Write what was dropped into the log of the incident the entry fed."""
    incident = _incident_of(session, entry, form.get(forms.CALL_SID, ""))
    if incident is None:
        log.warning(
            "spooled %s of call %s: dropped values no column can hold: %s",
            _name(entry),
            form.get(forms.CALL_SID),
            dropped,
        )
        return
    log_event(
        session,
        incident,
        "spooled_values_dropped",
        now,
        entry=_name(entry),
        dropped=dropped,
        reason="out of range or too long to store; the rest of the entry was kept",
    )


def _incident_of(session: Session, entry: dict[str, Any], call_sid: str) -> Incident | None:
    incident_id = _incident_id(entry)
    if incident_id is None:
        call = session.scalars(select(Call).filter_by(call_sid=call_sid)).one_or_none()
        incident_id = call.incident_id if call is not None else None
    if incident_id is not None:
        return session.get(Incident, incident_id)
    return session.scalars(select(Incident).filter_by(call_sid=call_sid)).one_or_none()


def is_database_away(exc: Exception) -> bool:
    """Return True for failures that mean "try again later": the database is unreachable."""
    return isinstance(exc, OperationalError | InterfaceError | PoolTimeout)


def start_replaying(database: Database, spool: Spool, clock: Clock, every: float = 30) -> None:
    """Replay the spool from a daemon thread of this process every ``every`` seconds.

    The web process runs this too, so a spool on a disk only it can see is not stranded.
    """

    def loop() -> None:
        while True:
            time.sleep(every)
            try:
                replay_spool(database, spool, clock)
            except Exception:
                log.warning("spool replay failed; will retry in %ss", every, exc_info=True)

    threading.Thread(target=loop, name="spool-replay", daemon=True).start()


def replay_spool(database: Database, spool: Spool, clock: Clock) -> list[int]:
    """Replay every pending spool entry; raise the alarm for parked ones; return incidents to page."""
    to_page: list[int] = []

    def handle(entry: dict[str, Any]) -> None:
        to_page.extend(replay_entry(database, entry, clock.now()))

    count = spool.replay(handle, is_database_away)
    if count:
        log.warning("recovered %d spooled call event(s) into the database", count)
    with database.session() as session:
        sync_parked_notices(session, spool, clock.now())
    return to_page
