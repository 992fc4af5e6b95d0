"""Customers and their contacts from the admin page: add, edit, authorize, remove.

Each edit is checked and written as a whole customer entry (``voiceline.directory.edits``).
Two rules only the database can apply are added here, as the file checker applies them
within one file: a code is not taken twice, and a contact number belongs to one contact,
so that a call from it finds one customer. The loader keys contacts by number and never
deletes them, so changing a number renumbers the contact (its calls stay with it), and
removing one is its own step, refused for a contact with calls on record.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voiceline.admin import audit
from voiceline.customers.models import Contact, Customer
from voiceline.directory.dump import contact_entry, customer_entry
from voiceline.directory.edits import Draft, EntryRefused, changed_keys, check, places, save
from voiceline.directory.forms import Errors, dates_or_text, flag, hours_value, overlay, text
from voiceline.directory.schema import CUSTOMER
from voiceline.incidents.models import Incident
from voiceline.line.models import Call

CUSTOMER_FIELDS = (
    "code",
    "name",
    "time_zone",
    "plan",
    "escalation_policy",
    "business_hours",
    "holidays-country",
    "holidays-subdivision",
    "closures",
    "desk_number",
    "region",
)
CONTACT_FIELDS = ("name", "phone", "role", "authorized")
_CUSTOMER_PLACES = places("customer", CUSTOMER_FIELDS, {"holidays": "holidays-country"})


def customer_form_values(entry: Mapping[str, Any]) -> dict[str, str]:
    """Return a customer entry as the customer form's field values."""
    holidays = entry.get("holidays") or {}
    hours = entry.get("business_hours")
    return {
        "code": entry.get("code", ""),
        "name": entry.get("name", ""),
        "time_zone": entry.get("time_zone", ""),
        "plan": entry.get("plan", ""),
        "escalation_policy": entry.get("escalation_policy", ""),
        "business_hours": "; ".join(hours) if isinstance(hours, list) else (hours or ""),
        "holidays-country": holidays.get("country", ""),
        "holidays-subdivision": holidays.get("subdivision", ""),
        "closures": "\n".join(str(d) for d in entry.get("closures") or []),
        "desk_number": entry.get("desk_number", ""),
        "region": entry.get("region", ""),
    }


def _customer_given(form: Mapping[str, str]) -> dict[str, Any]:
    country, subdivision = text(form, "holidays-country"), text(form, "holidays-subdivision")
    holidays: dict[str, str] | None = None
    if country or subdivision:
        holidays = {"country": country, **({"subdivision": subdivision} if subdivision else {})}
    hours = text(form, "business_hours")
    return {
        "name": text(form, "name"),
        "time_zone": text(form, "time_zone"),
        "holidays": holidays,
        "business_hours": hours_value(hours) if hours else "",
        "closures": dates_or_text(text(form, "closures")),
        "plan": text(form, "plan"),
        "escalation_policy": text(form, "escalation_policy"),
        "desk_number": text(form, "desk_number"),
        "region": text(form, "region").upper(),
    }


def _refuse_taken_numbers(draft: Draft, customer_id: int | None, session: Session) -> None:
    """Refuse a contact number another contact already has (here or at another customer)."""
    contacts = draft.node.get("contacts")
    seen: dict[str, str] = {}
    for index, contact in enumerate(contacts if isinstance(contacts, list) else []):
        number = draft.number(contact, "phone")
        if number is None:
            continue
        place = draft.marked.place_of(("contacts", index, "phone"))
        if number in seen:
            draft.refuse(f"{number} is already the number of {seen[number]}", place)
            continue
        seen[number] = str(contact.get("name"))
        owner = session.scalars(select(Contact).filter_by(phone=number)).one_or_none()
        if owner is not None and owner.customer_id != customer_id:
            draft.refuse(
                f"{number} is already the number of {owner.name} at {owner.customer.name}", place
            )


