"""Who a policy's targets are right now: rotations, overrides and contact methods from the DB.

The engine takes a ``Roster`` (target -> recipients) and knows nothing of the database.
This module builds it at ``now``: an ``on_call`` target is resolved by the pure on-call
code (``oncall.schedule.who_is_on_call``) over a schedule built from the rotation's rows
(its members in order, its weekly hours, the overrides in force at ``now``); a
``rotation`` target is every member; an ``analyst`` target is that analyst. Each analyst
becomes a ``Recipient`` with their SMS and voice numbers, and ``sms_stopped`` when the
SMS number texted STOP.

The pager asks this at every escalation step, so it reads plain rows in one statement
(``on_call_rows``, one round trip) whatever the targets: the rotations, their members, the
overrides in force, the analysts named, and the contact methods of every analyst among
them. It grows with neither a rotation's override history nor the number of rotations.

A target whose rotation or analyst no longer exists, or whose rotation data cannot be
read, is left out of the roster: the engine logs it as unresolved, and ``problems`` says
why, for the incident log. A target that resolves to nobody maps to an empty list, and
the engine skips the step at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import (
    Integer,
    Select,
    String,
    bindparam,
    cast,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from escalation.policy import Policy, Target, policy_targets
from escalation.state import Recipient
from oncall.models import Analyst, ContactMethod, RotationMember
from oncall.models import Override as OverrideRow
from oncall.models import Rotation as RotationRow
from oncall.rotation import OnCallError
from oncall.schedule import Override, who_is_on_call
from oncall.store import RotationValues, schedule_of
from voiceline.hours import HoursError


@dataclass
class ResolvedRoster:
    """The roster for the engine, and why some targets could not be resolved."""

    recipients: dict[Target, list[Recipient]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def recipient_of(analyst: Analyst) -> Recipient:
    """Return the analyst as a Recipient: first SMS and voice numbers, and their STOP state."""
    sms = next((m for m in analyst.contact_methods if m.kind == "sms"), None)
    voice = next((m for m in analyst.contact_methods if m.kind == "voice"), None)
    return Recipient(
        analyst=analyst.code,
        sms=sms.address if sms else None,
        voice=voice.address if voice else None,
        sms_stopped=bool(sms and sms.is_opted_out),
    )


# Everything the roster needs, in one statement whatever the targets, one row for each
# rotation asked for, each of its members (in position order), each override in force at
# ``at`` for an on-call target (in stored order: start, then id), and each analyst a
# target names. Every analyst comes as a Recipient: the first SMS number with its STOP
# state and the first voice number, in the order they were added (``recipient_of``).
# Analysts and their numbers are looked up row by row (scalar subqueries on their
# indexes), so the plan stays index lookups throughout whatever the planner knows of the
# tables' sizes; the overrides are read through ix_overrides_rotation_id_ends_at: only
# those not yet ended, however many years have.
_ROTATION, _MEMBER, _OVERRIDE, _ANALYST = range(4)  # the ``part`` of a row
_COLUMNS: dict[str, Any] = {
    "rotation_id": Integer(),
    "part": Integer(),
    "position": Integer(),
    "starts_at": OverrideRow.starts_at.type,
    "override_id": Integer(),
    "analyst_id": Integer(),
    "replaces": String(),
    "ends_at": OverrideRow.ends_at.type,
    "code": String(),
    "name": String(),
    "time_zone": String(),
    "shift_length": String(),
    "handoff_anchor": String(),
    "hours": RotationRow.hours.type,
}


def _part(part: int, **columns: Any) -> Select[Any]:
    """Return a select of every column of ``_COLUMNS``, NULL where ``columns`` has none."""
    values = {"part": literal_column(str(part), Integer()), **columns}
    return select(
        *[values.get(name, cast(null(), kind)).label(name) for name, kind in _COLUMNS.items()]
    )


_INSIDE = ("position", "override_id", "analyst_id")  # only to order the rows


# Constants are written into the statement: parameters would be sent and bound each time.
_ONE, _ZERO = literal_column("1", Integer()), literal_column("0", Integer())


def _first(column: Any, analyst_id: Any, kind: Literal["sms", "voice"]) -> Any:
    """The analyst's first contact method of ``kind``, as its ``column``."""
    return (
        select(column)
        .where(
            ContactMethod.analyst_id == analyst_id,
            ContactMethod.kind == literal_column(f"'{kind}'", String()),
        )
        .order_by(ContactMethod.id)
        .limit(_ONE)
        .scalar_subquery()
    )


