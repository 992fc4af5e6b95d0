"""A local spool for what a caller left while the database was unreachable.

Each entry is its own small JSON file, written to a temporary name, fsynced and renamed
into place before the caller hears the next prompt, so a reader never sees half an entry
and no writer can append to a file a reader has already taken. The worker and the web
processes (and ``voiceline spool replay``) feed entries back through the same idempotent
services once the database answers. An entry that fails while the database is down waits
for the next round; one that fails for any other reason is moved to ``failed/`` and
logged, so it cannot hold up the entries behind it.

Web and worker must see the same directory (``VOICELINE_SPOOL_DIR``): on a PaaS with
separate dynos, mount a shared volume, or rely on the web process replaying its own.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class Spool:
    """One file per entry in one directory."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def write(self, kind: str, **data: Any) -> None:
        """Store an entry durably; if even that fails, put it in the log."""
        now = datetime.now(UTC)
        entry = {"kind": kind, "spooled_at": now.isoformat(), **data}
        text = json.dumps(entry, sort_keys=True)
        name = f"{now.strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex}"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temporary = self.directory / f".{name}.tmp"
            with open(temporary, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.directory / f"pending-{name}.json")
        except OSError:
            log.exception("could not spool a caller's message; keep this line: %s", text)

    def pending_files(self) -> list[Path]:
        """Return entries waiting for replay, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("pending-*.json"))

    def replay(
        self,
        handle: Callable[[dict[str, Any]], None],
        is_retryable: Callable[[Exception], bool] = lambda exc: True,
    ) -> int:
        """Feed every pending entry to ``handle``; return how many were replayed.

        Stops at the first retryable failure (the database is still away) and leaves that
        entry and the rest for the next round; moves a non-retryable one to ``failed/``.
        """
        replayed = 0
        for path in self.pending_files():
            claimed = path.with_name(path.name.replace("pending-", "replaying-", 1))
            try:
                path.rename(claimed)  # only one replayer gets each entry
            except OSError:
                continue
            try:
                handle(json.loads(claimed.read_text("utf-8")))
            except Exception as exc:
                if is_retryable(exc):
                    claimed.rename(path)
                    raise
                self._move(claimed, "failed", path.name)
                log.exception("spooled entry %s cannot be replayed; moved to failed/", path.name)
                continue
            self._move(claimed, "done", path.name)
            replayed += 1
        return replayed

    def _move(self, path: Path, folder: str, name: str) -> None:
        target = self.directory / folder
        target.mkdir(exist_ok=True)
        path.rename(target / name.replace("pending-", "", 1))
