"""The worker process: APScheduler wakes the jobs that keep promises between requests.

Jobs: recover spooled calls once the database answers, sweep unfinished calls, and
run the escalation's tasks (``escalation.tasks``) with the same services as the web app. On SQLite only one worker may
run: it holds a lease row and a second worker refuses to start. On PostgreSQL any
number may run; due work is claimed with row locks.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session

from escalation.tasks import worker_tasks
from voiceline import schema  # noqa: F401  (every area's tables, so relationships resolve)
from voiceline.clock import Clock
from voiceline.config import Settings
from voiceline.db import Database, is_sqlite
from voiceline.extensions import Services, build_services
from voiceline.lease import WorkerLease
from voiceline.line.recovery import replay_spool
from voiceline.line.spool import Spool

log = logging.getLogger(__name__)

LEASE_SECONDS = 30
HEARTBEAT_SECONDS = 10
SPOOL_SECONDS = 15
SWEEP_SECONDS = 60


class WorkerRefused(Exception):
    """Another worker already holds the single-worker lease (SQLite)."""


@dataclass
class Task:
    """A periodic job: ``run(worker)`` every ``seconds``."""

    name: str
    seconds: float
    run: Callable[[Worker], Any]


@dataclass
class Worker:
    """One worker process's state."""

    services: Services
    holder: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    scheduler: Any = None

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def database(self) -> Database:
        return self.services.database

    @property
    def clock(self) -> Clock:
        return self.services.clock

    def acquire_lease(self) -> None:
        """On SQLite, take the single-worker lease or refuse to start."""
        if not is_sqlite(self.database.engine):
            return
        now = self.clock.now()
        with self.database.session() as session:
            lease = session.get(WorkerLease, "worker")
            if lease is not None and lease.holder != self.holder and lease.expires_at > now:
                raise WorkerRefused(
                    f"another worker ({lease.holder}) is running on this SQLite database; "
                    "SQLite supports one worker. Stop it, or use PostgreSQL for several."
                )
            if lease is None:
                session.add(WorkerLease(name="worker", holder=self.holder, expires_at=now))
            self._extend(session, now)

    def _extend(self, session: Session, now: datetime) -> None:
        lease = session.get(WorkerLease, "worker")
        if lease is not None:
            lease.holder = self.holder
            lease.expires_at = now + timedelta(seconds=LEASE_SECONDS)

    def heartbeat(self) -> None:
        """Keep the SQLite lease alive."""
        if is_sqlite(self.database.engine):
            with self.database.session() as session:
                self._extend(session, self.clock.now())

    def release_lease(self) -> None:
        """Give the lease up on a clean stop."""
        if not is_sqlite(self.database.engine):
            return
        with self.database.session() as session:
            lease = session.get(WorkerLease, "worker")
            if lease is not None and lease.holder == self.holder:
                session.delete(lease)

    def recover_spool(self) -> None:
        """Replay messages spooled while the database was unreachable."""
        try:
            replay_spool(self.database, Spool(self.settings.spool_dir), self.clock)
        except Exception:
            log.exception("spool replay failed; will retry")

    def sweep_calls(self) -> None:
        """Log missed calls whose end was never reported."""
        from voiceline.line.missed_calls import sweep_unfinished_calls

        try:
            with self.database.session() as session:
                sweep_unfinished_calls(session, self.clock.now())
        except Exception:
            log.exception("missed-call sweep failed; will retry")

    def tasks(self) -> list[Task]:
        """Return every periodic task of this worker."""
        tasks = [
            Task("heartbeat", HEARTBEAT_SECONDS, lambda w: w.heartbeat()),
            Task("recover-spool", SPOOL_SECONDS, lambda w: w.recover_spool()),
            Task("sweep-calls", SWEEP_SECONDS, lambda w: w.sweep_calls()),
        ]
        for name, seconds, run in worker_tasks(self.services, self.scheduler):
            tasks.append(Task(name, seconds, _ignoring_worker(run)))
        return tasks


def _ignoring_worker(run: Callable[[], None]) -> Callable[[Worker], None]:
    def call(_worker: Worker) -> None:
        run()

    return call


def run_worker(settings: Settings, stop: threading.Event | None = None) -> int:
    """Run the worker until SIGTERM/SIGINT (or ``stop``); return the exit status."""
    worker = Worker(build_services(settings))
    try:
        worker.acquire_lease()
    except WorkerRefused as exc:
        log.error("%s", exc)
        return 3
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    scheduler = BackgroundScheduler(timezone="UTC")
    worker.scheduler = scheduler  # tasks may add one-off jobs at exact times
    tasks = worker.tasks()
    for task in tasks:
        scheduler.add_job(
            task.run,
            "interval",
            args=[worker],
            seconds=task.seconds,
            id=task.name,
            max_instances=1,
            coalesce=True,
            next_run_time=worker.clock.now(),
        )
    scheduler.start()
    log.info("worker %s started with %d tasks", worker.holder, len(tasks))
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
        worker.release_lease()
        worker.database.dispose()
        log.info("worker %s stopped", worker.holder)
    return 0