def _code(analyst_id: Any) -> Any:
    found = aliased(Analyst)
    return select(found.code).where(found.id == analyst_id).scalar_subquery()


# ``at`` behind a fence (OFFSET 0: a subquery the planner does not pull up): PostgreSQL's
# estimates then do not depend on its value, so after a few executions it keeps the
# prepared statement's generic plan instead of planning the statement anew at every
# call, which cost more than running it. The plan is the same: index lookups throughout.
_INSTANT = (
    select(bindparam("at", type_=OverrideRow.ends_at.type).label("at")).offset(_ZERO).subquery()
)


def _named(column: Any, kind: str, count: int) -> Any:
    """``column`` is one of ``count`` values, each its own parameter (``kind_0``, ...)."""
    return column.in_([bindparam(f"{kind}_{n}") for n in range(count)])


def _parts(rotations: int, on_call: int, analysts: int) -> list[Select[Any]]:
    """The statement's parts for so many codes of each kind: none for a kind without codes."""
    parts = []
    if rotations:
        parts.append(_part(
            _ROTATION,
            rotation_id=RotationRow.id,
            code=RotationRow.code,
            name=RotationRow.name,
            time_zone=RotationRow.time_zone,
            shift_length=RotationRow.shift_length,
            handoff_anchor=RotationRow.handoff_anchor,
            hours=RotationRow.hours,
        ).where(_named(RotationRow.code, "rotation", rotations)))  # fmt: skip
        parts.append(_part(
            _MEMBER,
            rotation_id=RotationMember.rotation_id,
            position=RotationMember.position,
            analyst_id=RotationMember.analyst_id,
        )
        .select_from(RotationMember)
        .join(RotationRow, RotationRow.id == RotationMember.rotation_id)
        .where(_named(RotationRow.code, "rotation", rotations)))  # fmt: skip
    if on_call:
        parts.append(_part(
            _OVERRIDE,
            rotation_id=OverrideRow.rotation_id,
            starts_at=OverrideRow.starts_at,
            override_id=OverrideRow.id,
            analyst_id=OverrideRow.analyst_id,
            replaces=_code(OverrideRow.replaces_analyst_id),
            ends_at=OverrideRow.ends_at,
        )
        .select_from(_INSTANT)
        .join(
            OverrideRow,
            (OverrideRow.ends_at > _INSTANT.c.at) & (OverrideRow.starts_at <= _INSTANT.c.at),
        )
        .join(RotationRow, RotationRow.id == OverrideRow.rotation_id)
        .where(_named(RotationRow.code, "on_call", on_call)))  # fmt: skip
    if analysts:
        parts.append(_part(_ANALYST, analyst_id=Analyst.id).where(
            _named(Analyst.code, "analyst", analysts)
        ))  # fmt: skip
    return parts


@lru_cache(maxsize=128)
def _statement(rotations: int, on_call: int, analysts: int) -> Select[Any]:
    """The roster's statement for so many rotation, on-call and analyst codes.

    Each code is a parameter of its own, so a statement is made, compiled and prepared once
    per count of codes and reused as it is: an expanding IN would have SQLAlchemy render the
    statement's text anew at every call, and the prepared statement would be the same.
    """
    parts = _parts(rotations, on_call, analysts)
    found = union_all(*parts).subquery("parts") if len(parts) > 1 else parts[0].subquery("parts")
    # Each row's analyst (none in a rotation's own row) as a Recipient's fields.
    return select(
        *[found.c[name] for name in _COLUMNS if name not in _INSIDE],
        _code(found.c.analyst_id).label("analyst"),
        _first(ContactMethod.address, found.c.analyst_id, "sms").label("sms"),
        _first(ContactMethod.is_opted_out, found.c.analyst_id, "sms").label("sms_stopped"),
        _first(ContactMethod.address, found.c.analyst_id, "voice").label("voice"),
    ).order_by(
        found.c.rotation_id, found.c.part, found.c.position, found.c.starts_at, found.c.override_id
    )


