"""The worker's half of paging: a one-second tick, a job at the exact next due time, and
a sweep for emergencies nobody handed over (``escalation.sweep``, every two seconds).

Every second ``run_due`` does what is due (handed-over incidents nobody started, step
timers, retries, throttled pages, pages in doubt); then an APScheduler ``date`` job is
armed for the next due time when it falls before the next tick but one, so an
escalation fires within milliseconds of its time rather than up to a second late.
Timers live in the database (``Incident.next_due_at``, queued ``Page.sent_at``), so a
restarted worker finds overdue work on its first tick and does it once.

The worker (``voiceline.worker``) asks ``worker_tasks`` for them; this module knows
nothing of the worker, only the services every process has.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from escalation.alarm_points import check_twilio
from escalation.dispatch import Paging
from escalation.due import next_wake, run_due
from escalation.page_reports import REPLAY_SECONDS, page_spool, replay_page_reports
from escalation.sweep import SWEEP_SECONDS, sweep_unpaged
from voiceline import alarms
from voiceline.extensions import Services
from voiceline.line.spool import Spool

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0
TWILIO_CHECK_SECONDS = 10.0
_DUE_JOB = "escalation-due"


def worker_paging(services: Services) -> Paging:
    """Return a Paging for the worker: the same services as the web app, no Flask app."""
    alarms.install(services)  # the caller-ID fallback and alarm email, as in the web app
    return Paging(
        database=services.database,
        telephony=services.telephony,
        clock=services.clock,
        url_for=services.callback_url,
    )


def tick(paging: Paging, scheduler: Any | None) -> None:
    """Run what is due, then arm a one-off job at the exact next due time."""
    run_due(paging)
    if scheduler is None:
        return
    due = next_wake(paging)
    now = paging.clock.now()
    # Within the next tick the interval job is late by up to a second; a date job is not.
    # Work already due is being done by another run (or the next tick picks it up).
    if due is not None and now < due <= now + timedelta(seconds=TICK_SECONDS * 2):
        # add_job takes the job-store lock that shutdown() holds while it waits for running
        # jobs, so arming from this job's thread would hang a stopping worker: use another.
        threading.Thread(
            target=scheduler.add_job,
            args=(_run_at_due_time, "date"),
            kwargs={
                "run_date": due,
                "args": [paging],
                # One job per due time: a new time must not replace (and so skip behind)
                # a run that is still going.
                "id": f"{_DUE_JOB}@{due.isoformat()}",
                "replace_existing": True,
                "misfire_grace_time": None,
            },
            name="escalation-arm",
            daemon=True,
        ).start()


def _run_at_due_time(paging: Paging) -> None:
    """Run what is due now (the date job)."""
    try:
        run_due(paging)
    except Exception:
        log.exception("escalation run at the due time failed; the next tick retries")


def sweep(paging: Paging) -> None:
    """Hand over emergencies that were opened but never handed to paging, and start them."""
    try:
        if sweep_unpaged(paging.database, paging.clock.now()):
            run_due(paging)  # now, not at the next tick: they are late already
    except Exception:
        log.exception("the sweep for unpaged emergencies failed; it runs again shortly")


def worker_tasks(
    services: Services, scheduler: Any | None
) -> list[tuple[str, float, Callable[[], None]]]:
    """Return the escalation's periodic tasks as (name, seconds, run)."""
    paging = worker_paging(services)  # built now: overdue work after a restart is not kept waiting
    reports = page_spool(services.settings.spool_dir)
    return [
        ("escalation", TICK_SECONDS, lambda: tick(paging, scheduler)),
        ("unpaged-sweep", SWEEP_SECONDS, lambda: sweep(paging)),
        ("twilio-alarm", TWILIO_CHECK_SECONDS, lambda: check_twilio_now(paging)),
        ("page-reports", REPLAY_SECONDS, lambda: _replay_reports(paging, reports)),
    ]


def check_twilio_now(paging: Paging) -> None:
    """Raise (or end) the alarm that Twilio has accepted no page for a minute."""
    try:
        with paging.database.session() as session:
            check_twilio(session, paging.clock.now())
    except Exception:
        log.exception("the Twilio alarm check failed; the next run retries")


def _replay_reports(paging: Paging, spool: Spool) -> None:
    """Replay page reports kept during an outage; a database still away waits a round."""
    try:
        replay_page_reports(paging, spool)
    except Exception:
        log.warning("page report replay failed; will retry", exc_info=True)
