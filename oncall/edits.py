"""Changes to rotas from the admin page: rotations, members and overrides.

Each function checks everything first and raises ``FormError`` (one message per form
field) before touching a row, so refused input changes nothing; the caller commits or
rolls back the session. Every accepted change adds an audit entry in the same session.
Times typed by an admin are local wall times in the rotation's zone; a time skipped by
spring-forward means the moment the clock jumps, a repeated one its first occurrence.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncall.models import Analyst, RotationMember
from oncall.models import Override as OverrideRow
from oncall.models import Rotation as RotationRow
from oncall.rotation import OnCallError, Rotation, local_instant, parse_shift_length
from oncall.schedule import Override, OverrideError, validate_override
from oncall.store import describe, hours_of, schedule_for
from voiceline.admin import audit
from voiceline.admin.formatting import DATE_FORMAT
from voiceline.hours import Hours, HoursError, format_hours, open_intervals, parse_hours, zone

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_NOTE = 200


class FormError(OnCallError):
    """Input refused, with a message for each field that is wrong."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def new_token() -> str:
    """Return an unguessable calendar-feed token."""
    return secrets.token_urlsafe(24)


def check_code(code: str, errors: dict[str, str]) -> str:
    """Return ``code`` when it is a valid short name, noting an error otherwise."""
    code = code.strip()
    if not CODE_RE.match(code):
        errors["code"] = (
            "use 1-64 lower-case letters, digits, - or _, starting with a letter or digit"
        )
    return code


def local_time(text: str, time_zone: str) -> datetime:
    """Return the UTC instant of the local wall time ``text`` (e.g. 2026-11-24T18:00)."""
    try:
        wall = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("enter a date and time like 2026-11-24 18:00") from None
    if wall.tzinfo is not None:
        raise ValueError(f"enter the local time in {time_zone} without an offset")
    return local_instant(wall, zone(time_zone))


def _rotation_fields(form: Mapping[str, str], errors: dict[str, str]) -> dict[str, object]:
    """Read and check the editable fields of a rotation form."""
    name = (form.get("name") or "").strip()
    if not name:
        errors["name"] = "enter a name"
    elif len(name) > 200:
        errors["name"] = "use at most 200 characters"
    time_zone = (form.get("time_zone") or "").strip()
    try:
        zone(time_zone)
    except HoursError:
        errors["time_zone"] = (
            f"unknown time zone {time_zone!r}; use an IANA name like America/Los_Angeles"
        )
    shift = (form.get("shift") or "").strip()
    try:
        shift = str(parse_shift_length(shift))
    except OnCallError as exc:
        errors["shift"] = str(exc)
    handoff = (form.get("handoff") or "").strip()
    try:
        anchor = datetime.fromisoformat(handoff)
        if anchor.tzinfo is not None:
            raise ValueError
        handoff = anchor.isoformat(timespec="minutes")
    except ValueError:
        errors["handoff"] = (
            "enter the first handoff as a local date and time, e.g. 2026-01-05 08:00"
        )
    hours_text = (form.get("hours") or "").strip()
    hours: list[str] | None = None
    if hours_text.lower() not in ("", "always", "24x7", "24/7"):
        try:
            parsed = parse_hours(hours_text.replace("\n", ";"))
        except HoursError as exc:
            errors["hours"] = str(exc)
        else:
            if not parsed:
                errors["hours"] = (
                    "a rotation with no hours is never on call; leave blank for always"
                )
            hours = [w.spec() for w in parsed]
    if not errors:
        try:  # the pure rotation is the final judge of what can be used
            Rotation(
                name, time_zone, (), parse_shift_length(shift), datetime.fromisoformat(handoff)
            )
        except OnCallError as exc:
            errors["shift"] = str(exc)
    return {
        "name": name,
        "time_zone": time_zone,
        "shift_length": shift,
        "handoff_anchor": handoff,
        "hours": hours,
    }


