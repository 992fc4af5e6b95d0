"""The worker process: the periodic tasks that keep promises between requests.

Tasks: recover spooled calls once the database answers, sweep unfinished calls, beat the
heartbeat, and run the escalation's tasks (``escalation.tasks``) with the same services
as the web app. Each task runs on a thread of its own and sleeps on the monotonic clock
between runs (``threading.Event.wait``), never on the wall clock: when NTP steps the
wall clock forward or back, no task is stalled for the length of the step or run in a
burst of catch-up, and the escalation's tick moves its database timers with the step
(``escalation.clock_steps``). A task may ask to run again sooner (the tick sleeps only
until the next due time), and one slow task (a spool replay waiting on the database)
holds up no other. On SQLite only one worker may run: it holds an OS lock beside the
database file for its whole life (``voiceline.lease``), so a second worker exits 3 at
once, and a worker restarted after a crash runs at once. On PostgreSQL any number may
run; due work is claimed with row locks.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import holidays  # noqa: F401  (now, not at the first holiday a timer looks up)

from escalation.tasks import worker_tasks
from voiceline import schema  # noqa: F401  (every area's tables, so relationships resolve)
from voiceline.clock import Clock
from voiceline.config import Settings
from voiceline.db import Database
from voiceline.extensions import Services, build_services
from voiceline.lease import WorkerLease, WorkerRefused, hold_worker_lock
from voiceline.line.recovery import replay_spool
from voiceline.line.spool import Spool

log = logging.getLogger(__name__)

LEASE_SECONDS = 30
HEARTBEAT_SECONDS = 10
SPOOL_SECONDS = 15
SWEEP_SECONDS = 60


@dataclass
class Task:
    """A periodic task: ``run(worker)`` every ``seconds``, or sooner when it returns less."""

    name: str
    seconds: float
    run: Callable[[Worker], Any]

    def loop(self, worker: Worker, stop: threading.Event) -> None:
        """Run until ``stop`` is set, sleeping on the monotonic clock between runs."""
        while not stop.is_set():
            try:
                wait = self.run(worker)
            except Exception:
                log.exception("task %s failed; it runs again in %ss", self.name, self.seconds)
                wait = None
            if not isinstance(wait, int | float):
                wait = self.seconds
            stop.wait(min(self.seconds, max(0.0, float(wait))))


@dataclass
class Worker:
    """One worker process's state."""

    services: Services
    holder: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def database(self) -> Database:
        return self.services.database

    @property
    def clock(self) -> Clock:
        return self.services.clock

    def heartbeat(self) -> None:
        """Say this worker is alive for the next ``LEASE_SECONDS`` (information only)."""
        now = self.clock.now()
        try:
            with self.database.session() as session:
                lease = session.get(WorkerLease, "worker")
                if lease is None:
                    lease = WorkerLease(name="worker")
                    session.add(lease)
                lease.holder = self.holder
                lease.expires_at = now + timedelta(seconds=LEASE_SECONDS)
        except Exception:
            # Another worker's beat, a busy database: the next beat says it again.
            log.warning("heartbeat not recorded; next one in %ss", HEARTBEAT_SECONDS, exc_info=True)

    def forget_heartbeat(self) -> None:
        """Remove this worker's heartbeat on a clean stop."""
        try:
            with self.database.session() as session:
                lease = session.get(WorkerLease, "worker")
                if lease is not None and lease.holder == self.holder:
                    session.delete(lease)
        except Exception:
            log.warning("heartbeat not removed; it expires by itself", exc_info=True)

    def recover_spool(self) -> None:
        """Replay messages spooled while the database was unreachable."""
        try:
            replay_spool(self.database, Spool(self.settings.spool_dir, self.clock), self.clock)
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
        for name, seconds, run in worker_tasks(self.services):
            tasks.append(Task(name, seconds, _ignoring_worker(run)))
        return tasks


def _ignoring_worker(run: Callable[[], float | None]) -> Callable[[Worker], float | None]:
    def call(_worker: Worker) -> float | None:
        return run()

    return call


def run_worker(settings: Settings, stop: threading.Event | None = None) -> int:
    """Run the worker until SIGTERM/SIGINT (or ``stop``); return the exit status."""
    holder = f"{socket.gethostname()}:{os.getpid()}"
    try:
        lock = hold_worker_lock(settings.database_url, holder)
    except WorkerRefused as exc:
        log.error("%s", exc)
        return 3
    try:
        return _run(Worker(build_services(settings), holder=holder), stop)
    finally:
        if lock is not None:
            lock.release()


def _run(worker: Worker, stop: threading.Event | None) -> int:
    """Run the worker's tasks, each on its own thread, until stopped."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    tasks = worker.tasks()
    threads = [
        threading.Thread(target=task.loop, args=(worker, stop), name=task.name, daemon=True)
        for task in tasks
    ]
    for thread in threads:
        thread.start()
    log.info("worker %s started with %d tasks", worker.holder, len(tasks))
    try:
        stop.wait()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        worker.forget_heartbeat()
        worker.database.dispose()
        log.info("worker %s stopped", worker.holder)
    return 0
