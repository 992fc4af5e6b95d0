"""Replay what the spool kept while the database was unreachable."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from voiceline import twilio_forms as forms
from voiceline.clock import Clock
from voiceline.db import Database
from voiceline.line import messages, missed_calls
from voiceline.line.spool import Spool

log = logging.getLogger(__name__)


def replay_entry(database: Database, entry: dict[str, Any], now: datetime) -> list[int]:
    """Apply one spooled entry through the line's idempotent services."""
    form: dict[str, str] = dict(entry.get("form") or {})
    at = datetime.fromisoformat(entry["at"]) if entry.get("at") else now
    priority = str(entry.get("priority") or "fallback")
    incident = entry.get("incident")
    incident_id = int(incident) if incident is not None else None
    kind = entry.get("kind")
    with database.session() as session:
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
    """Replay every pending spool entry; return incidents now due for paging."""
    to_page: list[int] = []

    def handle(entry: dict[str, Any]) -> None:
        to_page.extend(replay_entry(database, entry, clock.now()))

    count = spool.replay(handle, is_database_away)
    if count:
        log.warning("recovered %d spooled call event(s) into the database", count)
    return to_page
