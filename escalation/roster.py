"""Who a policy's targets are right now: rotations, overrides and contact methods from the DB.

The engine takes a ``Roster`` (target -> recipients) and knows nothing of the database.
This module builds it at ``now``: an ``on_call`` target is resolved by the pure on-call
code (``oncall.schedule.who_is_on_call``) over a schedule built from the rotation's rows
(its members in order, its weekly hours, its overrides); a ``rotation`` target is every
member; an ``analyst`` target is that analyst. Each analyst becomes a ``Recipient`` with
their SMS and voice numbers, and ``sms_stopped`` when the SMS number texted STOP.

A target whose rotation or analyst no longer exists, or whose rotation data cannot be
read, is left out of the roster: the engine logs it as unresolved, and ``problems`` says
why, for the incident log. A target that resolves to nobody maps to an empty list, and
the engine skips the step at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from escalation.policy import Policy, Target, policy_targets
from escalation.state import Recipient
from oncall.models import Analyst, RotationMember
from oncall.models import Override as OverrideRow
from oncall.models import Rotation as RotationRow
from oncall.rotation import OnCallError
from oncall.schedule import who_is_on_call
from oncall.store import overrides_covering, schedule_for
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


def resolve_targets(session: Session, targets: Iterable[Target], now: datetime) -> ResolvedRoster:
    """Return who each target is at ``now``."""
    wanted = set(targets)
    roster = ResolvedRoster()
    rotation_codes = {t.ref for t in wanted if t.kind in ("on_call", "rotation")}
    rotations = {
        row.code: row
        for row in session.scalars(
            select(RotationRow)
            .where(RotationRow.code.in_(rotation_codes))
            .options(
                selectinload(RotationRow.members)
                .selectinload(RotationMember.analyst)
                .selectinload(Analyst.contact_methods),
            )
        )
    }
    in_force = overrides_covering(session, (r.id for r in rotations.values()), now)
    analysts = _analysts_needed(session, wanted, rotations.values(), in_force)
    for target in sorted(wanted, key=lambda t: (t.kind, t.ref)):
        if target.kind == "analyst":
            analyst = analysts.get(target.ref)
            if analyst is None:
                roster.problems.append(f"analyst {target.ref} does not exist")
                continue
            roster.recipients[target] = [recipient_of(analyst)]
            continue
        rotation = rotations.get(target.ref)
        if rotation is None:
            roster.problems.append(f"rotation {target.ref} does not exist")
            continue
        if target.kind == "rotation":
            roster.recipients[target] = [recipient_of(m.analyst) for m in rotation.members]
            continue
        try:
            code = who_is_on_call(schedule_for(rotation, overrides=in_force[rotation.id]), now)
        except (OnCallError, HoursError, ValueError) as exc:
            roster.problems.append(f"rotation {target.ref} cannot be read: {exc}")
            continue
        on_call = analysts.get(code) if code is not None else None
        roster.recipients[target] = [recipient_of(on_call)] if on_call is not None else []
    return roster


def resolve_policy(session: Session, policy: Policy, now: datetime) -> ResolvedRoster:
    """Return who every target of the policy is at ``now``."""
    return resolve_targets(session, policy_targets(policy), now)


def _analysts_needed(
    session: Session,
    targets: set[Target],
    rotations: Iterable[RotationRow],
    in_force: dict[int, list[OverrideRow]],
) -> dict[str, Analyst]:
    """Return the named analysts and anyone an override in force may put on call, by code."""
    codes = {t.ref for t in targets if t.kind == "analyst"}
    for rotation in rotations:
        codes.update(m.analyst.code for m in rotation.members)
        codes.update(o.analyst.code for o in in_force[rotation.id])
    if not codes:
        return {}
    found = session.scalars(
        select(Analyst)
        .where(Analyst.code.in_(codes))
        .options(selectinload(Analyst.contact_methods))
    )
    return {a.code: a for a in found}
