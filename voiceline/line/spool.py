"""A local spool for what a caller left while the database was unreachable.

Each entry is its own small JSON file, written to a temporary name, fsynced and renamed
into place before the caller hears the next prompt, so a reader never sees half an entry
and no writer can append to a file a reader has already taken. The worker and the web
processes (and ``voiceline spool replay``) feed entries back through the same idempotent
services once the database answers. An entry that fails while the database is down waits
for the next round; one that fails for any other reason is *parked* in ``failed/`` with
the reason beside it, so it cannot hold up the entries behind it. Parked entries raise an
admin notice and are listed at ``/admin/spool``, where they can be retried
(``voiceline.line.parked``); nothing waits there unseen.

Web and worker must see the same directory (``VOICELINE_SPOOL_DIR``): on a PaaS with
separate dynos, mount a shared volume, or rely on the web process replaying its own.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voiceline.clock import Clock, SystemClock
from voiceline.errors import InvalidInput

log = logging.getLogger(__name__)

PARKED = "failed"
SET_ASIDE = "set-aside"
# What a parked entry is called on the admin page: our own naming, nothing else, so a
# name from a form can never reach outside the spool's folders.
ENTRY_NAME = re.compile(r"\A\d{8}T\d{12}-[0-9a-f]{32}\.json\Z")
MAX_REASON = 300


class UnknownEntry(InvalidInput, LookupError):
    """No parked entry has that name."""


class Spool:
    """One file per entry in one directory."""

    def __init__(self, directory: str | Path, clock: Clock | None = None) -> None:
        self.directory = Path(directory)
        self.clock = clock or SystemClock()

    def write(self, kind: str, **data: Any) -> None:
        """Store an entry durably; if even that fails, put it in the log."""
        now = self.clock.now()
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
        entry and the rest for the next round; parks a non-retryable one in ``failed/``.
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
                self._park(claimed, path.name, exc)
                continue
            self._move(claimed, "done", path.name)
            replayed += 1
        return replayed

    def parked_files(self) -> list[Path]:
        """Return entries that could not be replayed, oldest first."""
        folder = self.directory / PARKED
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.glob("*.json") if ENTRY_NAME.match(p.name))

    def reason_parked(self, path: Path) -> str:
        """Return why a parked entry could not be replayed, as recorded when it was parked."""
        try:
            return path.with_suffix(".reason").read_text("utf-8").strip()
        except OSError:
            return "unknown (no reason was recorded)"

    def unpark(self, name: str) -> Path:
        """Put a parked entry back in the queue for the next replay; return its new path."""
        parked = self._parked(name)
        pending = self.directory / f"pending-{name}"
        parked.rename(pending)
        parked.with_suffix(".reason").unlink(missing_ok=True)
        return pending

    def set_aside(self, name: str) -> Path:
        """Move a parked entry out of the queue for good (kept in ``set-aside/``)."""
        parked = self._parked(name)
        target = self.directory / SET_ASIDE
        target.mkdir(exist_ok=True)
        parked.rename(target / name)
        reason = parked.with_suffix(".reason")
        if reason.exists():
            reason.rename(target / reason.name)
        return target / name

    def _parked(self, name: str) -> Path:
        if not ENTRY_NAME.match(name):
            raise UnknownEntry(name)
        path = self.directory / PARKED / name
        if not path.is_file():
            raise UnknownEntry(name)
        return path

    def _park(self, claimed: Path, name: str, exc: Exception) -> None:
        parked = self._move(claimed, PARKED, name)
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:MAX_REASON]
        try:
            parked.with_suffix(".reason").write_text(reason + "\n", "utf-8")
        except OSError:
            log.exception("could not record why %s was parked", parked.name)
        log.error(
            "spooled entry %s cannot be replayed (%s); parked in %s/ for an admin",
            name,
            reason,
            PARKED,
            exc_info=exc,
        )

    def _move(self, path: Path, folder: str, name: str) -> Path:
        target = self.directory / folder
        target.mkdir(exist_ok=True)
        moved = target / name.replace("pending-", "", 1)
        path.rename(moved)
        return moved