def create_rotation(
    session: Session, form: Mapping[str, str], *, actor: str, now: datetime
) -> RotationRow:
    """Create a rotation without members from ``form``."""
    errors: dict[str, str] = {}
    code = check_code(form.get("code") or "", errors)
    fields = _rotation_fields(form, errors)
    if "code" not in errors and session.scalars(select(RotationRow).filter_by(code=code)).first():
        errors["code"] = f"a rotation with code {code!r} already exists"
    if errors:
        raise FormError(errors)
    row = RotationRow(code=code, calendar_token=new_token(), **fields)
    session.add(row)
    session.flush()
    audit.record(session, actor, "rotation_created", f"rotation {code}", at=now, **describe(row))
    return row


def update_rotation(
    session: Session, row: RotationRow, form: Mapping[str, str], *, actor: str, now: datetime
) -> None:
    """Change a rotation's name, zone, shift, first handoff and hours."""
    errors: dict[str, str] = {}
    fields = _rotation_fields(form, errors)
    if errors:
        raise FormError(errors)
    before = describe(row)
    for key, value in fields.items():
        setattr(row, key, value)
    after = describe(row)
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if changed:
        audit.record(session, actor, "rotation_updated", f"rotation {row.code}", at=now, **changed)


def _analyst(session: Session, code: str, field: str, errors: dict[str, str]) -> Analyst | None:
    code = code.strip()
    if not code:
        errors[field] = "choose an analyst"
        return None
    analyst = session.scalars(select(Analyst).filter_by(code=code)).one_or_none()
    if analyst is None:
        errors[field] = f"unknown analyst {code!r}"
    return analyst


def _member_codes(row: RotationRow) -> list[str]:
    return [m.analyst.code for m in sorted(row.members, key=lambda m: m.position)]


def _renumber(session: Session, row: RotationRow, ordered: list[RotationMember]) -> None:
    """Give members positions 0..n-1 in ``ordered`` order without breaking uniqueness."""
    for member in ordered:  # move out of the way first: (rotation, position) is unique
        member.position = -1 - member.id
    session.flush()
    for position, member in enumerate(ordered):
        member.position = position
    session.flush()
    session.expire(row, ["members"])


def add_member(
    session: Session, row: RotationRow, analyst_code: str, *, actor: str, now: datetime
) -> None:
    """Add an analyst at the end of the rotation."""
    errors: dict[str, str] = {}
    analyst = _analyst(session, analyst_code, "analyst", errors)
    if analyst is not None and any(m.analyst_id == analyst.id for m in row.members):
        errors["analyst"] = f"{analyst.name} is already in this rotation"
    if errors or analyst is None:
        raise FormError(errors)
    before = _member_codes(row)
    position = max((m.position for m in row.members), default=-1) + 1
    row.members.append(RotationMember(analyst_id=analyst.id, position=position))
    session.flush()
    session.expire(row, ["members"])
    audit.record(
        session,
        actor,
        "member_added",
        f"rotation {row.code}",
        at=now,
        analyst=analyst.code,
        members={"from": before, "to": _member_codes(row)},
    )


def _member(row: RotationRow, member_id: int) -> RotationMember:
    for member in row.members:
        if member.id == member_id:
            return member
    raise FormError({"member": "that member is no longer in this rotation"})


def remove_member(
    session: Session, row: RotationRow, member_id: int, *, actor: str, now: datetime
) -> None:
    """Take a member out of the rotation; the others close up."""
    member = _member(row, member_id)
    before = _member_codes(row)
    code = member.analyst.code
    rest = [m for m in sorted(row.members, key=lambda m: m.position) if m.id != member_id]
    row.members.remove(member)
    session.flush()
    _renumber(session, row, rest)
    audit.record(
        session,
        actor,
        "member_removed",
        f"rotation {row.code}",
        at=now,
        analyst=code,
        members={"from": before, "to": _member_codes(row)},
    )


def move_member(
    session: Session, row: RotationRow, member_id: int, offset: int, *, actor: str, now: datetime
) -> None:
    """Move a member ``offset`` places (-1 up, +1 down), staying within the list."""
    ordered = sorted(row.members, key=lambda m: m.position)
    member = _member(row, member_id)
    index = ordered.index(member)
    target = min(max(index + offset, 0), len(ordered) - 1)
    if target == index:
        return
    before = _member_codes(row)
    ordered.insert(target, ordered.pop(index))
    _renumber(session, row, ordered)
    audit.record(
        session,
        actor,
        "members_reordered",
        f"rotation {row.code}",
        at=now,
        analyst=member.analyst.code,
        members={"from": before, "to": _member_codes(row)},
    )


