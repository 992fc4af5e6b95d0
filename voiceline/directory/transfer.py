"""Import a directory file from the browser, after showing what it would change; export one.

The preview runs the whole-file checker, then loads the file in a transaction that is
rolled back, and compares the directory dumped before and after, entry by entry: what
is shown is what the loader would do, not a guess at it. (A load creates and updates,
never deletes; entries the file leaves out are listed as kept.)

Between the preview and the confirmation the file travels with the page, compressed and
signed with the app's secret key (itsdangerous), rather than being kept on the server:
any web process on any host can apply it, there is nothing to expire or clean up, and
the signature means the bytes applied are the bytes previewed. The confirmation also
carries a digest of the directory the preview was made against; if the directory
changed since, the file is previewed again instead of applied.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from voiceline.admin import audit
from voiceline.directory.checker import DirectoryError, read_directory_text
from voiceline.directory.dump import dump_directory
from voiceline.directory.loader import Changes, apply_directory
from voiceline.directory.reading import YamlError, decode_utf8

# The app takes requests of up to 1 MiB (MAX_CONTENT_LENGTH); a file this size fits in
# one with the form around it.
MAX_IMPORT_BYTES = 1_000_000
# The confirmation is a plain form post, and Flask reads at most 500 kB of form fields.
MAX_TOKEN = 480_000
TOKEN_MAX_AGE = 60 * 60
TOO_LARGE = (
    f"the file is larger than {MAX_IMPORT_BYTES:,} bytes, the most the browser import "
    "takes; load it with `voiceline directory load`"
)
_SALT = "voiceline.directory.import"
SHOWN_DIFFS = 100
SECTIONS = ("service", "plans", "analysts", "rotations", "policies", "customers")
LABELS = {
    "service": "Service settings",
    "plans": "Plans",
    "analysts": "Analysts",
    "rotations": "Rotations",
    "policies": "Escalation policies",
    "customers": "Customers",
}


@dataclass
class EntryChange:
    """One entry the import would create or update, with the lines of its YAML that change."""

    section: str
    code: str
    status: str  # created | updated
    lines: list[tuple[str, str]]  # (add | del | same, text)


@dataclass
class Preview:
    """What importing a file would do: its problems, or its changes and a token to apply it."""

    filename: str
    sha256: str
    errors: list[str] = field(default_factory=list)
    changes: list[EntryChange] = field(default_factory=list)
    unchanged: int = 0
    kept: dict[str, list[str]] = field(default_factory=dict)
    token: str | None = None

    @property
    def shown(self) -> list[EntryChange]:
        """Return the changes shown line by line."""
        return self.changes[:SHOWN_DIFFS]

    @property
    def more(self) -> list[EntryChange]:
        """Return the changes past those shown line by line."""
        return self.changes[SHOWN_DIFFS:]

    @property
    def created(self) -> list[EntryChange]:
        """Return the entries the import would create."""
        return [c for c in self.changes if c.status == "created"]

    @property
    def updated(self) -> list[EntryChange]:
        """Return the entries the import would change."""
        return [c for c in self.changes if c.status == "updated"]


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def read_upload(raw: bytes, filename: str) -> str:
    """Return an uploaded file as text; raise DirectoryError if too large or not UTF-8."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise DirectoryError([f"{filename}: {TOO_LARGE}"])
    if not raw.strip():
        raise DirectoryError([f"{filename}: the file is empty; choose a directory YAML file"])
    try:
        return decode_utf8(raw)
    except YamlError as exc:
        raise DirectoryError([p.at(filename) for p in exc.problems]) from None