def on_call_rows(
    rotations: Sequence[str], on_call: Sequence[str], analysts: Sequence[str], at: datetime
) -> tuple[Select[Any], dict[str, Any]]:
    """Return the statement that reads the roster's rows for these codes, and its parameters.

    ``rotations`` are the codes of rotation and on-call targets, ``on_call`` those of on-call
    targets (whose overrides in force at ``at`` are read), ``analysts`` those of analysts.
    """
    params: dict[str, Any] = {"at": at}
    for kind, codes in (("rotation", rotations), ("on_call", on_call), ("analyst", analysts)):
        params.update((f"{kind}_{n}", code) for n, code in enumerate(codes))
    return _statement(len(rotations), len(on_call), len(analysts)), params


@dataclass
class _Rotation:
    values: RotationValues
    members: list[str] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)


_Contact = tuple[str | None, str | None, bool]  # an analyst's SMS and voice numbers, SMS STOP


def _read(
    session: Session, wanted: set[Target], at: datetime
) -> tuple[dict[str, _Rotation], dict[str, _Contact]]:
    """Return the rotations the targets name, with their members and, for on-call targets,
    the overrides in force at ``at``; and the numbers of every analyst found, by code."""
    rotations: dict[str, _Rotation] = {}
    contacts: dict[str, _Contact] = {}
    codes = sorted({t.ref for t in wanted if t.kind in ("on_call", "rotation")})
    on_call = sorted({t.ref for t in wanted if t.kind == "on_call"})
    analysts = sorted({t.ref for t in wanted if t.kind == "analyst"})
    if not codes and not analysts:
        return rotations, contacts
    statement, params = on_call_rows(codes, on_call, analysts, at)
    by_id: dict[int, _Rotation] = {}
    # Unpacked in the statement's column order: a row's fields by name cost more than the
    # rest of reading it.
    for (rotation_id, part, starts_at, replaces, ends_at, code, name, time_zone, shift_length,
         handoff_anchor, hours, analyst, sms, sms_stopped, voice) in session.connection().execute(
        statement, params
    ).all():  # fmt: skip
        if part == _ROTATION:
            values = RotationValues(code, name, time_zone, shift_length, handoff_anchor, hours)
            by_id[rotation_id] = rotations[code] = _Rotation(values)
            continue
        if part == _MEMBER:
            by_id[rotation_id].members.append(analyst)
        elif part == _OVERRIDE:
            by_id[rotation_id].overrides.append(
                Override(analyst=analyst, start=starts_at, end=ends_at, replaces=replaces)
            )
        if analyst not in contacts:
            contacts[analyst] = (sms, voice, bool(sms and sms_stopped))
    return rotations, contacts


def resolve_targets(session: Session, targets: Iterable[Target], now: datetime) -> ResolvedRoster:
    """Return who each target is at ``now``."""
    wanted = set(targets)
    roster = ResolvedRoster()
    problems: dict[Target, str] = {}
    rotations, contacts = _read(session, wanted, now)
    # Who each target is, by code: every analyst it can be came with their numbers.
    chosen: dict[Target, list[str]] = {}
    for target in sorted(wanted, key=lambda t: (t.kind, t.ref)):
        if target.kind == "analyst":
            chosen[target] = [target.ref]
            continue
        rotation = rotations.get(target.ref)
        if rotation is None:
            problems[target] = f"rotation {target.ref} does not exist"
            continue
        if target.kind == "rotation":
            chosen[target] = list(rotation.members)
            continue
        try:
            schedule = schedule_of(rotation.values, rotation.members, rotation.overrides)
            code = who_is_on_call(schedule, now)
        except (OnCallError, HoursError, ValueError) as exc:
            problems[target] = f"rotation {target.ref} cannot be read: {exc}"
            continue
        chosen[target] = [code] if code is not None else []
    recipients: dict[str, Recipient] = {}  # made only for the analysts chosen
    for target, codes in chosen.items():
        if target.kind == "analyst" and target.ref not in contacts:
            problems[target] = f"analyst {target.ref} does not exist"
            continue
        for code in codes:
            if code in contacts and code not in recipients:
                sms, voice, stopped = contacts[code]
                recipients[code] = Recipient(code, sms=sms, voice=voice, sms_stopped=stopped)
        roster.recipients[target] = [recipients[c] for c in codes if c in contacts]
    roster.problems = [problems[t] for t in sorted(problems, key=lambda t: (t.kind, t.ref))]
    return roster


def resolve_policy(session: Session, policy: Policy, now: datetime) -> ResolvedRoster:
    """Return who every target of the policy is at ``now``."""
    return resolve_targets(session, policy_targets(policy), now)
