"""The directory editor's customer pages: customers and their contacts, checked by the
directory file's own checker, written the way a load writes them, and audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.admin_helpers import field_error, text_of
from tests.directory_helpers import (
    as_yaml_load_would,
    audit_entries,
    directory_state,
    entry,
    submit,
)
from tests.line_helpers import CallDriver
from voiceline.customers.models import Contact
from voiceline.db import Database
from voiceline.directory.checker import read_directory_text
from voiceline.directory.dump import dump_directory
from voiceline.directory.loader import load_directory
from voiceline.line.models import Call

ACME = "/admin/directory/customers/acme-dental"


def _contact(database: Database, phone: str) -> Contact | None:
    with database.session() as session:
        return session.scalars(select(Contact).filter_by(phone=phone)).one_or_none()


def _pat(database: Database) -> Contact:
    pat = _contact(database, "+15035550111")
    assert pat is not None
    return pat


def _summary(response_text: str) -> str:
    return response_text.split("Not saved:", 1)[1] if "Not saved:" in response_text else ""


def test_a_contacts_number_is_changed_in_place_and_keeps_their_calls(
    editor: FlaskClient, database: Database
) -> None:
    CallDriver(editor, "+15035550111").dial()  # Pat calls once: the call names her
    pat = _pat(database)
    action = f"{ACME}/contacts/{pat.id}"
    response = submit(editor, ACME, action, {"phone": "(503) 555-0119"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{ACME}#contact-{pat.id}")
    moved = _contact(database, "+15035550119")
    assert moved is not None and moved.id == pat.id and moved.name == "Pat Jones"
    assert _contact(database, "+15035550111") is None
    with database.session() as session:
        (call,) = session.scalars(select(Call)).all()
        assert call.contact_id == pat.id
    (audited,) = audit_entries(database, "contact_updated")
    assert (audited.actor, audited.subject) == ("admin", "customer acme-dental")
    assert audited.detail["phone"] == {"from": "+15035550111", "to": "+15035550119"}
    assert audited.detail["contact"] == "Pat Jones"
    assert "Contact saved." in text_of(editor.get(ACME))


def test_a_bad_number_shows_the_checkers_message_and_changes_nothing(
    editor: FlaskClient, database: Database
) -> None:
    before = directory_state(database)
    pat = _pat(database)
    response = submit(editor, ACME, f"{ACME}/contacts/{pat.id}", {"phone": "555-01"})
    assert response.status_code == 422
    message = field_error(response, f"contact-{pat.id}", "phone")
    assert message is not None
    assert message.startswith("customer acme-dental contact: bad phone number")
    assert message in _summary(text_of(response))
    assert field_error(response, f"contact-{pat.id}", "name") is None
    assert directory_state(database) == before


def test_a_blank_name_is_named_beside_the_name(editor: FlaskClient, database: Database) -> None:
    before = directory_state(database)
    pat = _pat(database)
    response = submit(editor, ACME, f"{ACME}/contacts/{pat.id}", {"name": ""})
    assert response.status_code == 422
    assert field_error(response, f"contact-{pat.id}", "name") == (
        "customer acme-dental contact: 'name' is required"
    )
    assert directory_state(database) == before


def test_a_number_another_customer_uses_is_refused(editor: FlaskClient, database: Database) -> None:
    before = directory_state(database)
    pat = _pat(database)
    response = submit(editor, ACME, f"{ACME}/contacts/{pat.id}", {"phone": "+1 212 555 0131"})
    assert response.status_code == 422
    assert field_error(response, f"contact-{pat.id}", "phone") == (
        "+12125550131 is already the number of Lee Park at Harbor Law LLP"
    )
    # the same from the add form, and a number used twice within the customer
    response = submit(editor, ACME, f"{ACME}/contacts", {"name": "Sam", "phone": "503-555-0112"})
    assert response.status_code == 422
    assert field_error(response, "contact", "phone") == (
        "+15035550112 is already the number of Robin Diaz"
    )
    assert directory_state(database) == before


def test_a_contact_is_added_authorized_and_audited(editor: FlaskClient, database: Database) -> None:
    response = submit(
        editor, ACME, f"{ACME}/contacts", {"name": "Dana Wu", "phone": "503 555 0177", "role": ""}
    )
    assert response.status_code == 302
    dana = _contact(database, "+15035550177")
    assert dana is not None
    assert (dana.name, dana.role, dana.is_authorized) == ("Dana Wu", "primary", True)
    (audited,) = audit_entries(database, "contact_added")
    assert audited.detail["contact"] == "Dana Wu"
    assert audited.detail["phone"] == {"from": None, "to": "+15035550177"}
    assert "Dana Wu" in text_of(editor.get(ACME))


def test_authorization_is_taken_away_and_given_back(
    editor: FlaskClient, database: Database
) -> None:
    pat = _pat(database)
    action = f"{ACME}/contacts/{pat.id}/authorization"
    assert submit(editor, ACME, action).status_code == 302  # the button shown takes it away
    assert _pat(database).is_authorized is False
    with database.session() as session:
        assert entry(dump_directory(session), "customers", "acme-dental")["contacts"][0] == {
            "name": "Pat Jones",
            "phone": "+15035550111",
            "role": "primary",
            "authorized": False,
        }
    assert "Pat Jones may no longer open emergencies." in text_of(editor.get(ACME))
    assert submit(editor, ACME, action).status_code == 302  # now the button authorizes
    assert _pat(database).is_authorized is True
    changes = [e.detail["authorized"] for e in audit_entries(database, "contact_updated")]
    assert changes == [{"from": None, "to": False}, {"from": False, "to": None}]


def test_a_contact_who_never_called_is_removed(editor: FlaskClient, database: Database) -> None:
    robin = _contact(database, "+15035550112")
    assert robin is not None
    response = submit(editor, ACME, f"{ACME}/contacts/{robin.id}/remove")
    assert response.status_code == 302
    assert _contact(database, "+15035550112") is None
    (audited,) = audit_entries(database, "contact_removed")
    assert audited.detail["name"] == "Robin Diaz"
    assert audited.detail["phone"] == "+15035550112"


def test_a_contact_with_calls_on_record_is_not_removed(
    editor: FlaskClient, database: Database
) -> None:
    CallDriver(editor, "+15035550111").dial()
    before = directory_state(database)
    pat = _pat(database)
    response = submit(editor, ACME, f"{ACME}/contacts/{pat.id}/remove")
    assert response.status_code == 422
    assert "Pat Jones has 1 call(s) and 0 incident(s) on record" in _summary(text_of(response))
    assert directory_state(database) == before


def test_a_customers_settings_land_as_a_yaml_load_of_the_same_entry_would(
    editor: FlaskClient, database: Database
) -> None:
    changes = {
        "name": "Acme Dental Group",
        "plan": "cat2",
        "business_hours": "mon-fri 07:00-18:00; sat 09:00-12:00",
        "closures": "2026-12-24\n2026-12-31",
        "holidays-subdivision": "WA",
    }

    def edit(customer: dict[str, Any]) -> None:
        customer.update(
            name="Acme Dental Group",
            plan="cat2",
            business_hours=["mon-fri 07:00-18:00", "sat 09:00-12:00"],
            closures=[date(2026, 12, 24), date(2026, 12, 31)],
            holidays={"country": "US", "subdivision": "WA"},
        )

    before, by_yaml = as_yaml_load_would(database, "customers", "acme-dental", edit)
    assert submit(editor, ACME, ACME, changes).status_code == 302
    with database.session() as session:
        by_form = dump_directory(session)
    assert by_form == by_yaml != before
    (audited,) = audit_entries(database, "customer_updated")
    assert set(audited.detail) == {"name", "plan", "business_hours", "closures", "holidays"}
    assert audited.detail["plan"] == {"from": "diamond", "to": "cat2"}


def test_unknown_references_are_refused(editor: FlaskClient, database: Database) -> None:
    before = directory_state(database)
    response = submit(editor, ACME, ACME, {"plan": "gold", "escalation_policy": "vip"})
    assert response.status_code == 422
    assert field_error(response, "customer", "plan") == "customer acme-dental: unknown plan 'gold'"
    assert field_error(response, "customer", "escalation_policy") == (
        "customer acme-dental: unknown escalation policy 'vip'"
    )
    assert directory_state(database) == before


def test_the_checker_speaks_beside_each_customer_field(
    editor: FlaskClient, database: Database
) -> None:
    before = directory_state(database)
    changes = {
        "time_zone": "Mars/Olympus",
        "business_hours": "weekdays 9 to 5",
        "holidays-country": "XX",
        "closures": "Christmas",
    }
    response = submit(editor, ACME, ACME, changes)
    assert response.status_code == 422
    for name in ("time_zone", "business_hours", "holidays-country", "closures"):
        message = field_error(response, "customer", name)
        assert message and message in _summary(text_of(response)), name
    assert "unknown time zone" in (field_error(response, "customer", "time_zone") or "")
    assert "cannot read hours" in (field_error(response, "customer", "business_hours") or "")
    assert "unknown holiday calendar" in (
        field_error(response, "customer", "holidays-country") or ""
    )
    assert directory_state(database) == before
    # What was typed is shown again, to be corrected rather than typed again.
    assert 'value="Mars/Olympus"' in response.get_data(as_text=True)


def test_a_customer_is_added_and_a_taken_code_refused(
    editor: FlaskClient, database: Database
) -> None:
    fields = {
        "code": "lakeside-vet",
        "name": "Lakeside Vet",
        "time_zone": "America/Chicago",
        "plan": "pro",
        "holidays-country": "US",
    }
    new = "/admin/directory/customers/new"
    response = submit(editor, new, "/admin/directory/customers", fields)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/directory/customers/lakeside-vet")
    with database.session() as session:
        assert entry(dump_directory(session), "customers", "lakeside-vet") == {
            "code": "lakeside-vet",
            "name": "Lakeside Vet",
            "time_zone": "America/Chicago",
            "plan": "pro",
            "holidays": {"country": "US"},
            "contacts": [],
        }
    assert [e.subject for e in audit_entries(database, "customer_created")] == [
        "customer lakeside-vet"
    ]
    before = directory_state(database)
    response = submit(editor, new, "/admin/directory/customers", {**fields, "code": "acme-dental"})
    assert response.status_code == 422
    assert field_error(response, "customer", "code") == (
        "a customer with code 'acme-dental' already exists"
    )
    response = submit(editor, new, "/admin/directory/customers", {**fields, "code": "Lake Side"})
    assert response.status_code == 422
    assert "must be lowercase letters" in (field_error(response, "customer", "code") or "")
    assert directory_state(database) == before


def test_the_directory_page_finds_a_customer_by_a_contacts_number(editor: FlaskClient) -> None:
    page = text_of(editor.get("/admin/directory/?q=0131"))
    assert "Harbor Law LLP" in page
    assert "Acme Dental" not in page


def test_what_the_form_does_not_show_is_kept(editor: FlaskClient, database: Database) -> None:
    """A customer's own prompts (set in the file) survive an edit of its other fields."""
    exported = editor.get("/admin/directory/export").get_data(as_text=True)
    greeting = "Acme Dental's emergency line."
    with_prompts = exported.replace(
        "  name: Acme Dental\n", f"  name: Acme Dental\n  prompts:\n    greeting: {greeting}\n", 1
    )
    session = database.sessions()
    load_directory(session, read_directory_text(with_prompts))
    session.commit()
    session.close()
    assert submit(editor, ACME, ACME, {"name": "Acme Dental Group"}).status_code == 302
    acme = entry(directory_state(database)[0], "customers", "acme-dental")
    assert (acme["name"], acme["prompts"]) == ("Acme Dental Group", {"greeting": greeting})