def hours_text(hours: Hours) -> str:
    """Return weekly hours as the admin types them."""
    text = format_hours(hours)
    return text if isinstance(text, str) else "; ".join(text)


def _override_label(row: OverrideRow, time_zone: str) -> str:
    tz = zone(time_zone)
    fmt = DATE_FORMAT  # the admin pages' one date format
    start, end = (
        row.starts_at.astimezone(tz).strftime(fmt),
        row.ends_at.astimezone(tz).strftime(fmt),
    )
    replaced = f" replacing {row.replaces.name}" if row.replaces is not None else ""
    return f"{row.analyst.name}{replaced} from {start} to {end}"


def add_override(
    session: Session, row: RotationRow, form: Mapping[str, str], *, actor: str, now: datetime
) -> OverrideRow:
    """Add an override: an analyst covers the rotation, or one member's turns, for a while."""
    errors: dict[str, str] = {}
    analyst = _analyst(session, form.get("analyst") or "", "analyst", errors)
    replaces = None
    if (form.get("replaces") or "").strip():
        replaces = _analyst(session, form.get("replaces") or "", "replaces", errors)
    start = end = None
    for field in ("start", "end"):
        try:
            value = local_time(form.get(field) or "", row.time_zone)
        except ValueError as exc:
            errors[field] = str(exc)
            continue
        start, end = (value, end) if field == "start" else (start, value)
    if start is not None and end is not None:
        if end <= start:
            errors["end"] = "the end must be after the start"
        elif end <= now:
            errors["end"] = "this override would already be over"
    note = (form.get("note") or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = f"use at most {MAX_NOTE} characters"
    if analyst is not None and replaces is not None:
        if analyst.id == replaces.id:
            errors["replaces"] = f"{analyst.name} cannot replace themselves"
        elif replaces.id not in {m.analyst_id for m in row.members}:
            errors["replaces"] = (
                f"{replaces.name} is not in this rotation, so there is nobody to replace"
            )
    if errors or analyst is None or start is None or end is None:
        raise FormError(errors)
    replaces_id = None if replaces is None else replaces.id
    for other in row.overrides:
        if (
            other.replaces_analyst_id == replaces_id
            and other.starts_at < end
            and start < other.ends_at
        ):
            raise FormError(
                {"start": f"overlaps the override for {_override_label(other, row.time_zone)}"}
            )
    hours = hours_of(row)
    if hours is not None and not open_intervals(hours, zone(row.time_zone), start, end):
        # Overrides apply inside the rotation's hours only: this one would never page anyone.
        raise FormError(
            {"start": f"this is wholly outside the rotation's hours ({hours_text(hours)})"}
        )
    replaced = None if replaces is None else replaces.code
    candidate = Override(analyst.code, start, end, replaced, layer=row.code)
    try:
        validate_override(schedule_for(row), candidate, analysts=[analyst.code])
    except OverrideError as exc:  # a rule the checks above missed: refuse rather than store
        raise FormError({"analyst": str(exc)}) from None
    override = OverrideRow(
        analyst_id=analyst.id,
        replaces_analyst_id=replaces_id,
        starts_at=start,
        ends_at=end,
        note=note or None,
    )
    row.overrides.append(override)
    session.flush()
    audit.record(
        session,
        actor,
        "override_added",
        f"rotation {row.code}",
        at=now,
        analyst=analyst.code,
        replaces=None if replaces is None else replaces.code,
        start=start,
        end=end,
        note=note or None,
    )
    return override


def remove_override(
    session: Session, row: RotationRow, override_id: int, *, actor: str, now: datetime
) -> None:
    """Delete an override."""
    override = next((o for o in row.overrides if o.id == override_id), None)
    if override is None:
        raise FormError({"override": "that override no longer exists"})
    detail = {
        "analyst": override.analyst.code,
        "replaces": None if override.replaces is None else override.replaces.code,
        "start": override.starts_at,
        "end": override.ends_at,
        "note": override.note,
    }
    row.overrides.remove(override)
    session.flush()
    audit.record(session, actor, "override_removed", f"rotation {row.code}", at=now, **detail)
