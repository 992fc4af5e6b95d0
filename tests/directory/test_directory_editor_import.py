"""The directory file in the browser: export, upload, see the checker's file:line errors
or a diff of what would change, and apply it."""

from __future__ import annotations

import html
import io
import random
import re
import string
import time

import yaml
from flask.testing import FlaskClient
from test_directory_strict_loads import big_directory
from werkzeug.test import TestResponse

from tests.admin_helpers import csrf_token, text_of
from tests.directory_helpers import audit_entries, directory_state, entry, submit
from tests.line_helpers import CallDriver
from voiceline.db import Database
from voiceline.directory.transfer import MAX_IMPORT_BYTES

IMPORT = "/admin/directory/import"
APPLY = "/admin/directory/import/apply"


def _upload(client: FlaskClient, body: bytes, name: str = "directory.yaml") -> TestResponse:
    data = {"csrf_token": csrf_token(client, IMPORT), "file": (io.BytesIO(body), name)}
    return client.post(IMPORT, data=data, content_type="multipart/form-data")


def _export(client: FlaskClient) -> str:
    response = client.get("/admin/directory/export")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _token(response: TestResponse) -> str:
    found = re.search(r'name="upload" value="([^"]+)"', response.get_data(as_text=True))
    assert found, "no confirmation on the preview"
    return found.group(1)


def _apply(client: FlaskClient, preview: TestResponse) -> TestResponse:
    data = {"csrf_token": csrf_token(client, IMPORT), "upload": _token(preview)}
    return client.post(APPLY, data=data)


def test_the_export_is_the_directory_file_and_is_audited(
    editor: FlaskClient, database: Database
) -> None:
    response = editor.get("/admin/directory/export")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/yaml; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="directory-2026-11-22.yaml"'
    )
    exported = yaml.safe_load(response.get_data(as_text=True))
    assert exported == directory_state(database)[0]
    assert [c["code"] for c in exported["customers"]] == [
        "acme-dental",
        "bayside-cafe",
        "harbor-law",
        "thames-print",
    ]
    (audited,) = audit_entries(database, "directory_exported")
    assert audited.actor == "admin"


def test_an_export_imported_back_shows_no_changes(editor: FlaskClient, database: Database) -> None:
    before = directory_state(database)
    response = _upload(editor, _export(editor).encode())
    assert response.status_code == 200
    page = text_of(response)
    assert "No changes: the directory already holds everything in this file (18 entries)." in page
    assert 'name="upload"' not in response.get_data(as_text=True)  # nothing to apply
    assert directory_state(database)[0] == before[0]


def test_an_edited_export_shows_a_diff_then_applies(
    editor: FlaskClient, database: Database
) -> None:
    exported = yaml.safe_load(_export(editor))
    acme = entry(exported, "customers", "acme-dental")
    acme["contacts"][0]["phone"] = "+15035550111"
    acme["contacts"][1]["name"] = "Robin Diaz-Moreno"
    exported["customers"][0] = acme
    pro = entry(exported, "plans", "pro")
    pro["targets"].append({"metric": "callback", "priority": "emergency", "within": "2h"})
    exported["plans"] = [pro if p["code"] == "pro" else p for p in exported["plans"]]
    exported["policies"].append(
        {
            "code": "night",
            "name": "Nights",
            "steps": [{"targets": [{"analyst": "alex"}], "delay": "5m"}],
        }
    )
    exported["customers"] = [c for c in exported["customers"] if c["code"] != "bayside-cafe"]
    before = directory_state(database)

    preview = _upload(editor, yaml.safe_dump(exported, sort_keys=False).encode(), "edited.yaml")
    assert preview.status_code == 200
    page = text_of(preview)
    assert "1 to create, 2 to change" in page and "15 unchanged." in page
    assert "new Escalation policies: night" in page
    assert "changed Plans: pro" in page
    assert "changed Customers: acme-dental" in page
    assert "- - name: Robin Diaz" in page and "+ - name: Robin Diaz-Moreno" in page
    assert "+ - metric: callback" in page
    assert "In the directory, not in the file: kept" in page and "Customers: bayside-cafe" in page
    assert directory_state(database) == before  # the preview changed nothing

    applied = _apply(editor, preview)
    assert applied.status_code == 302
    after = directory_state(database)[0]
    assert entry(after, "customers", "acme-dental")["contacts"][1]["name"] == "Robin Diaz-Moreno"
    assert entry(after, "policies", "night")["steps"][0]["channels"] == ["sms", "voice"]
    assert len(entry(after, "plans", "pro")["targets"]) == 2
    assert entry(after, "customers", "bayside-cafe")  # kept
    (audited,) = audit_entries(database, "directory_imported")
    assert audited.detail["file"] == "edited.yaml"
    assert audited.detail["created"] == ["policy night"]
    # the loader's own account: the contact it updated, the plan whose targets changed
    assert sorted(audited.detail["updated"]) == ["contact +15035550112", "plan pro"]
    assert "Directory imported: 1 created, 2 updated." in text_of(editor.get("/admin/directory/"))


def test_a_bad_file_shows_each_error_at_its_line_and_changes_nothing(
    editor: FlaskClient, database: Database
) -> None:
    text = _export(editor)
    before = directory_state(database)
    text = text.replace("plan: pro", "plan: platinum").replace("+15035550111", "555-0")
    response = _upload(editor, text.encode(), "broken.yaml")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = [html.unescape(e) for e in re.findall(r"<li>(broken\.yaml:\d+: [^<]+)</li>", page)]
    lines = text.splitlines()
    assert len(errors) == 2, errors
    for error in errors:
        line = int(error.split(":")[1])
        assert ("platinum" in lines[line - 1]) or ("555-0" in lines[line - 1]), error
    assert any("unknown plan 'platinum'" in e for e in errors)
    assert any("bad phone number" in e for e in errors)
    assert 'name="upload"' not in response.get_data(as_text=True)
    assert directory_state(database) == before


