"""The directory editor's escalation policy and service settings pages: checked by the
directory file's checker (the escalation engine's own rules), written as a load writes
them, and audited."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.admin_helpers import field_error, text_of
from tests.directory_helpers import (
    as_yaml_load_would,
    audit_entries,
    directory_state,
    entry,
    submit,
)
from voiceline.db import Database

STANDARD = "/admin/directory/policies/standard"
SERVICE = "/admin/directory/service"


def test_a_step_edit_lands_as_a_yaml_load_would_leave_it(
    editor: FlaskClient, database: Database
) -> None:
    def edit(policy: dict[str, Any]) -> None:
        policy["steps"][1] = {
            "targets": [{"on_call": "tier2"}, {"analyst": "morgan"}],
            "channels": ["voice"],
            "delay": "90s",
        }
        policy["repeat"] = 2

    before, by_yaml = as_yaml_load_would(database, "policies", "standard", edit)
    changes = {
        "steps-1-target": ["on_call:tier2", "analyst:morgan"],
        "steps-1-channels": ["voice"],
        "steps-1-delay": "90s",
        "repeat": "2",
    }
    response = submit(editor, STANDARD, STANDARD, changes)
    assert response.status_code == 302
    assert directory_state(database)[0] == by_yaml != before
    (audited,) = audit_entries(database, "policy_updated")
    assert (audited.subject, set(audited.detail)) == ("policy standard", {"repeat", "steps"})
    assert audited.detail["repeat"] == {"from": 1, "to": 2}
    page = text_of(editor.get(STANDARD))
    assert "Policy Tier 1, then Tier 2, then management saved." in page


def test_steps_are_added_and_removed(editor: FlaskClient, database: Database) -> None:
    changes = {
        "steps-0-remove": "y",
        "steps-3-target": ["rotation:tier2"],
        "steps-3-channels": ["sms"],
        "steps-3-delay": "15m",
    }
    assert submit(editor, STANDARD, STANDARD, changes).status_code == 302
    steps = entry(directory_state(database)[0], "policies", "standard")["steps"]
    assert [s["targets"] for s in steps] == [
        [{"on_call": "tier2"}],
        [{"on_call": "management"}],
        [{"rotation": "tier2"}],
    ]
    assert steps[-1] == {"targets": [{"rotation": "tier2"}], "channels": ["sms"], "delay": "15m"}


def test_the_engines_rules_are_shown_beside_the_step(
    editor: FlaskClient, database: Database
) -> None:
    before = directory_state(database)
    changes = {"steps-1-delay": "2 days", "steps-2-channels": None}
    response = submit(editor, STANDARD, STANDARD, changes)
    assert response.status_code == 422
    assert field_error(response, "policy", "steps-1") == (
        "policy standard: policy 'Tier 1, then Tier 2, then management' step 2: "
        "cannot read delay '2 days'; use e.g. 90s, 5m, 1h30m or PT5M"
    )
    assert directory_state(database) == before
    response = submit(editor, STANDARD, STANDARD, {"steps-2-channels": None})
    assert response.status_code == 422
    assert "step 3: channels must be sms, voice, both or a list of them" in (
        field_error(response, "policy", "steps-2") or ""
    )
    response = submit(editor, STANDARD, STANDARD, {"repeat": "99"})
    assert response.status_code == 422
    assert "repeat must be a whole number from 0 to 20" in text_of(response)
    response = submit(editor, STANDARD, STANDARD, {"repeat": "twice"})
    assert field_error(response, "policy", "repeat") == (
        "policy standard: repeat must be a whole number, not the text 'twice'"
    )
    assert directory_state(database) == before


def test_unknown_targets_are_refused(editor: FlaskClient, database: Database) -> None:
    before = directory_state(database)
    changes = {"steps-0-target": ["analyst:ghost", "on_call:nights"]}
    response = submit(editor, STANDARD, STANDARD, changes)
    assert response.status_code == 422
    message = field_error(response, "policy", "steps-0")
    assert message == (
        "policy standard: unknown analyst 'ghost' policy standard: unknown rotation 'nights'"
    )
    assert directory_state(database) == before
    # The unknown pick is shown as it was, not silently swapped for a known one.
    assert "ghost (not in the directory)" in text_of(response)


def test_a_policy_is_added_and_a_policy_without_steps_refused(
    editor: FlaskClient, database: Database
) -> None:
    new, create = "/admin/directory/policies/new", "/admin/directory/policies"
    fields = {
        "code": "managers",
        "name": "Straight to management",
        "steps-0-target": ["on_call:management"],
        "steps-0-delay": "10m",
    }
    assert submit(editor, new, create, fields).status_code == 302
    assert entry(directory_state(database)[0], "policies", "managers") == {
        "code": "managers",
        "name": "Straight to management",
        "repeat": 0,
        "steps": [
            {"targets": [{"on_call": "management"}], "channels": ["sms", "voice"], "delay": "10m"}
        ],
    }
    assert [e.subject for e in audit_entries(database, "policy_created")] == ["policy managers"]
    before = directory_state(database)
    response = submit(editor, new, create, {"code": "empty", "name": "Empty", "steps-0-delay": ""})
    assert response.status_code == 422
    assert field_error(response, "policy", "steps") == "policy empty: 'steps' is required"
    assert directory_state(database) == before


def test_service_settings_are_checked_and_saved(editor: FlaskClient, database: Database) -> None:
    before = directory_state(database)
    changes = {"emergency_number": "555", "default_escalation_policy": "nope", "remind_before": "x"}
    response = submit(editor, SERVICE, SERVICE, changes)
    assert response.status_code == 422
    assert "bad phone number" in (field_error(response, "service", "emergency_number") or "")
    assert field_error(response, "service", "default_escalation_policy") == (
        "service: unknown escalation policy 'nope'"
    )
    assert "cannot read delay 'x'" in (field_error(response, "service", "remind_before") or "")
    assert directory_state(database) == before

    changes = {
        "desk_number": "(503) 555-0198",
        "default_escalation_policy": "standard",
        "remind_before": "15m",
        "transcribe": "y",
    }
    assert submit(editor, SERVICE, SERVICE, changes).status_code == 302
    service = directory_state(database)[0]["service"]
    assert service == {
        "name": "Cascade IT Support",
        "emergency_number": "+15035550100",
        "desk_number": "+15035550198",
        "default_region": "US",
        "default_escalation_policy": "standard",
        "remind_before": "15m",
        "transcribe": True,
    }
    (audited,) = audit_entries(database, "service_updated")
    assert set(audited.detail) == {
        "desk_number",
        "default_escalation_policy",
        "remind_before",
        "transcribe",
    }
    # Saving it again as shown changes nothing and records nothing.
    assert submit(editor, SERVICE, SERVICE).status_code == 302
    assert len(audit_entries(database, "service_updated")) == 1
    assert "Nothing was changed." in text_of(editor.get(SERVICE))
