"""Rotas in the database, read as the pure ``oncall`` values.

``schedule_for(row)`` turns a ``Rotation`` row with its members and overrides into a
``Schedule`` of one layer (named after the rotation's code) that runs only inside the
rotation's hours. Analysts are named by their codes unless a ``label`` says otherwise.
An override applies to that layer: one with no replaced analyst holds the rotation
whoever's turn it is, one that replaces an analyst takes that analyst's turns, and
neither puts anybody on call outside the rotation's hours (the desk is staffed then).
The pager resolves on-call targets with the same rule (``escalation.roster``), so the
admin timeline shows exactly who would be paged. Times stay in UTC.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from oncall.models import Analyst, RotationMember
from oncall.models import Override as OverrideRow
from oncall.models import Rotation as RotationRow
from oncall.rotation import Rotation, RotationError, parse_shift_length
from oncall.schedule import Layer, Override, Schedule, who_is_on_call
from voiceline.hours import Hours, HoursError, parse_hours

Label = Callable[[Analyst], str]


def by_code(analyst: Analyst) -> str:
    """Name an analyst by code: unique, and what policies and the roster use."""
    return analyst.code


def unique_name_label(session: Session) -> Label:
    """Return a label naming analysts by name, adding the code where two share a name."""
    counts = Counter(session.scalars(select(Analyst.name)))
    shared = {name for name, count in counts.items() if count > 1}

    def label(analyst: Analyst) -> str:
        return f"{analyst.name} ({analyst.code})" if analyst.name in shared else analyst.name

    return label


def parse_anchor(text: str) -> datetime:
    """Return the stored handoff anchor (local wall time, ISO) as a naive datetime."""
    try:
        anchor = datetime.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise RotationError(
            f"cannot read handoff time {text!r}; use e.g. 2026-01-05T08:00"
        ) from exc
    if anchor.tzinfo is not None:
        raise RotationError(
            f"handoff time {text!r} is a local wall time; leave out the offset or zone"
        )
    return anchor


def rotation_hours(code: str, hours: Iterable[Any] | None) -> Hours | None:
    """Return a rotation's stored weekly hours parsed, or None when it is always active."""
    if hours is None:
        return None
    try:
        return parse_hours(list(hours))
    except HoursError as exc:
        raise RotationError(f"rotation {code!r}: {exc}") from exc


def hours_of(row: RotationRow) -> Hours | None:
    """Return the rotation's weekly hours, or None when it is always active."""
    return rotation_hours(row.code, row.hours)


@dataclass(frozen=True)
class RotationValues:
    """A rotation's stored fields as plain values: what a schedule is built from."""

    code: str
    name: str
    time_zone: str
    shift_length: str
    handoff_anchor: str
    hours: list[Any] | None


def rotation_of(values: RotationValues | RotationRow, members: Sequence[str]) -> Rotation:
    """Return the pure Rotation of a rotation's fields and its members in position order."""
    return Rotation(
        name=values.name,
        time_zone=values.time_zone,
        members=tuple(members),
        shift=parse_shift_length(values.shift_length),
        anchor=parse_anchor(values.handoff_anchor),
    )


def rotation_for(row: RotationRow, *, label: Label = by_code) -> Rotation:
    """Return the pure Rotation of a rotation row, members in position order."""
    members = [label(m.analyst) for m in sorted(row.members, key=lambda m: m.position)]
    return rotation_of(row, members)


def schedule_of(
    values: RotationValues | RotationRow, members: Sequence[str], overrides: Iterable[Override]
) -> Schedule:
    """Return a rotation's Schedule: one layer named by its code, inside its hours.

    ``overrides`` are pure Overrides in their stored order (start, then id), for any layer;
    each is put on the rotation's layer, as ``schedule_for`` does.
    """
    try:
        hours = None if values.hours is None else tuple(values.hours)
        layer = _layer(values.code, values.name, values.time_zone, values.shift_length,
                       values.handoff_anchor, hours, tuple(members))  # fmt: skip
    except TypeError:  # stored hours that are not plain text: not kept, refused as before
        layer = Layer(
            values.code, rotation_of(values, members), rotation_hours(values.code, values.hours)
        )
    return Schedule(
        values.name,
        values.time_zone,
        (layer,),
        tuple(replace(o, layer=values.code) for o in overrides),
    )


