"""The worker's half of paging: a tick that sleeps until the next due time (a second at
most), and a sweep for emergencies nobody handed over (``escalation.sweep``, every two
seconds).

Each tick first asks the step watch (``escalation.clock_steps``) whether the wall clock
stepped, and moves pending timers with it; then ``run_due`` does what is due
(handed-over incidents nobody started, step timers, retries, throttled pages, pages in
doubt) and the tick returns how long to sleep: until the next due time, at most
``TICK_SECONDS``. On PostgreSQL a tick handles due incidents on ``LANES`` threads side by
side (``escalation.due.run_due``). The worker sleeps on the monotonic clock (``voiceline.worker``), so a
step of the wall clock neither stalls the tick nor makes it think hours passed.
Timers live in the database (``Incident.next_due_at``, queued ``Page.sent_at``), so a
restarted worker finds overdue work on its first tick and does it once.

The worker asks ``worker_tasks`` for them; this module knows nothing of the worker,
only the services every process has.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from escalation.alarm_points import check_twilio
from escalation.clock_steps import StepWatch
from escalation.dispatch import Paging
from escalation.due import Lanes, next_wake, run_due
from escalation.page_reports import REPLAY_SECONDS, page_spool, replay_page_reports
from escalation.sweep import SWEEP_SECONDS, sweep_unpaged
from voiceline import alarms
from voiceline.clock import SystemClock
from voiceline.extensions import Services
from voiceline.line.spool import Spool

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0
LANES = 4  # threads handling due incidents side by side (PostgreSQL)
TWILIO_CHECK_SECONDS = 10.0


def worker_paging(services: Services) -> Paging:
    """Return a Paging for the worker: the same services as the web app, no Flask app."""
    alarms.install(services)  # the caller-ID fallback and alarm email, as in the web app
    return Paging(
        database=services.database,
        telephony=services.telephony,
        clock=services.clock,
        url_for=services.callback_url,
    )


def tick(paging: Paging, watch: StepWatch | None = None, lanes: Lanes | None = None) -> float:
    """Run what is due; return the seconds until the next tick should run."""
    if watch is not None:
        try:
            watch.check()
        except Exception:
            log.exception("could not move the timers after a clock step; the next tick retries")
    done = run_due(paging, lanes)
    due = next_wake(paging)
    if due is None:
        return TICK_SECONDS
    wait = (due - paging.clock.now()).total_seconds()
    if wait <= 0 and not done:
        # Due, yet nothing could be done: another worker holds it, or it fails each
        # time (logged). The usual tick, not a loop hammering the database.
        return TICK_SECONDS
    return min(TICK_SECONDS, max(0.0, wait))


def sweep(paging: Paging) -> None:
    """Hand over emergencies that were opened but never handed to paging, and start them."""
    try:
        if sweep_unpaged(paging.database, paging.clock.now()):
            run_due(paging)  # now, not at the next tick: they are late already
    except Exception:
        log.exception("the sweep for unpaged emergencies failed; it runs again shortly")


def worker_tasks(
    services: Services, monotonic: Callable[[], float] | None = None
) -> list[tuple[str, float, Callable[[], float | None]]]:
    """Return the escalation's periodic tasks as (name, seconds, run).

    ``run`` may return how many seconds to wait before it runs again (sooner than
    ``seconds``); ``monotonic`` is the clock the step watch trusts (``time.monotonic``).
    """
    paging = worker_paging(services)  # built now: overdue work after a restart is not kept waiting
    # A test's hand-moved clock is not a wall clock to watch unless the test says so.
    watched = monotonic is not None or isinstance(services.clock, SystemClock)
    watch = StepWatch(services.database, services.clock, monotonic or time.monotonic)
    reports = page_spool(services.settings.spool_dir)
    lanes = Lanes.of(LANES)
    return [
        ("escalation", TICK_SECONDS, lambda: tick(paging, watch if watched else None, lanes)),
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
