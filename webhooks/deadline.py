"""Answer Twilio within a deadline, whatever the database does.

Twilio waits 15 s and then plays "an application error has occurred" to whoever is on
the line, a caller in an emergency or an analyst being paged. So each webhook waits for
its work at most the app's deadline (1.2 s unless ``VOICELINE_ANSWER_DEADLINE_SECONDS``
says otherwise); if the work fails or is not done by then (a database outage, a slow
lock), the view answers with its fallback and keeps what is needed to finish the job in
the spool.

- The line's work is all database work: it runs on the request's own thread
  (``answer_in_time``), and the database gives up at the deadline
  (``voiceline.db_deadline``). The spool's replay does it later.
- The SMS and page webhooks' work can also call Twilio: it runs on a small thread pool
  (``within_deadline``), and work that finishes late still commits: the services are
  idempotent, so the replay finds it done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

from flask import Flask

from escalation.page_reports import page_spool
from voiceline.db_deadline import held_to
from voiceline.line.spool import Spool

T = TypeVar("T")

_work = ThreadPoolExecutor(max_workers=16, thread_name_prefix="webhook")
_late: set[Future[Any]] = set()
_late_lock = threading.Lock()


def within_deadline(job: Callable[[], T], app: Flask) -> T:
    """Return ``job()`` if it finishes in time; raise its error, or TimeoutError if late."""
    future = _work.submit(job)
    try:
        return future.result(timeout=app.config["VOICELINE"].answer_deadline_seconds)
    except TimeoutError:
        with _late_lock:
            _late.add(future)
        future.add_done_callback(_forget)
        raise


def answer_in_time(job: Callable[[], T], app: Flask) -> T:
    """Run ``job``, which only does database work, here, held to the app's deadline.

    The database gives up at the deadline (``voiceline.db_deadline``): ``job`` then fails,
    and TimeoutError says so. For the line's own work, which is all database work; a job
    that also calls out (Twilio, for a page) runs on the pool (``within_deadline``).
    """
    with held_to(app.config["VOICELINE"].answer_deadline_seconds) as deadline:
        try:
            return job()
        except Exception as exc:
            if deadline.expired:
                raise TimeoutError(f"the database did not answer in time: {exc}") from exc
            raise


def _forget(future: Future[Any]) -> None:
    with _late_lock:
        _late.discard(future)


def wait_for_late_work(timeout: float) -> bool:
    """Wait until work that missed its deadline has ended; return True if it all has.

    For a clean stop, and for tests that must not tear a database down under it.
    """
    with _late_lock:
        running = list(_late)
    return not wait(running, timeout=timeout).not_done


def spool_of(app: Flask) -> Spool:
    """Return the app's spool for what callers left while the database was unreachable."""
    return Spool(app.config["VOICELINE"].spool_dir)


def page_spool_of(app: Flask) -> Spool:
    """Return the app's spool for page reports that could not be stored in time."""
    return page_spool(app.config["VOICELINE"].spool_dir)
