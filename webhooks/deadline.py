"""Answer Twilio within a deadline, whatever the database does.

Twilio waits 15 s and then plays "an application error has occurred" to the caller.
So each webhook of the line runs its work on a small thread pool and waits at most
``ANSWER_DEADLINE_SECONDS``; if the work fails or is still running then (a database
outage, a slow lock), the view answers with its fallback and keeps what is needed to
finish the job in the spool. Work that finishes late still commits: the services are
idempotent, so the replay finds it done.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from flask import Flask

from voiceline.line.spool import Spool

ANSWER_DEADLINE_SECONDS = 1.2

T = TypeVar("T")

_work = ThreadPoolExecutor(max_workers=16, thread_name_prefix="webhook")


def within_deadline(job: Callable[[], T]) -> T:
    """Return ``job()`` if it finishes in time; raise its error, or TimeoutError if late."""
    return _work.submit(job).result(timeout=ANSWER_DEADLINE_SECONDS)


def spool_of(app: Flask) -> Spool:
    """Return the app's spool for what callers left while the database was unreachable."""
    return Spool(app.config["VOICELINE"].spool_dir)