# The pager builds a rotation's layer at every escalation step from the same stored fields:
# it is made once per distinct fields and members, the key being the values themselves
# (read in the caller's transaction), so an edit is a new key and nothing goes stale.
@lru_cache(maxsize=1024)
def _layer(
    code: str,
    name: str,
    time_zone: str,
    shift_length: str,
    handoff_anchor: str,
    hours: tuple[Any, ...] | None,
    members: tuple[str, ...],
) -> Layer:
    values = RotationValues(code, name, time_zone, shift_length, handoff_anchor,
                            None if hours is None else list(hours))  # fmt: skip
    return Layer(code, rotation_of(values, members), rotation_hours(code, hours))


def override_for(row: OverrideRow, layer: str, *, label: Label = by_code) -> Override:
    """Return the pure Override of an override row, applying to ``layer``."""
    return Override(
        analyst=label(row.analyst),
        start=row.starts_at,
        end=row.ends_at,
        replaces=None if row.replaces is None else label(row.replaces),
        layer=layer,
    )


def schedule_for(row: RotationRow, *, label: Label = by_code) -> Schedule:
    """Return the Schedule of a rotation row: one layer inside its hours, plus its overrides."""
    layer = Layer(row.code, rotation_for(row, label=label), hours_of(row))
    ordered = sorted(row.overrides, key=lambda o: (o.starts_at, o.id or 0))
    return Schedule(
        row.name,
        row.time_zone,
        (layer,),
        tuple(override_for(o, row.code, label=label) for o in ordered),
    )


def load_rotations(session: Session) -> list[RotationRow]:
    """Return every rotation with members, analysts and overrides loaded, by name."""
    query = (
        select(RotationRow)
        .options(
            selectinload(RotationRow.members).selectinload(RotationMember.analyst),
            selectinload(RotationRow.overrides).selectinload(OverrideRow.analyst),
            selectinload(RotationRow.overrides).selectinload(OverrideRow.replaces),
        )
        .order_by(RotationRow.name, RotationRow.id)
    )
    return list(session.scalars(query))


def rotation_by_code(session: Session, code: str) -> RotationRow | None:
    """Return the rotation with ``code``, or None."""
    return session.scalars(select(RotationRow).filter_by(code=code)).one_or_none()


def rotation_by_token(session: Session, token: str) -> RotationRow | None:
    """Return the rotation whose calendar token is ``token``, or None."""
    if not token:
        return None
    return session.scalars(select(RotationRow).filter_by(calendar_token=token)).one_or_none()


def analyst_by_token(session: Session, token: str) -> Analyst | None:
    """Return the analyst whose calendar token is ``token``, or None."""
    if not token:
        return None
    return session.scalars(select(Analyst).filter_by(calendar_token=token)).one_or_none()


def on_call_now(session: Session, code: str, now: datetime) -> Analyst | None:
    """Return the analyst on call for rotation ``code`` at ``now``, or None."""
    row = rotation_by_code(session, code)
    if row is None:
        return None
    who = who_is_on_call(schedule_for(row), now)
    if who is None:
        return None
    return session.scalars(select(Analyst).filter_by(code=who)).one_or_none()


def upcoming_overrides(row: RotationRow, now: datetime) -> list[OverrideRow]:
    """Return the rotation's overrides that have not ended, soonest first."""
    return sorted((o for o in row.overrides if o.ends_at > now), key=lambda o: o.starts_at)


def describe(row: RotationRow) -> dict[str, Any]:
    """Return the rotation's editable fields as plain values, for the audit log."""
    return {
        "name": row.name,
        "time_zone": row.time_zone,
        "shift": row.shift_length,
        "handoff": row.handoff_anchor,
        "hours": None if row.hours is None else list(row.hours),
    }
