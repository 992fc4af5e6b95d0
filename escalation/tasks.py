"""The worker's half of paging: a one-second tick and a job at the exact next due time.

Every second ``run_due`` does what is due (handed-over incidents nobody started, step
timers, retries, throttled pages, pages in doubt); then an APScheduler ``date`` job is
armed for the next due time when it falls before the next tick but one, so an
escalation fires within milliseconds of its time rather than up to a second late.
Timers live in the database (``Incident.next_due_at``, queued ``Page.sent_at``), so a
restarted worker finds overdue work on its first tick and does it once.

Importing this module registers the task with ``voiceline.worker``.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from escalation.dispatch import Paging
from escalation.due import next_wake, run_due
from escalation.wiring import EXTENSION
from voiceline.urls import url_builder
from voiceline.worker import Task, Worker, register_tasks

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0
_DUE_JOB = "escalation-due"


def worker_paging(worker: Worker) -> Paging:
    """Return the worker's Paging, built once: the app gives the callback URLs."""
    paging = worker.extensions.get(EXTENSION)
    if paging is None:
        from voiceline.app import create_app, get_telephony

        app = create_app(worker.settings, clock=worker.clock)
        paging = Paging(
            database=worker.database,
            telephony=get_telephony(app),
            clock=worker.clock,
            url_for=url_builder(app),
        )
        worker.extensions[EXTENSION] = paging
    assert isinstance(paging, Paging)
    return paging


def tick(worker: Worker) -> None:
    """Run what is due, then arm a one-off job at the exact next due time."""
    paging = worker_paging(worker)
    run_due(paging)
    scheduler: Any = worker.extensions.get("scheduler")
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
                "args": [worker],
                # One job per due time: a new time must not replace (and so skip behind)
                # a run that is still going.
                "id": f"{_DUE_JOB}@{due.isoformat()}",
                "replace_existing": True,
                "misfire_grace_time": None,
            },
            name="escalation-arm",
            daemon=True,
        ).start()


def _run_at_due_time(worker: Worker) -> None:
    """Run what is due now (the date job)."""
    try:
        run_due(worker_paging(worker))
    except Exception:
        log.exception("escalation run at the due time failed; the next tick retries")


def worker_tasks(worker: Worker) -> list[Task]:
    """Return the escalation's periodic task, ready to run on the worker's first tick."""
    worker_paging(worker)  # build it now, so overdue work after a restart is not kept waiting
    return [Task("escalation", TICK_SECONDS, tick)]


register_tasks(worker_tasks)
