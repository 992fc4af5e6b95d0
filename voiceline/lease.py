"""One worker per SQLite database, held by an OS lock; and the workers' heartbeat row.

SQLite has no row locks, so only one worker may run on it. The guarantee is an exclusive
``fcntl.flock`` on ``<database file>.worker.lock``, taken without waiting at start and
held for the life of the process: the kernel drops it when the process ends, however
it ends, so a worker restarted after a crash (SIGKILL, OOM, power) runs at once, while
a second worker started beside a live one is refused. The file is never deleted: a
process that opened it just before a delete would lock a file nobody else sees.

``WorkerLease`` is only a heartbeat: which worker last said it was alive and until when
that counts (``expires_at``), on any database, for health checks. It refuses nobody.
"""

from __future__ import annotations

import fcntl
import os
from datetime import datetime
from pathlib import Path

from sqlalchemy import String
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Mapped, mapped_column

from voiceline.errors import VoicelineError
from voiceline.orm import Base

LOCK_SUFFIX = ".worker.lock"


class WorkerLease(Base):
    """The last heartbeat of a running worker: who, and until when it counts as alive."""

    __tablename__ = "worker_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]


class WorkerRefused(VoicelineError):
    """Another live worker holds this SQLite database's worker lock."""


def worker_lock_path(database_url: str) -> Path | None:
    """Return the lock file of a SQLite database file; None for other databases or memory."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    database = url.database
    if url.query.get("uri") in ("true", "1"):
        if url.query.get("mode") == "memory":
            return None
        database = database.removeprefix("file:")
    if database == ":memory:":
        return None  # a database only this process can see
    return Path(database + LOCK_SUFFIX)


class WorkerLock:
    """The held lock; released by ``release`` or by the end of the process."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        """Give the lock up (closing the file drops it)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def hold_worker_lock(database_url: str, holder: str) -> WorkerLock | None:
    """Take this database's single-worker lock, or raise ``WorkerRefused``; None if none is needed."""
    path = worker_lock_path(database_url)
    if path is None:
        return None
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise WorkerRefused(f"cannot open the worker lock file {path}: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        other = _holder_named_in(fd)
        os.close(fd)
        raise WorkerRefused(
            f"another worker ({other}) is running on this SQLite database (it holds {path}); "
            "SQLite supports one worker. Stop it, or use PostgreSQL for several."
        ) from exc
    # Name the holder in the file, for the message a refused worker prints.
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{holder}\n".encode(), 0)
    return WorkerLock(path, fd)


def _holder_named_in(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "unknown"
