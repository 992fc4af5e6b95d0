"""The service settings from the admin page: the line's numbers, name, hours and defaults.

The service block is checked and written as a whole (``voiceline.directory.edits``);
keys the form does not show (the prompts) are kept as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from voiceline.directory.dump import service_entry
from voiceline.directory.edits import check, places, save
from voiceline.directory.forms import flag, hours_text, hours_value, overlay, text

TEXT_FIELDS = (
    "name",
    "emergency_number",
    "desk_number",
    "default_region",
    "time_zone",
    "business_hours",
    "holiday_country",
    "holiday_subdivision",
    "default_escalation_policy",
    "remind_before",
)
FLAGS = ("transcribe", "page_unverified")
SERVICE_FIELDS = (*TEXT_FIELDS, *FLAGS)


def service_form_values(entry: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the service block as the service form's values."""
    entry = entry or {}
    values: dict[str, Any] = {key: str(entry.get(key) or "") for key in TEXT_FIELDS}
    values["business_hours"] = hours_text(entry.get("business_hours"))
    values.update({key: bool(entry.get(key)) for key in FLAGS})
    return values


def save_service(
    session: Session, form: Mapping[str, str], *, actor: str, now: datetime
) -> dict[str, Any]:
    """Change the service settings from the service form; return the keys that changed."""
    current = service_entry(session) or {}
    given: dict[str, Any] = {key: text(form, key) for key in TEXT_FIELDS}
    given["default_region"] = given["default_region"].upper()
    hours = given["business_hours"]
    given["business_hours"] = hours_value(hours) if hours else ""
    given.update({key: flag(form, key) for key in FLAGS})
    entry = overlay(current, given, dict.fromkeys(FLAGS, False))
    draft = check(session, "service", entry, places("service", SERVICE_FIELDS))
    before, after = save(
        session, draft, actor=actor, now=now, action="service_updated", subject="service"
    )
    return {k: v for k, v in after.items() if (before or {}).get(k) != v}