def save_customer(
    session: Session,
    customer: Customer | None,
    form: Mapping[str, str],
    *,
    actor: str,
    now: datetime,
) -> Customer:
    """Create a customer (``customer`` None) or change one, from the customer form."""
    current: dict[str, Any] = {} if customer is None else customer_entry(customer)
    given = _customer_given(form)
    if customer is None:
        given = {"code": text(form, "code"), **given}
    entry = overlay(current, given, {}, required=CUSTOMER.required)
    draft = check(session, "customers", entry, _CUSTOMER_PLACES)
    code = str(entry.get("code"))
    if customer is None and session.scalars(select(Customer).filter_by(code=code)).first():
        draft.refuse(f"a customer with code {code!r} already exists", ("customer", "code"))
    _refuse_taken_numbers(draft, None if customer is None else customer.id, session)
    action = "customer_created" if customer is None else "customer_updated"
    save(session, draft, actor=actor, now=now, action=action, subject=f"customer {code}", code=code)
    return session.scalars(select(Customer).filter_by(code=code)).one()


def contact_form_values(contact: Contact | None) -> dict[str, str]:
    """Return a contact as the contact form's field values (a new one is authorized)."""
    if contact is None:
        return {"name": "", "phone": "", "role": "primary", "authorized": "y"}
    values = {"name": contact.name, "phone": contact.phone, "role": contact.role}
    return {**values, "authorized": "y"} if contact.is_authorized else values


def _contact_given(form: Mapping[str, str]) -> dict[str, Any]:
    return {
        "name": text(form, "name"),
        "phone": text(form, "phone"),
        "role": text(form, "role"),
        "authorized": flag(form, "authorized"),
    }


def save_contact(
    session: Session,
    customer: Customer,
    contact: Contact | None,
    form: Mapping[str, str],
    *,
    actor: str,
    now: datetime,
    form_name: str = "contact",
) -> Contact:
    """Add a contact to ``customer`` (``contact`` None) or change one, from a contact form.

    Problems are placed beside the fields of the form called ``form_name``.
    """
    entry = customer_entry(customer)
    contacts: list[dict[str, Any]] = entry["contacts"]
    index = len(contacts) if contact is None else customer.contacts.index(contact)
    before: dict[str, Any] = {} if contact is None else contacts[index]
    edited = overlay(
        before,
        _contact_given(form),
        {"authorized": True, "role": "primary"},
        required=("name", "phone"),
    )
    contacts[index:] = [edited, *contacts[index + 1 :]]
    prefix = ("contacts", index)
    contact_place = places(form_name, CONTACT_FIELDS)

    def place_of(path: tuple[str | int, ...]) -> tuple[str, str] | None:
        if path[:2] == prefix:
            return contact_place(path[2:]) if len(path) > 2 else None
        return None

    draft = check(session, "customers", entry, place_of)
    _refuse_taken_numbers(draft, customer.id, session)
    number = draft.number(draft.node["contacts"][index], "phone")
    if draft.errors or number is None:
        raise EntryRefused(draft.errors)
    if contact is not None and contact.phone != number:
        # The loader finds contacts by number: renumber this one first, so it is updated
        # (keeping its calls and incidents) rather than a second contact added.
        contact.phone = number
        session.flush()
    save(
        session,
        draft,
        actor=actor,
        now=now,
        action="",
        subject="",
        code=customer.code,
        recorded=False,
    )
    saved = session.scalars(select(Contact).filter_by(phone=number)).one()
    after = contact_entry(saved)
    changes = changed_keys(before, after)
    if changes:
        action = "contact_added" if contact is None else "contact_updated"
        subject = f"customer {customer.code}"
        audit.record(session, actor, action, subject, at=now, contact=saved.name, **changes)
    return saved


def remove_contact(session: Session, contact: Contact, *, actor: str, now: datetime) -> None:
    """Delete a contact; refused while calls or incidents on record name them."""
    calls = session.scalar(select(func.count(Call.id)).where(Call.contact_id == contact.id)) or 0
    incidents = (
        session.scalar(select(func.count(Incident.id)).where(Incident.contact_id == contact.id))
        or 0
    )
    if calls or incidents:
        message = (
            f"{contact.name} has {calls} call(s) and {incidents} incident(s) on record, which "
            "keep their name; take away their authorization instead (their calls then go "
            "the unknown caller's way)"
        )
        raise EntryRefused(Errors([message]))
    customer = contact.customer
    audit.record(
        session,
        actor,
        "contact_removed",
        f"customer {customer.code}",
        at=now,
        name=contact.name,
        phone=contact.phone,
        role=contact.role,
        authorized=contact.is_authorized,
    )
    customer.contacts.remove(contact)
    session.flush()