def _keyed(dump: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    """Return every entry of a dump by (section, code)."""
    entries: dict[tuple[str, str], Any] = {}
    if dump.get("service"):
        entries[("service", "service")] = dump["service"]
    for section in SECTIONS[1:]:
        for entry in dump.get(section) or []:
            entries[(section, str(entry["code"]))] = entry
    return entries


def _yaml_lines(entry: Any) -> list[str]:
    return yaml.safe_dump(entry, sort_keys=False, allow_unicode=True).splitlines()


def _diff(before: Any, after: Any) -> list[tuple[str, str]]:
    """Return the changed lines of an entry's YAML with two lines of context."""
    lines: list[tuple[str, str]] = []
    old = _yaml_lines(before) if before is not None else []
    for line in difflib.unified_diff(old, _yaml_lines(after), lineterm="", n=2):
        if line.startswith(("---", "+++", "@@")):
            if line.startswith("@@") and lines:
                lines.append(("gap", "…"))
            continue
        kind = {"+": "add", "-": "del"}.get(line[:1], "same")
        lines.append((kind, line[1:]))
    return lines


def digest(dump: Mapping[str, Any]) -> str:
    """Return a digest of the directory as dumped, to tell whether it changed."""
    text = yaml.safe_dump(dict(dump), sort_keys=True, allow_unicode=True)
    return hashlib.sha256(text.encode()).hexdigest()


@contextmanager
def _rolled_back(open_session: Callable[[], Session]) -> Iterator[Session]:
    session = open_session()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def preview(
    open_session: Callable[[], Session], text: str, filename: str, secret_key: str
) -> Preview:
    """Check ``text`` as a directory file and say what loading it would change."""
    result = Preview(filename=filename, sha256=hashlib.sha256(text.encode()).hexdigest())
    try:
        data = read_directory_text(text, filename)
    except DirectoryError as exc:
        result.errors = list(exc.errors)
        return result
    given = {(s, str(e.get("code"))) for s in SECTIONS[1:] for e in data.get(s) or []}
    if data.get("service"):
        given.add(("service", "service"))
    with _rolled_back(open_session) as session:
        before = dump_directory(session)
        apply_directory(session, data)
        after = dump_directory(session)
    old, new = _keyed(before), _keyed(after)
    for key, entry in new.items():
        # Past the first hundred, entries are named without their lines: a page showing
        # every line of a thousand new customers would be read by nobody.
        shown = len(result.changes) < SHOWN_DIFFS
        if key not in old:
            lines = _diff(None, entry) if shown else []
            result.changes.append(EntryChange(*key, "created", lines))
        elif old[key] != entry:
            lines = _diff(old[key], entry) if shown else []
            result.changes.append(EntryChange(*key, "updated", lines))
        elif key in given:
            result.unchanged += 1
    for section, code in old:
        if (section, code) not in given:
            result.kept.setdefault(section, []).append(code)
    if result.changes:
        payload = {"text": text, "filename": filename, "base": digest(before)}
        token = _serializer(secret_key).dumps(payload)
        if len(token) > MAX_TOKEN:
            result.errors.append(
                f"{filename}: too large to confirm from the browser; load it with "
                "`voiceline directory load`"
            )
        else:
            result.token = token
    return result


def apply_import(
    session: Session,
    open_session: Callable[[], Session],
    token: str,
    secret_key: str,
    *,
    actor: str,
    now: datetime,
) -> Changes | Preview:
    """Load the previewed file in ``token`` and audit it; the caller commits.

    When the directory changed since the preview, nothing is loaded and a new preview
    of the same file comes back instead.
    """
    try:
        payload = _serializer(secret_key).loads(token, max_age=TOKEN_MAX_AGE)
    except SignatureExpired:
        raise DirectoryError(
            ["the preview is more than an hour old; upload the file again"]
        ) from None
    except BadSignature:
        raise DirectoryError(
            ["this confirmation does not come from a preview; upload again"]
        ) from None
    text, filename = str(payload["text"]), str(payload["filename"])
    if digest(dump_directory(session)) != payload["base"]:
        # Someone changed the directory since the preview: show the new differences.
        return preview(open_session, text, filename, secret_key)
    data = read_directory_text(text, filename)  # checked again: it is cheap, and certain
    changes = apply_directory(session, data)
    audit.record(
        session,
        actor,
        "directory_imported",
        "directory",
        at=now,
        file=filename,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        created=changes.created,
        updated=changes.updated,
    )
    return changes