def test_uploads_that_are_not_directory_files_are_refused(
    editor: FlaskClient, database: Database
) -> None:
    before = directory_state(database)
    response = _upload(editor, b"\xff\xfe not utf-8", "photo.yaml")
    assert response.status_code == 422
    assert "photo.yaml:1: not UTF-8 text" in text_of(response)
    response = _upload(editor, b"   \n")
    assert "the file is empty" in text_of(response)
    response = _upload(editor, b"- just\n- a list\n")
    assert "directory.yaml:1: the directory must be a mapping" in text_of(response)
    response = _upload(editor, b"# " + b"x" * MAX_IMPORT_BYTES + b"\n", "big.yaml")
    assert response.status_code == 422
    assert "big.yaml: the file is larger than 1,000,000 bytes" in text_of(response)
    response = _upload(editor, b"# " + b"x" * 2 * MAX_IMPORT_BYTES + b"\n")  # past the app's limit
    assert response.status_code == 413
    assert "The upload: the file is larger than 1,000,000 bytes" in text_of(response)
    response = editor.post(IMPORT, data={"csrf_token": csrf_token(editor, IMPORT)})
    assert response.status_code == 422
    assert "Choose a directory file" in text_of(response)
    assert directory_state(database) == before


def test_a_confirmation_not_from_a_preview_is_refused(
    editor: FlaskClient, database: Database
) -> None:
    exported = yaml.safe_load(_export(editor))
    exported["plans"][0]["name"] = "Renamed"
    preview = _upload(editor, yaml.safe_dump(exported).encode())
    token = _token(preview)
    before = directory_state(database)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = editor.post(APPLY, data={"csrf_token": csrf_token(editor, IMPORT), "upload": forged})
    assert response.status_code == 422
    assert "this confirmation does not come from a preview" in text_of(response)
    assert directory_state(database) == before


def test_a_preview_made_stale_by_an_edit_is_shown_again(
    editor: FlaskClient, database: Database
) -> None:
    exported = yaml.safe_load(_export(editor))
    entry(exported, "plans", "adhoc")  # present
    for plan in exported["plans"]:
        if plan["code"] == "adhoc":
            plan["name"] = "Ad hoc (per incident)"
    preview = _upload(editor, yaml.safe_dump(exported).encode())
    # Meanwhile someone adds a contact in the editor.
    acme = "/admin/directory/customers/acme-dental"
    added = submit(editor, acme, f"{acme}/contacts", {"name": "Dana", "phone": "503 555 0177"})
    assert added.status_code == 302
    before = directory_state(database)
    response = _apply(editor, preview)
    assert response.status_code == 409
    assert "The directory changed since your preview." in text_of(response)
    assert directory_state(database) == before
    assert audit_entries(database, "directory_imported") == []
    # The new preview can be applied; the contact added meanwhile stays (imports never remove).
    assert _apply(editor, response).status_code == 302
    after = directory_state(database)[0]
    assert entry(after, "plans", "adhoc")["name"] == "Ad hoc (per incident)"
    assert "+15035550177" in [
        c["phone"] for c in entry(after, "customers", "acme-dental")["contacts"]
    ]


def test_a_contact_imported_is_recognised_by_the_line(
    editor: FlaskClient, database: Database
) -> None:
    menu = "If your business is down and you need an analyst now, press 1."
    assert menu not in CallDriver(editor, "+15035550177").dial().says()  # a stranger
    exported = yaml.safe_load(_export(editor))
    acme = entry(exported, "customers", "acme-dental")
    acme["contacts"].append({"name": "Dana Wu", "phone": "+15035550177", "role": "backup"})
    exported["customers"][0] = acme
    assert _apply(editor, _upload(editor, yaml.safe_dump(exported).encode())).status_code == 302
    assert menu in CallDriver(editor, "+15035550177").dial().says()  # Acme's Diamond cover


def test_a_directory_of_almost_a_megabyte_is_previewed_and_applied(
    editor: FlaskClient, database: Database
) -> None:
    """The largest file the browser takes, with names that compress poorly, goes through."""
    rnd = random.Random(7)

    def name() -> str:
        return "".join(rnd.choice(string.ascii_letters) for _ in range(rnd.randint(5, 12)))

    text = re.sub(r"Contact \d+", lambda _: f"{name()} {name()}", big_directory(940_000))
    text = re.sub(r"Customer (\d+) Ltd", lambda m: f"{name()} {m[1]} Ltd", text)
    body = text.encode()
    assert 950_000 < len(body) <= MAX_IMPORT_BYTES
    started = time.perf_counter()
    preview = _upload(editor, body, "big.yaml")
    previewed = time.perf_counter() - started
    assert preview.status_code == 200, text_of(preview)[:500]
    customers = text.count("\n  - code: customer-")
    assert f"{customers} to create" in text_of(preview)
    assert f"And {customers - 100} more" in text_of(preview)  # named, not shown line by line
    token = _token(preview)
    started = time.perf_counter()
    assert _apply(editor, preview).status_code == 302
    applied = time.perf_counter() - started
    assert len(directory_state(database)[0]["customers"]) == 4 + customers
    print(
        f"\n{len(body):,} bytes, {customers} customers: preview {previewed:.2f}s, "
        f"apply {applied:.2f}s, confirmation {len(token):,} characters"
    )
