"""Plans from the admin page: their hours, cover, billing, credit rule and SLA targets.

The form holds one row per target and a blank row to add one; a row ticked "remove",
or left blank, is left out. The plan is checked and written as a whole entry
(``voiceline.directory.edits``), so a target left out is deleted, as loading a file
without it would.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from voiceline.customers.models import Plan
from voiceline.directory.dump import plan_entry
from voiceline.directory.edits import check, places, save
from voiceline.directory.forms import Path, Place, flag, hours_text, hours_value, overlay, text
from voiceline.directory.schema import PLAN

PLAN_FIELDS = (
    "code",
    "name",
    "business_hours",
    "after_hours_cover",
    "cover_hours",
    "callback_target",
    "billable_emergency",
    "billable_rate",
    "monthly_fee",
    "credit-per",
    "credit-percent_of_monthly_fee",
    "credit-cap_percent",
    "credit-metrics",
    "targets",
)
TARGET_FIELDS = ("metric", "priority", "within", "clock", "pausable")
CREDIT_METRICS = ("callback", "restoration")
MAX_TARGET_ROWS = 50
_DECIMAL = re.compile(r"^-?\d{1,9}(\.\d{1,6})?$")


def number_or_text(raw: str) -> int | float | str:
    """Return a typed number as YAML reads it (10 or 12.5), anything else as typed."""
    if not _DECIMAL.match(raw):
        return raw
    return float(raw) if "." in raw else int(raw)


def plan_form_values(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Return a plan entry as the plan form's values (targets as a list of rows)."""
    credit = entry.get("credit") or {}
    callback = entry.get("callback_target")
    return {
        "code": entry.get("code", ""),
        "name": entry.get("name", ""),
        "business_hours": hours_text(entry.get("business_hours")),
        "after_hours_cover": bool(entry.get("after_hours_cover")),
        "cover_hours": hours_text(entry.get("cover_hours")),
        "callback_target": "" if callback is None else str(callback),
        "billable_emergency": bool(entry.get("billable_emergency")),
        "billable_rate": str(entry.get("billable_rate") or ""),
        "monthly_fee": str(entry.get("monthly_fee") or ""),
        "credit-per": str(credit.get("per", "breach")) if credit else "",
        "credit-percent_of_monthly_fee": str(credit.get("percent_of_monthly_fee", "")),
        "credit-cap_percent": str(credit.get("cap_percent", "")),
        "credit-metrics": list(credit.get("metrics") or []),
        "targets": [
            {
                "metric": t.get("metric", ""),
                "priority": str(t.get("priority", "")),
                "within": str(t.get("within", "")),
                "clock": t.get("clock", "wall"),
                "pausable": bool(t.get("pausable")),
            }
            for t in entry.get("targets") or []
        ],
    }


def _credit(form: MultiDict[str, str], current: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return the credit rule the form describes, or None for a plan without one."""
    per = text(form, "credit-per")
    if not per:
        return None
    # One kind of credit exists; a rule that did not name it keeps not naming it.
    credit: dict[str, Any] = {"kind": "prorated"} if "kind" in current or not current else {}
    credit["per"] = per
    for key in ("percent_of_monthly_fee", "cap_percent"):
        raw = text(form, f"credit-{key}")
        if raw:
            credit[key] = number_or_text(raw)
    metrics = [m for m in form.getlist("credit-metrics") if m]
    if metrics:
        credit["metrics"] = metrics
    return credit


def _targets(form: Mapping[str, str]) -> tuple[list[dict[str, Any]], list[int]]:
    """Return the target rows kept, and the form row each came from."""
    targets: list[dict[str, Any]] = []
    rows: list[int] = []
    for row in range(MAX_TARGET_ROWS):
        prefix = f"targets-{row}-"
        if f"{prefix}metric" not in form and f"{prefix}within" not in form:
            continue
        values = {key: text(form, prefix + key) for key in ("metric", "priority", "within")}
        if flag(form, f"{prefix}remove") or not any(values.values()):
            continue
        target: dict[str, Any] = {**values, "clock": text(form, f"{prefix}clock") or "wall"}
        if flag(form, f"{prefix}pausable"):
            target["pausable"] = True
        targets.append(target)
        rows.append(row)
    return targets, rows


def save_plan(
    session: Session, plan: Plan | None, form: MultiDict[str, str], *, actor: str, now: datetime
) -> Plan:
    """Create a plan (``plan`` None) or change one, from the plan form."""
    current: dict[str, Any] = {} if plan is None else plan_entry(plan)
    targets, rows = _targets(form)
    business, cover = text(form, "business_hours"), text(form, "cover_hours")
    given: dict[str, Any] = {
        "name": text(form, "name"),
        "business_hours": hours_value(business) if business else "",
        "after_hours_cover": flag(form, "after_hours_cover"),
        "cover_hours": hours_value(cover) if cover else "",
        "callback_target": text(form, "callback_target"),
        "billable_emergency": flag(form, "billable_emergency"),
        "billable_rate": text(form, "billable_rate"),
        "monthly_fee": text(form, "monthly_fee"),
        "credit": _credit(form, current.get("credit") or {}),
        "targets": targets,
    }
    if plan is None:
        given = {"code": text(form, "code"), **given}
    entry = overlay(current, given, {}, required=PLAN.required)
    # A problem with the credit rule as a whole is shown at its first field; one with a
    # target row (a second target for a priority) at the row's metric.
    plan_places = places("plan", PLAN_FIELDS, {"credit": "credit-per"})
    target_places = {
        f"targets-{index}": f"targets-{row}-metric" for index, row in enumerate(rows)
    } | {
        f"targets-{index}-{key}": f"targets-{row}-{key}"
        for index, row in enumerate(rows)
        for key in TARGET_FIELDS
    }

    def place_of(path: Path) -> Place | None:
        name = "-".join(str(part) for part in path)
        if name in target_places:
            return ("plan", target_places[name])
        return plan_places(path)

    draft = check(session, "plans", entry, place_of)
    code = str(entry.get("code"))
    if plan is None and session.scalars(select(Plan).filter_by(code=code)).first():
        draft.refuse(f"a plan with code {code!r} already exists", ("plan", "code"))
    action = "plan_created" if plan is None else "plan_updated"
    save(session, draft, actor=actor, now=now, action=action, subject=f"plan {code}", code=code)
    return session.scalars(select(Plan).filter_by(code=code)).one()
