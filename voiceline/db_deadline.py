"""Hold one thread's database work to a deadline, so a caller is answered in time.

Twilio waits 15 s for a webhook's answer, then plays an error to the caller. The line's
webhooks answer within a deadline of about a second whatever the database does, and do
their work on the request's own thread: handing it to another thread and waiting for it
cost a fifth of the line's throughput in thread switches. So the database itself is made
to give up at the deadline, on the thread that waits for it:

- a connection checked out under a deadline is watched by one thread per process, which
  at the deadline interrupts SQLite's statement (``Connection.interrupt``) or shuts the
  PostgreSQL connection's socket, so a query stuck on a dead or black-holed server
  returns an error at once (the pool then drops that connection);
- SQLite waits for another writer's lock at most until the deadline (its busy timeout,
  which an interrupt does not cut short), and the usual 15 s again once checked in;
- a new connection is opened on a helper thread and waited for until the deadline
  (libpq's own connect timeout is 2 s at least); one that arrives late is closed.

The work then fails with an error, and the webhook answers with its fallback, which
takes the message. Work that never touches the database is not interrupted: the line's
work is all database work. Nothing happens on a thread without a deadline.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

from voiceline.errors import VoicelineError

log = logging.getLogger(__name__)

# The watchdog looks this often, and acts this much before a deadline, so that the work
# has failed by the deadline itself.
POLL_SECONDS = 0.05


class DeadlinePassed(VoicelineError, TimeoutError):
    """The database work of a thread ran out of time."""


class Deadline:
    """One thread's deadline and the connections it has checked out meanwhile."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self._connections: list[Any] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        """Return the seconds left before the watchdog acts."""
        return self.at - POLL_SECONDS - time.monotonic()

    def attach(self, dbapi_connection: Any) -> None:
        with self._lock:
            if self.expired:
                raise DeadlinePassed("the answer's deadline passed before the database answered")
            self._connections.append(dbapi_connection)

    def detach(self, dbapi_connection: Any) -> None:
        """Stop watching a connection."""
        with self._lock:
            if dbapi_connection in self._connections:
                self._connections.remove(dbapi_connection)

    def expire(self) -> None:
        """Make every watched connection give up now."""
        with self._lock:  # a connection being checked in waits: it is not handed on meanwhile
            self.expired = True
            for dbapi_connection in self._connections:
                try:
                    _interrupt(dbapi_connection)
                except Exception:
                    log.exception("could not interrupt a database connection at the deadline")


def _interrupt(dbapi_connection: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.interrupt()
        return
    pgconn = getattr(dbapi_connection, "pgconn", None)  # psycopg
    if pgconn is None or pgconn.socket < 0:
        return
    # Shut down the socket, not close it: the thread blocked on it wakes with an error,
    # and psycopg still owns the descriptor it will close.
    duplicate = socket.socket(fileno=os.dup(pgconn.socket))
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the server or the network
    finally:
        duplicate.close()


class _Watchdog:
    """One thread per process that expires deadlines; it polls, so no one has to wake it."""

    def __init__(self) -> None:
        self._deadlines: set[Deadline] = set()
        self._lock = threading.Lock()
        self._pid = 0

    def watch(self, deadline: Deadline) -> None:
        with self._lock:
            self._deadlines.add(deadline)
            if self._pid != os.getpid():  # first use in this process (a forked web worker)
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="db-deadline", daemon=True).start()

    def forget(self, deadline: Deadline) -> None:
        with self._lock:
            self._deadlines.discard(deadline)

    def _run(self) -> None:
        while True:
            time.sleep(POLL_SECONDS)
            now = time.monotonic()
            with self._lock:
                due = [d for d in self._deadlines if not d.expired and d.at - POLL_SECONDS <= now]
            for deadline in due:
                deadline.expire()


_watchdog = _Watchdog()
_local = threading.local()
_connecting = ThreadPoolExecutor(max_workers=4, thread_name_prefix="db-connect")
_WATCHED_BY = "voiceline.deadline"
_SHUT = "voiceline.shut_at_deadline"


def current() -> Deadline | None:
    """Return this thread's deadline, if it has one."""
    return getattr(_local, "deadline", None)


@contextmanager
def held_to(seconds: float) -> Iterator[Deadline]:
    """Hold this thread's database work in the block to ``seconds`` from now."""
    deadline = Deadline(seconds)
    previous = current()
    _local.deadline = deadline
    _watchdog.watch(deadline)
    try:
        yield deadline
    finally:
        _watchdog.forget(deadline)
        _local.deadline = previous


def install(engine: Engine, sqlite_busy_timeout_ms: int) -> None:
    """Make ``engine``'s connections keep the deadline of the thread that uses them.

    ``sqlite_busy_timeout_ms`` is how long a SQLite connection waits for a writer's lock
    outside a deadline: what it goes back to when checked in.

    Installed before any other checkout listener, so a test of an idle connection (which
    can hang on a dead server as well as a query) is watched too.
    """
    is_sqlite = engine.dialect.name == "sqlite"

    @event.listens_for(engine, "do_connect")
    def _connect_in_time(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        deadline = current()
        if deadline is None or is_sqlite:
            return None  # the dialect connects as usual
        future: Future[Any] = _connecting.submit(dialect.connect, *cargs, **cparams)
        try:
            return future.result(timeout=max(deadline.remaining(), 0.0))
        except FutureTimeout:
            future.add_done_callback(_close_late)
            raise DeadlinePassed("the database did not accept a connection in time") from None

    @event.listens_for(engine, "checkout")
    def _watch(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.info.pop(_SHUT, False):
            # Its socket was shut at a deadline just as its work ended: the pool opens
            # another instead of handing this one to the next request.
            raise DisconnectionError("a connection given up at a deadline")
        deadline = current()
        if deadline is None:
            return
        deadline.attach(dbapi_connection)
        record.info[_WATCHED_BY] = deadline
        if is_sqlite:
            wait_ms = max(int(deadline.remaining() * 1000), 1)
            dbapi_connection.execute(f"PRAGMA busy_timeout={wait_ms}")

    @event.listens_for(engine, "checkin")
    def _unwatch(dbapi_connection: Any, record: Any) -> None:
        # Whichever thread checks it in, and whether or not its deadline is still on.
        deadline = record.info.pop(_WATCHED_BY, None) if record is not None else None
        if deadline is None or dbapi_connection is None:
            return
        deadline.detach(dbapi_connection)
        if is_sqlite:
            dbapi_connection.execute(f"PRAGMA busy_timeout={sqlite_busy_timeout_ms}")
        elif deadline.expired:  # it was watched when the deadline came: its socket is shut
            record.info[_SHUT] = True


def _close_late(future: Future[Any]) -> None:
    """Close a connection that was opened after its deadline."""
    if future.exception() is None:
        try:
            future.result().close()
        except Exception:
            log.debug("could not close a late connection", exc_info=True)
