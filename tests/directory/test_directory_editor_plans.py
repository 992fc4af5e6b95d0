"""The directory editor's plan pages: terms, credit rule and SLA targets, checked by the
directory file's checker, written as a load writes them, and audited."""

from __future__ import annotations

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
from voiceline.customers.models import Plan, PlanTarget
from voiceline.db import Database

DIAMOND = "/admin/directory/plans/diamond"


def _targets(database: Database, code: str) -> list[tuple[str, str, int, str, bool]]:
    with database.session() as session:
        plan = session.scalars(select(Plan).filter_by(code=code)).one()
        return [(t.metric, t.priority, t.minutes, t.clock, t.pausable) for t in plan.targets]


def test_a_target_is_added_as_a_yaml_load_would_add_it(
    editor: FlaskClient, database: Database
) -> None:
    def edit(plan: dict[str, Any]) -> None:
        plan["targets"].append(
            {
                "metric": "restoration",
                "priority": "emergency",
                "within": "8h",
                "clock": "wall",
                "pausable": True,
            }
        )

    before, by_yaml = as_yaml_load_would(database, "plans", "diamond", edit)
    new_row = {
        "targets-2-metric": "restoration",
        "targets-2-priority": "emergency",
        "targets-2-within": "8h",
        "targets-2-clock": "wall",
        "targets-2-pausable": "y",
    }
    response = submit(editor, DIAMOND, DIAMOND, new_row)
    assert response.status_code == 302
    assert directory_state(database)[0] == by_yaml != before
    assert _targets(database, "diamond")[-1] == ("restoration", "emergency", 480, "wall", True)
    (audited,) = audit_entries(database, "plan_updated")
    assert (audited.actor, audited.subject, list(audited.detail)) == (
        "admin",
        "plan diamond",
        ["targets"],
    )
    assert len(audited.detail["targets"]["to"]) == 3
    assert "Plan Diamond (24x7 emergency cover) saved." in text_of(editor.get(DIAMOND))


def test_a_target_ticked_remove_is_deleted_and_others_change(
    editor: FlaskClient, database: Database
) -> None:
    changes = {"targets-0-within": "20m", "targets-1-remove": "y", "callback_target": "20m"}
    assert submit(editor, DIAMOND, DIAMOND, changes).status_code == 302
    assert _targets(database, "diamond") == [("callback", "emergency", 20, "wall", False)]
    with database.session() as session:
        assert (
            session.scalar(select(PlanTarget).filter_by(priority="standard", minutes=240))
            is not None
        )  # other plans keep theirs
    (audited,) = audit_entries(database, "plan_updated")
    assert set(audited.detail) == {"callback_target", "targets"}


def test_bad_targets_show_the_checkers_message_beside_the_row(
    editor: FlaskClient, database: Database
) -> None:
    before = directory_state(database)
    changes = {
        "targets-1-within": "soon",
        "targets-2-metric": "callback",
        "targets-2-priority": "emergency",
        "targets-2-within": "1h",
    }
    response = submit(editor, DIAMOND, DIAMOND, changes)
    assert response.status_code == 422
    assert field_error(response, "plan", "targets-1-within") == (
        "plan diamond target: within: cannot read duration 'soon'; use e.g. 30m, 4h, 1d"
    )
    duplicate = field_error(response, "plan", "targets-2-metric")
    assert duplicate is not None
    assert duplicate.startswith("plan diamond: a second callback target for emergency")
    assert directory_state(database) == before
    # The rows come back as typed, the new one included, to be corrected.
    page = response.get_data(as_text=True)
    assert 'name="targets-1-within" value="soon"' in page
    assert 'name="targets-2-within" value="1h"' in page


def test_a_target_without_a_metric_is_named_at_its_metric(
    editor: FlaskClient, database: Database
) -> None:
    before = directory_state(database)
    changes = {"targets-2-priority": "urgent", "targets-2-within": "2h"}
    response = submit(editor, DIAMOND, DIAMOND, changes)
    assert response.status_code == 422
    assert field_error(response, "plan", "targets-2-metric") == (
        "plan diamond target: 'metric' is required"
    )
    assert directory_state(database) == before


def test_the_credit_rule_is_checked_by_the_sla_rules(
    editor: FlaskClient, database: Database
) -> None:
    before = directory_state(database)
    response = submit(editor, DIAMOND, DIAMOND, {"monthly_fee": ""})
    assert response.status_code == 422
    assert field_error(response, "plan", "credit-per") == (
        "plan diamond: a credit rule needs the plan's monthly_fee"
    )
    response = submit(editor, DIAMOND, DIAMOND, {"credit-percent_of_monthly_fee": "ten"})
    assert response.status_code == 422
    assert field_error(response, "plan", "credit-percent_of_monthly_fee") == (
        "plan diamond credit: percent_of_monthly_fee must be a number, not the text 'ten'"
    )
    assert directory_state(database) == before
    # A credit rule is changed, then taken away.
    changes = {
        "credit-per": "time_over",
        "credit-cap_percent": "25",
        "credit-metrics": ["callback"],
    }
    assert submit(editor, DIAMOND, DIAMOND, changes).status_code == 302
    plan = entry(directory_state(database)[0], "plans", "diamond")
    assert plan["credit"] == {
        "kind": "prorated",
        "per": "time_over",
        "percent_of_monthly_fee": 10,
        "cap_percent": 25,
        "metrics": ["callback"],
    }
    assert submit(editor, DIAMOND, DIAMOND, {"credit-per": ""}).status_code == 302
    assert "credit" not in entry(directory_state(database)[0], "plans", "diamond")


def test_a_plan_is_added_and_a_taken_code_refused(editor: FlaskClient, database: Database) -> None:
    fields = {
        "code": "gold",
        "name": "Gold",
        "business_hours": "mon-fri 08:00-18:00",
        "after_hours_cover": "y",
        "cover_hours": "24x7",
        "callback_target": "1h",
        "targets-0-metric": "callback",
        "targets-0-priority": "emergency",
        "targets-0-within": "1h",
    }
    response = submit(editor, "/admin/directory/plans/new", "/admin/directory/plans", fields)
    assert response.status_code == 302
    assert entry(directory_state(database)[0], "plans", "gold") == {
        "code": "gold",
        "name": "Gold",
        "business_hours": ["mon-fri 08:00-18:00"],
        "after_hours_cover": True,
        "cover_hours": "24x7",
        "callback_target": "1h",
        "billable_emergency": False,
        "targets": [
            {"metric": "callback", "priority": "emergency", "within": "1h", "clock": "wall"}
        ],
    }
    assert [e.subject for e in audit_entries(database, "plan_created")] == ["plan gold"]
    before = directory_state(database)
    response = submit(
        editor, "/admin/directory/plans/new", "/admin/directory/plans", {**fields, "code": "pro"}
    )
    assert response.status_code == 422
    assert field_error(response, "plan", "code") == "a plan with code 'pro' already exists"
    assert directory_state(database) == before
