"""Escalation policies from the admin page: steps with their targets, channels and delay,
and how many times the steps repeat.

Each step is a row of the form: the delay, a box per channel, and a list of targets,
each picked as ``kind:code`` (``on_call:tier1``, ``rotation:tier2``, ``analyst:alex``).
A blank step row adds a step; a step ticked "remove", or left blank, is left out. The
policy is checked by the escalation engine's own rules through the directory checker
(``voiceline.directory.edits``), and stored in the engine's form, as a load stores it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from escalation.models import EscalationPolicy
from escalation.policy import CHANNELS
from voiceline.directory.dump import policy_entry
from voiceline.directory.edits import check, places, save
from voiceline.directory.forms import Path, Place, overlay, text, whole_or_text
from voiceline.directory.schema import POLICY

POLICY_FIELDS = ("code", "name", "repeat", "steps")
MAX_STEP_ROWS = 30
TARGET_KINDS = {
    "on_call": "On call now in",
    "rotation": "Everyone in",
    "analyst": "Analyst",
}


def target_value(target: Mapping[str, Any]) -> str:
    """Return a step target such as ``{on_call: tier1}`` as the form's ``on_call:tier1``."""
    ((kind, ref),) = target.items()
    return f"{kind}:{ref}"


def policy_form_values(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Return a policy entry as the policy form's values (steps as a list of rows)."""
    steps = []
    for step in entry.get("steps") or []:
        channels = step.get("channels")
        if channels is None or channels == "both":
            channels = list(CHANNELS)
        elif isinstance(channels, str):
            channels = [channels]
        steps.append(
            {
                "delay": str(step.get("delay", "")),
                "channels": list(channels),
                "targets": [target_value(t) for t in step.get("targets") or []],
            }
        )
    repeat = entry.get("repeat")
    return {
        "code": entry.get("code", ""),
        "name": entry.get("name", ""),
        "repeat": "" if repeat is None else str(repeat),
        "steps": steps,
    }


def _target(value: str) -> dict[str, str]:
    """Return the target a form's ``kind:code`` names; the checker judges kind and code."""
    kind, _, ref = value.partition(":")
    return {kind: ref}


def _steps(form: MultiDict[str, str]) -> tuple[list[dict[str, Any]], list[int]]:
    """Return the steps kept, and the form row each came from."""
    steps: list[dict[str, Any]] = []
    rows: list[int] = []
    for row in range(MAX_STEP_ROWS):
        prefix = f"steps-{row}-"
        if f"{prefix}delay" not in form:
            continue
        delay = text(form, f"{prefix}delay")
        targets = [_target(v.strip()) for v in form.getlist(f"{prefix}target") if v.strip()]
        if f"{prefix}remove" in form or not (delay or targets):
            continue
        channels = [c for c in form.getlist(f"{prefix}channels") if c]
        steps.append({"targets": targets, "channels": channels, "delay": delay})
        rows.append(row)
    return steps, rows


def save_policy(
    session: Session,
    policy: EscalationPolicy | None,
    form: MultiDict[str, str],
    *,
    actor: str,
    now: datetime,
) -> EscalationPolicy:
    """Create a policy (``policy`` None) or change one, from the policy form."""
    current: dict[str, Any] = {} if policy is None else policy_entry(policy)
    steps, rows = _steps(form)
    repeat = text(form, "repeat")
    given: dict[str, Any] = {
        "name": text(form, "name"),
        "repeat": whole_or_text(repeat) if repeat else 0,
        "steps": steps,
    }
    if policy is None:
        given = {"code": text(form, "code"), **given}
    entry = overlay(current, given, {}, required=POLICY.required)
    policy_places = places("policy", POLICY_FIELDS)

    def place_of(path: Path) -> Place | None:
        # The engine names the step it refuses; the checker points at that step.
        if len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int):
            return ("policy", f"steps-{rows[path[1]]}")
        return policy_places(path)

    draft = check(session, "policies", entry, place_of)
    code = str(entry.get("code"))
    if policy is None and session.scalars(select(EscalationPolicy).filter_by(code=code)).first():
        draft.refuse(f"a policy with code {code!r} already exists", ("policy", "code"))
    action = "policy_created" if policy is None else "policy_updated"
    save(session, draft, actor=actor, now=now, action=action, subject=f"policy {code}", code=code)
    return session.scalars(select(EscalationPolicy).filter_by(code=code)).one()
