"""A customer's pages: its settings, and its contacts (add, change, authorize, remove)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from voiceline.admin.auth import current_admin, login_required
from voiceline.customers.models import Contact, Customer
from voiceline.db import request_session
from voiceline.directory.customer_edits import (
    contact_form_values,
    customer_form_values,
    remove_contact,
    save_contact,
    save_customer,
)
from voiceline.directory.dump import customer_entry
from voiceline.directory.forms import EntryRefused, Errors
from voiceline.directory.views.blueprint import (
    bp,
    by_code_or_404,
    now,
    plan_choices,
    policy_choices,
)
from voiceline.phones import display


def _contact_or_404(customer: Customer, contact_id: int) -> Contact:
    contact = request_session().get(Contact, contact_id)
    if contact is None or contact.customer_id != customer.id:
        abort(404)
    return contact


def _page(
    customer: Customer | None,
    *,
    errors: Errors | None = None,
    values: dict[str, Any] | None = None,
    contact_values: dict[str, dict[str, Any]] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    db = request_session()
    current = customer_form_values(customer_entry(customer) if customer else {})
    contacts = []
    for contact in customer.contacts if customer else []:
        key = f"contact-{contact.id}"
        contacts.append(
            {
                "row": contact,
                "form": key,
                "shown": display(contact.phone),
                "values": {**contact_form_values(contact), **(contact_values or {}).get(key, {})},
            }
        )
    new_contact = {**contact_form_values(None), **(contact_values or {}).get("contact", {})}
    page = render_template(
        "directory/customer.html",
        customer=customer,
        values={**current, **(values or {})},
        contacts=contacts,
        new_contact=new_contact,
        errors=errors or Errors(),
        plans=plan_choices(db),
        policies=policy_choices(db),
    )
    return page, status


def _refused(customer: Customer | None, exc: EntryRefused, **kwargs: Any) -> ResponseReturnValue:
    request_session().rollback()
    if customer is not None:
        customer = by_code_or_404(Customer, customer.code)
    return _page(customer, errors=exc.errors, status=422, **kwargs)


@bp.get("/customers/new")
@login_required
def new_customer() -> ResponseReturnValue:
    """Show the form for a new customer."""
    return _page(None)


@bp.post("/customers")
@login_required
def create_customer() -> ResponseReturnValue:
    """Add a customer."""
    db = request_session()
    try:
        customer = save_customer(db, None, request.form, actor=current_admin(), now=now())
    except EntryRefused as exc:
        return _refused(None, exc, values=request.form.to_dict())
    db.commit()
    flash(f"{customer.name} added. Now add the people who may call.", "ok")
    return redirect(url_for("directory.customer", code=customer.code))


@bp.get("/customers/<code>")
@login_required
def customer(code: str) -> ResponseReturnValue:
    """Show a customer's settings and contacts, each with its form."""
    return _page(by_code_or_404(Customer, code))


@bp.post("/customers/<code>")
@login_required
def update_customer(code: str) -> ResponseReturnValue:
    """Save a customer's settings."""
    db = request_session()
    found = by_code_or_404(Customer, code)
    try:
        save_customer(db, found, request.form, actor=current_admin(), now=now())
    except EntryRefused as exc:
        return _refused(found, exc, values=request.form.to_dict())
    db.commit()
    flash("Customer saved.", "ok")
    return redirect(url_for("directory.customer", code=code))


@bp.post("/customers/<code>/contacts")
@login_required
def add_contact(code: str) -> ResponseReturnValue:
    """Add a contact to a customer."""
    db = request_session()
    found = by_code_or_404(Customer, code)
    try:
        contact = save_contact(db, found, None, request.form, actor=current_admin(), now=now())
    except EntryRefused as exc:
        return _refused(found, exc, contact_values={"contact": _contact_values()})
    db.commit()
    flash(f"{contact.name} added.", "ok")
    return redirect(url_for("directory.customer", code=code, _anchor="contacts"))


def _contact_values() -> dict[str, Any]:
    values: dict[str, Any] = request.form.to_dict()
    values.pop("authorized", None)
    return {**values, **({"authorized": "y"} if "authorized" in request.form else {})}


@bp.post("/customers/<code>/contacts/<int:contact_id>")
@login_required
def update_contact(code: str, contact_id: int) -> ResponseReturnValue:
    """Save a contact's name, number, role and authorization."""
    db = request_session()
    found = by_code_or_404(Customer, code)
    contact = _contact_or_404(found, contact_id)
    form_name = f"contact-{contact_id}"
    try:
        save_contact(
            db, found, contact, request.form, actor=current_admin(), now=now(), form_name=form_name
        )
    except EntryRefused as exc:
        return _refused(found, exc, contact_values={form_name: _contact_values()})
    db.commit()
    flash("Contact saved.", "ok")
    return redirect(url_for("directory.customer", code=code, _anchor=form_name))


@bp.post("/customers/<code>/contacts/<int:contact_id>/authorization")
@login_required
def authorize_contact(code: str, contact_id: int) -> ResponseReturnValue:
    """Let a contact open emergencies by phone, or stop them."""
    db = request_session()
    found = by_code_or_404(Customer, code)
    contact = _contact_or_404(found, contact_id)
    values = contact_form_values(contact)
    values.pop("authorized", None)
    allow = request.form.get("authorized") == "yes"
    if allow:
        values["authorized"] = "y"
    try:
        save_contact(db, found, contact, values, actor=current_admin(), now=now())
    except EntryRefused as exc:
        return _refused(found, exc)
    db.commit()
    flash(f"{contact.name} {'may' if allow else 'may no longer'} open emergencies.", "ok")
    return redirect(url_for("directory.customer", code=code, _anchor=f"contact-{contact_id}"))


@bp.post("/customers/<code>/contacts/<int:contact_id>/remove")
@login_required
def delete_contact(code: str, contact_id: int) -> ResponseReturnValue:
    """Remove a contact who has never called."""
    db = request_session()
    found = by_code_or_404(Customer, code)
    contact = _contact_or_404(found, contact_id)
    name = contact.name
    try:
        remove_contact(db, contact, actor=current_admin(), now=now())
    except EntryRefused as exc:
        return _refused(found, exc)
    db.commit()
    flash(f"{name} removed.", "ok")
    return redirect(url_for("directory.customer", code=code, _anchor="contacts"))
