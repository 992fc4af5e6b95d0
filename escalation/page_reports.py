"""Page reports the database could not take in time: kept in the spool, replayed later.

A page's status callbacks (delivered, busy, a voicemail box, the caller answering the
bridge) drive the escalation, so one lost in a database outage could leave an analyst
paged for nothing or a caller's callback unrecorded. The page webhooks answer Twilio
within the caller's deadline whatever the database does (``webhooks.pages``); a report
they could not store is kept, as the raw verified form, by the same ``Spool`` the line
uses, in its own ``pages`` folder: the line's replay cannot know escalation's kinds and
must never take one of these. ``replay_page_reports`` feeds them back through the same
parser and the same services once the database answers; the services deduplicate on
``WebhookReceipt``, so a report that was stored late after all is applied once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from escalation import callbacks, voice_pages
from escalation.dispatch import Paging
from voiceline import twilio_forms as forms
from voiceline.line.recovery import is_database_away
from voiceline.line.spool import Spool

log = logging.getLogger(__name__)

FOLDER = "pages"
REPLAY_SECONDS = 15


def _page_status(paging: Paging, incident_id: int, key: str, form: forms.Form) -> None:
    callbacks.page_status(paging, incident_id, key, forms.page_status(form))


def _page_amd(paging: Paging, incident_id: int, key: str, form: forms.Form) -> None:
    callbacks.amd_result(paging, incident_id, key, forms.page_answered(form))


def _bridge_status(paging: Paging, incident_id: int, key: str, form: forms.Form) -> None:
    voice_pages.bridge_status(paging, incident_id, key, forms.call_progress(form))


# kind -> the service that applies it; the webhooks spool under these names.
APPLY: dict[str, Callable[[Paging, int, str, forms.Form], None]] = {
    "page_status": _page_status,
    "page_amd": _page_amd,
    "bridge_status": _bridge_status,
}


def page_spool(spool_dir: str | Path) -> Spool:
    """Return the spool of page reports under the line's spool directory."""
    return Spool(Path(spool_dir) / FOLDER)


def keep_report(
    spool: Spool, kind: str, incident_id: int, key: str, form: Mapping[str, str], at: datetime
) -> None:
    """Store a report the database could not take, exactly as Twilio posted it."""
    if kind not in APPLY:
        raise ValueError(f"unknown page report kind {kind!r}")
    spool.write(kind, incident=incident_id, key=key, form=dict(form), at=at.isoformat())


def apply_report(paging: Paging, entry: dict[str, Any]) -> None:
    """Apply one stored report through the service its webhook calls."""
    apply = APPLY.get(str(entry.get("kind")))
    if apply is None:
        raise ValueError(f"unknown page report kind {entry.get('kind')!r}")
    form = {str(k): str(v) for k, v in dict(entry.get("form") or {}).items()}
    apply(paging, int(entry["incident"]), str(entry["key"]), form)


def replay_page_reports(paging: Paging, spool: Spool) -> int:
    """Apply every stored page report, oldest first; return how many were applied.

    Stops at the first one that fails because the database is still away.
    """
    count = spool.replay(lambda entry: apply_report(paging, entry), is_database_away)
    if count:
        log.warning("recovered %d spooled page report(s) into the database", count)
    return count


def start_replaying_page_reports(paging: Paging, spool: Spool, every: float = 30) -> None:
    """Replay page reports from a daemon thread of this process every ``every`` seconds."""

    def loop() -> None:
        while True:
            time.sleep(every)
            try:
                replay_page_reports(paging, spool)
            except Exception:
                log.warning("page report replay failed; will retry in %ss", every, exc_info=True)

    threading.Thread(target=loop, name="page-report-replay", daemon=True).start()
