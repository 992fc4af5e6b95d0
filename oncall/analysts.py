"""Analysts from the admin page: add and edit them, with their paging numbers checked.

Numbers are read with ``voiceline.phones.to_e164`` in the service's default region and
stored in E.164. An analyst has an SMS number and a voice number (the SMS number when
left blank). Changing a number keeps nothing of the old one; keeping it keeps its
opt-out state, which only the analyst can lift by texting START.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncall.edits import FormError, check_code, new_token
from oncall.models import Analyst, ContactMethod
from voiceline.admin import audit
from voiceline.customers.models import ServiceSetting
from voiceline.phones import PhoneNumberError, to_e164

MAX_NAME = 200


def default_region(session: Session) -> str:
    """Return the region national numbers are read in (the directory's, else US)."""
    setting = session.get(ServiceSetting, "service")
    region = setting.value.get("default_region") if setting is not None else None
    return str(region or "US")


def numbers_of(analyst: Analyst) -> dict[str, str]:
    """Return the analyst's numbers by kind (sms, voice)."""
    return {m.kind: m.address for m in analyst.contact_methods}


def _describe(analyst: Analyst) -> dict[str, Any]:
    return {"name": analyst.name, "email": analyst.email, **numbers_of(analyst)}


def _fields(session: Session, form: Mapping[str, str], errors: dict[str, str]) -> dict[str, Any]:
    name = (form.get("name") or "").strip()
    if not name:
        errors["name"] = "enter a name"
    elif len(name) > MAX_NAME:
        errors["name"] = f"use at most {MAX_NAME} characters"
    email = (form.get("email") or "").strip() or None
    if email is not None and (
        "@" not in email or len(email) > 200 or any(c.isspace() for c in email)
    ):
        errors["email"] = "enter an email address like alex@example.com, or leave it blank"
    region = default_region(session)
    numbers: dict[str, str] = {}
    for kind in ("sms", "voice"):
        raw = (form.get(kind) or "").strip()
        if not raw:
            continue
        try:
            numbers[kind] = to_e164(raw, region)
        except PhoneNumberError as exc:
            errors[kind] = f"{exc}; enter it with its country code, e.g. +1 503 555 0123"
    if "sms" not in numbers and "sms" not in errors:
        errors["sms"] = "enter the number pages are texted to"
    if "voice" not in numbers and "sms" in numbers:
        numbers["voice"] = numbers["sms"]
    return {"name": name, "email": email, "numbers": numbers}


def _set_numbers(analyst: Analyst, numbers: Mapping[str, str]) -> None:
    for method in list(analyst.contact_methods):
        if numbers.get(method.kind) != method.address:
            analyst.contact_methods.remove(method)
    have = {m.kind for m in analyst.contact_methods}
    for kind, address in sorted(numbers.items()):
        if kind not in have:
            analyst.contact_methods.append(ContactMethod(kind=kind, address=address))


def create_analyst(
    session: Session, form: Mapping[str, str], *, actor: str, now: datetime
) -> Analyst:
    """Add an analyst from ``form`` (code, name, email, sms, voice)."""
    errors: dict[str, str] = {}
    code = check_code(form.get("code") or "", errors)
    fields = _fields(session, form, errors)
    if "code" not in errors and session.scalars(select(Analyst).filter_by(code=code)).first():
        errors["code"] = f"an analyst with code {code!r} already exists"
    if errors:
        raise FormError(errors)
    analyst = Analyst(
        code=code, name=fields["name"], email=fields["email"], calendar_token=new_token()
    )
    session.add(analyst)
    _set_numbers(analyst, fields["numbers"])
    session.flush()
    audit.record(session, actor, "analyst_created", f"analyst {code}", at=now, **_describe(analyst))
    return analyst


def update_analyst(
    session: Session, analyst: Analyst, form: Mapping[str, str], *, actor: str, now: datetime
) -> None:
    """Change an analyst's name, email and numbers."""
    errors: dict[str, str] = {}
    fields = _fields(session, form, errors)
    if errors:
        raise FormError(errors)
    before = _describe(analyst)
    analyst.name, analyst.email = fields["name"], fields["email"]
    _set_numbers(analyst, fields["numbers"])
    session.flush()
    after = _describe(analyst)
    changed = {
        k: {"from": before.get(k), "to": after.get(k)}
        for k in after | before
        if before.get(k) != after.get(k)
    }
    if changed:
        audit.record(
            session, actor, "analyst_updated", f"analyst {analyst.code}", at=now, **changed
        )


def reset_calendar_token(session: Session, analyst: Analyst, *, actor: str, now: datetime) -> None:
    """Give the analyst a new feed link; the old one stops working at once."""
    analyst.calendar_token = new_token()
    audit.record(session, actor, "calendar_link_reset", f"analyst {analyst.code}", at=now)
