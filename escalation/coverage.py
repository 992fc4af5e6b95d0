"""Coverage warnings for the admin home: where the next fortnight has nobody on call.

Three kinds, each listing its windows:

* ``rotation_gap``: inside a rotation's own hours (or at any time, for a rotation without
  hours) nobody is on call. Outside its hours a restricted rotation is off by design.
* ``step_gap``: an escalation step would find nobody while at least one of its targets
  is meant to be on call (see ``oncall.reach``), so the step is skipped.
* ``unreached``: every step of a policy finds nobody, so an emergency would page no one.
* ``config``: a rotation or policy that cannot be read at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.errors import PolicyError
from escalation.models import EscalationPolicy
from escalation.policy import Target, policy_from_dict
from oncall.coverage import Gap, coverage_gaps
from oncall.models import Analyst
from oncall.models import Rotation as RotationRow
from oncall.reach import StepTarget, step_gaps, unreached
from oncall.rotation import OnCallError
from oncall.store import hours_of, load_rotations, schedule_for

Kind = Literal["rotation_gap", "step_gap", "unreached", "config"]
HORIZON_DAYS = 14


@dataclass(frozen=True)
class CoverageWarning:
    """Something an admin should fix before it bites, with the windows it affects."""

    kind: Kind
    subject: str
    message: str
    time_zone: str
    gaps: tuple[Gap, ...] = ()
    rotation_code: str | None = None

    @property
    def is_critical(self) -> bool:
        """Return True when an emergency could page nobody at all."""
        return self.kind in ("unreached", "config")


def _step_target(
    target: Target, rotations: dict[str, RotationRow], analysts: set[str]
) -> StepTarget:
    label = f"{target.kind.replace('_', ' ')}: {target.ref}"
    if target.kind == "analyst":
        return StepTarget(label, "always" if target.ref in analysts else "never")
    row = rotations.get(target.ref)
    if row is None:
        return StepTarget(label, "never")
    if target.kind == "rotation":
        return StepTarget(label, "always" if row.members else "never")
    return StepTarget(label, "schedule", schedule_for(row), hours_of(row))


def coverage_warnings(
    session: Session, now: datetime, days: int = HORIZON_DAYS
) -> list[CoverageWarning]:
    """Return every coverage warning for the ``days`` days from ``now``."""
    end = now + timedelta(days=days)
    warnings: list[CoverageWarning] = []
    rows = load_rotations(session)
    rotations = {row.code: row for row in rows}
    readable: dict[str, RotationRow] = {}
    for row in rows:
        try:
            gaps = coverage_gaps(schedule_for(row), now, end, hours_of(row))
        except OnCallError as exc:
            warnings.append(
                CoverageWarning("config", row.name, str(exc), row.time_zone, (), row.code)
            )
            continue
        readable[row.code] = row
        if gaps:
            where = "inside its hours" if row.hours is not None else ""
            message = f"nobody is on call {where}".strip()
            warnings.append(
                CoverageWarning(
                    "rotation_gap", row.name, message, row.time_zone, tuple(gaps), row.code
                )
            )
    analysts = set(session.scalars(select(Analyst.code)))
    default_zone = rows[0].time_zone if rows else "UTC"
    for policy_row in session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.name)):
        subject = f"Escalation policy {policy_row.name}"
        try:
            policy = policy_from_dict(
                {"name": policy_row.name, "repeat": policy_row.repeat, "steps": policy_row.steps}
            )
        except PolicyError as exc:
            warnings.append(CoverageWarning("config", subject, str(exc), default_zone))
            continue
        steps = [
            [_step_target(t, readable, analysts) for t in step.targets] for step in policy.steps
        ]
        zones = [t.schedule.time_zone for s in steps for t in s if t.schedule is not None]
        zone_name = zones[0] if zones else default_zone
        for number, (step, targets) in enumerate(zip(policy.steps, steps, strict=True), 1):
            missing = [
                t.ref for t in step.targets if t.kind != "analyst" and t.ref not in rotations
            ]
            gaps = step_gaps(targets, now, end)
            if missing:
                message = f"step {number} names unknown rotation {', '.join(missing)}"
                warnings.append(CoverageWarning("config", subject, message, zone_name))
            elif gaps:
                names = ", ".join(t.label for t in targets)
                message = f"step {number} ({names}) would find nobody on call"
                warnings.append(
                    CoverageWarning("step_gap", subject, message, zone_name, tuple(gaps))
                )
        nobody = unreached(steps, now, end)
        if nobody:
            message = "every step finds nobody: an emergency would page no one"
            warnings.append(
                CoverageWarning("unreached", subject, message, zone_name, tuple(nobody))
            )
    return warnings
