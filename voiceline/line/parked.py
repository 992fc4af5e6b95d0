"""Parked spool entries: what a caller said that the database has not taken yet.

While an entry is parked, an unresolved ``AdminNotice`` of kind ``spool_parked`` names
it (the incidents page shows it, and health checks count it); ``sync_parked_notices``
keeps one notice per parked entry, from every replay round, so a notice that could not
be written once is written the next time. Retrying the entry from ``/admin/spool``
(``voiceline.line.views``) or setting it aside resolves its notice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from voiceline import twilio_forms as forms
from voiceline.admin.models import AdminNotice
from voiceline.line.spool import Spool

NOTICE_KIND = "spool_parked"
MAX_MESSAGE = 500


@dataclass(frozen=True)
class ParkedEntry:
    """One parked entry as the admin page shows it."""

    name: str
    kind: str
    call_sid: str
    caller: str
    priority: str
    spooled_at: str
    reason: str

    def notice(self) -> str:
        """Return the admin notice's text for this entry."""
        text = (
            f"A caller's {self.kind} could not be stored (spool entry {self.name}, call "
            f"{self.call_sid or 'unknown'} from {self.caller or 'an unknown number'}): "
            f"{self.reason}. Retry it at /admin/spool."
        )
        return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def parked_entries(spool: Spool) -> list[ParkedEntry]:
    """Return the spool's parked entries, oldest first."""
    return [_read(spool, path) for path in spool.parked_files()]


def _read(spool: Spool, path: Path) -> ParkedEntry:
    try:
        entry = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        entry = None  # unreadable: listed all the same, with what the file name tells
    if not isinstance(entry, dict):
        entry = {}
    form = entry.get("form")
    if not isinstance(form, dict):
        form = {}
    return ParkedEntry(
        name=path.name,
        kind=str(entry.get("kind") or "entry"),
        call_sid=str(form.get(forms.CALL_SID) or ""),
        caller=str(form.get(forms.FROM) or ""),
        priority=str(entry.get("priority") or ""),
        spooled_at=str(entry.get("spooled_at") or ""),
        reason=spool.reason_parked(path),
    )


def sync_parked_notices(session: Session, spool: Spool, now: datetime) -> int:
    """Keep one unresolved notice per parked entry; resolve the rest; return how many are parked."""
    parked = {entry.name: entry for entry in parked_entries(spool)}
    open_notices = session.scalars(
        select(AdminNotice).where(
            AdminNotice.kind == NOTICE_KIND, AdminNotice.resolved_at.is_(None)
        )
    ).all()
    noticed: set[str] = set()
    for notice in open_notices:
        name = next((name for name in parked if name in notice.message), None)
        if name is None:
            notice.resolved_at = now  # replayed, retried or set aside since
        else:
            noticed.add(name)
    for name, entry in parked.items():
        if name not in noticed:
            session.add(AdminNotice(at=now, kind=NOTICE_KIND, message=entry.notice()))
    return len(parked)
