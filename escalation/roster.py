"""Who a policy's targets are right now: rotations, overrides and contact methods from the DB.

The engine takes a ``Roster`` (target -> recipients) and knows nothing of the database.
This module builds it at ``now``: an ``on_call`` target is resolved by the pure on-call
code (``oncall.schedule.who_is_on_call``) over a schedule built from the rotation's rows
(its members in order, its weekly hours, the overrides in force at ``now``); a
``rotation`` target is every member; an ``analyst`` target is that analyst. Each analyst
becomes a ``Recipient`` with their SMS and voice numbers, and ``sms_stopped`` when the
SMS number texted STOP.

The pager asks this at every escalation step, so it reads plain rows in at most three
statements whatever the targets: the rotations with their members and the members'
contact methods, the overrides in force (``oncall.store.overrides_covering``), and,
only when an override's analyst or a named analyst is to be paged, their contact
methods. None of them grows with a rotation's override history or the number of
rotations.

A target whose rotation or analyst no longer exists, or whose rotation data cannot be
read, is left out of the roster: the engine logs it as unresolved, and ``problems`` says
why, for the incident log. A target that resolves to nobody maps to an empty list, and
the engine skips the step at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from escalation.policy import Policy, Target, policy_targets
from escalation.state import Recipient
from oncall.models import Analyst, ContactMethod, RotationMember
from oncall.models import Rotation as RotationRow
from oncall.rotation import OnCallError
from oncall.schedule import who_is_on_call
from oncall.store import RotationValues, overrides_covering, schedule_of
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


# The rotations asked for, each with its members' codes in position order and their
# contact methods in the order they were added (a rotation without members comes once,
# with no code): who a rotation may page is known from this one read.
_ROTATIONS = (
    select(
        RotationRow.id,
        RotationRow.code,
        RotationRow.name,
        RotationRow.time_zone,
        RotationRow.shift_length,
        RotationRow.handoff_anchor,
        RotationRow.hours,
        RotationMember.position,
        Analyst.code.label("member"),
        ContactMethod.kind,
        ContactMethod.address,
        ContactMethod.is_opted_out,
    )
    .outerjoin(RotationMember, RotationMember.rotation_id == RotationRow.id)
    .outerjoin(Analyst, Analyst.id == RotationMember.analyst_id)
    .outerjoin(ContactMethod, ContactMethod.analyst_id == Analyst.id)
    .where(RotationRow.code.in_(bindparam("codes", expanding=True)))
    .order_by(RotationRow.id, RotationMember.position, ContactMethod.id)
)
# The other analysts named (by a target or an override), with their contact methods.
_CONTACTS = (
    select(Analyst.code, ContactMethod.kind, ContactMethod.address, ContactMethod.is_opted_out)
    .outerjoin(ContactMethod, ContactMethod.analyst_id == Analyst.id)
    .where(Analyst.code.in_(bindparam("codes", expanding=True)))
    .order_by(Analyst.code, ContactMethod.id)
)
Methods = dict[str, list[tuple[str, str, bool]]]  # analyst code -> (kind, address, STOP)


@dataclass
class _Rotation:
    id: int
    values: RotationValues
    members: list[str] = field(default_factory=list)


def _rotations(session: Session, codes: set[str], methods: Methods) -> dict[str, _Rotation]:
    """Return the rotations of ``codes``; add their members' contact methods to ``methods``."""
    found: dict[str, _Rotation] = {}
    if not codes:
        return found
    last: tuple[int, int] | None = None
    for row in session.connection().execute(_ROTATIONS, {"codes": sorted(codes)}):
        rotation = found.get(row.code)
        if rotation is None:
            values = RotationValues(row.code, row.name, row.time_zone, row.shift_length,
                                    row.handoff_anchor, row.hours)  # fmt: skip
            rotation = found[row.code] = _Rotation(row.id, values)
        if row.member is None:
            continue
        if last != (row.id, row.position):  # a member's first row
            last = (row.id, row.position)
            rotation.members.append(row.member)
            if row.member in methods:
                continue  # in two rotations asked for: its methods are read already
            methods[row.member] = []
            if row.kind is not None:
                methods[row.member].append((row.kind, row.address, bool(row.is_opted_out)))
        elif row.kind is not None and last is not None:
            known = methods[row.member]
            method = (row.kind, row.address, bool(row.is_opted_out))
            if method not in known:
                known.append(method)
    return found


def _recipients(session: Session, codes: set[str], methods: Methods) -> dict[str, Recipient]:
    """Return each existing analyst of ``codes`` as a Recipient, by code; read only the
    contact methods of those not already in ``methods``."""
    missing = sorted(codes - set(methods))
    if missing:
        for row in session.connection().execute(_CONTACTS, {"codes": missing}):
            found = methods.setdefault(row.code, [])
            if row.kind is not None:
                found.append((row.kind, row.address, bool(row.is_opted_out)))
    recipients = {}
    for code in codes:
        if code not in methods:
            continue
        found = methods[code]
        sms = next((m for m in found if m[0] == "sms"), None)
        voice = next((m for m in found if m[0] == "voice"), None)
        recipients[code] = Recipient(
            analyst=code,
            sms=sms[1] if sms else None,
            voice=voice[1] if voice else None,
            sms_stopped=bool(sms and sms[2]),
        )
    return recipients


def resolve_targets(session: Session, targets: Iterable[Target], now: datetime) -> ResolvedRoster:
    """Return who each target is at ``now``."""
    wanted = set(targets)
    roster = ResolvedRoster()
    problems: dict[Target, str] = {}
    methods: Methods = {}
    rotation_codes = {t.ref for t in wanted if t.kind in ("on_call", "rotation")}
    rotations = _rotations(session, rotation_codes, methods)
    in_force = overrides_covering(
        session, (r.id for t, r in _wanted_rotations(wanted, rotations, "on_call")), now
    )
    # Who each target is, by code; then one read of the contact methods of them all.
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
            schedule = schedule_of(rotation.values, rotation.members, in_force[rotation.id])
            code = who_is_on_call(schedule, now)
        except (OnCallError, HoursError, ValueError) as exc:
            problems[target] = f"rotation {target.ref} cannot be read: {exc}"
            continue
        chosen[target] = [code] if code is not None else []
    recipients = _recipients(session, {c for codes in chosen.values() for c in codes}, methods)
    for target, codes in chosen.items():
        if target.kind == "analyst" and target.ref not in recipients:
            problems[target] = f"analyst {target.ref} does not exist"
            continue
        roster.recipients[target] = [recipients[c] for c in codes if c in recipients]
    roster.problems = [problems[t] for t in sorted(problems, key=lambda t: (t.kind, t.ref))]
    return roster


def _wanted_rotations(
    wanted: set[Target], rotations: dict[str, _Rotation], kind: str
) -> list[tuple[Target, _Rotation]]:
    return [(t, rotations[t.ref]) for t in wanted if t.kind == kind and t.ref in rotations]


def resolve_policy(session: Session, policy: Policy, now: datetime) -> ResolvedRoster:
    """Return who every target of the policy is at ``now``."""
    return resolve_targets(session, policy_targets(policy), now)
