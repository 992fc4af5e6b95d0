"""A local spool for what a caller left while the database was unreachable.

Each entry is one JSON line, flushed and fsynced before the caller hears the next
prompt. The worker (and ``voiceline spool replay``) feeds entries back through the same
idempotent services once the database answers, then moves the file aside.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
_lock = threading.Lock()


class Spool:
    """Append-only JSON-lines files in one directory."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def write(self, kind: str, **data: Any) -> None:
        """Append an entry durably; if even that fails, put it in the log."""
        entry = {"kind": kind, "spooled_at": datetime.now(UTC).isoformat(), **data}
        line = json.dumps(entry, sort_keys=True)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"pending-{os.getpid()}.jsonl"
            with _lock, open(path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError:
            log.exception("could not spool a caller's message; keep this line: %s", line)

    def pending_files(self) -> list[Path]:
        """Return spool files waiting for replay, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("pending-*.jsonl"), key=lambda p: p.stat().st_mtime)

    def replay(self, handle: Callable[[dict[str, Any]], None]) -> int:
        """Feed every pending entry to ``handle``; return how many were replayed.

        A file is moved aside only when all its entries succeeded, so a database that
        fails again halfway leaves the file for the next attempt (handlers are idempotent).
        """
        replayed = 0
        for path in self.pending_files():
            claimed = path.with_name(f"replaying-{uuid.uuid4().hex}.jsonl")
            try:
                path.rename(claimed)  # only one replayer gets each file
            except OSError:
                continue
            entries = [json.loads(x) for x in claimed.read_text("utf-8").splitlines() if x.strip()]
            try:
                for entry in entries:
                    handle(entry)
            except Exception:
                claimed.rename(path.with_name(f"pending-retry-{uuid.uuid4().hex}.jsonl"))
                raise
            done = self.directory / "done"
            done.mkdir(exist_ok=True)
            claimed.rename(done / claimed.name.replace("replaying-", "replayed-"))
            replayed += len(entries)
        return replayed
