"""The directory editor in headless Chromium: change a contact's number, add a plan
target, edit a policy step, import an edited export; and axe-core finds no serious or
critical accessibility problem on any of its pages, refusals included.

The real app runs under a real HTTP server (werkzeug, on loopback) over a migrated
SQLite database holding the example support desk. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.admin.axe_pages import all_checked, axe, serious, watch
from tests.admin_helpers import ADMIN_PASSWORD, ADMIN_USER, create_admin, load_example_directory
from voiceline.app import create_app
from voiceline.clock import ManualClock
from voiceline.customers.models import Contact, Plan
from voiceline.db import Database
from voiceline.directory.dump import dump_directory
from voiceline.migrate import upgrade

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-component-update"]
PAGES = (
    "/admin/directory/",
    "/admin/directory/customers/acme-dental",
    "/admin/directory/customers/new",
    "/admin/directory/plans/diamond",
    "/admin/directory/plans/new",
    "/admin/directory/policies/standard",
    "/admin/directory/policies/new",
    "/admin/directory/service",
    "/admin/directory/admins",
    "/admin/directory/import",
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no browser: {CHROMIUM} is not installed (apt-get install chromium)",
    ),
]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Database]]:
    """Serve the app over HTTP on a free loopback port; return its URL and database."""
    url = f"sqlite:///{tmp_path / 'voiceline.db'}"
    database = Database(url)
    upgrade(database.engine)
    load_example_directory(database)
    create_admin(database)
    config = {
        "DATABASE_URL": url,
        "SECRET_KEY": "made-up-secret-key-for-browser-tests",
        "VOICELINE_PUBLIC_URL": "http://127.0.0.1",
        "VOICELINE_SPOOL_DIR": str(tmp_path / "spool"),
    }
    app = create_app(config, clock=ManualClock(datetime(2026, 11, 22, 10, 0, tzinfo=UTC)))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", database
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        database.dispose()


@pytest.fixture
def page(served: tuple[str, Database]) -> Iterator[Any]:
    """Return a logged-in Chromium page that records any dialog or console error."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    base, _ = served
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        context.set_default_timeout(10_000)
        tab = context.new_page()
        tab.problems = []  # type: ignore[attr-defined]
        tab.on("dialog", lambda d: (tab.problems.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
        # A refused form answers 422, which the console reports; anything else is a fault
        # (a script or style the CSP refused, a script error).
        tab.on(
            "console",
            lambda m: (
                tab.problems.append(m.text)  # type: ignore[attr-defined]
                if m.type == "error" and "the server responded with a status of 4" not in m.text
                else None
            ),
        )
        watch(tab)
        tab.goto(f"{base}/admin/directory/")
        axe(tab)  # the login form
        tab.get_by_label("Username").fill(ADMIN_USER)
        tab.get_by_label("Password").fill(ADMIN_PASSWORD)
        tab.get_by_role("button", name="Log in").click()
        tab.wait_for_url(f"{base}/admin/directory/")
        axe(tab)  # the overview, as it opens
        yield tab
        assert tab.problems == []  # type: ignore[attr-defined]  # no CSP refusal, no dialog
        all_checked(tab)  # axe ran on every page the test opened
        context.close()
        browser.close()


def _serious(page: Any) -> list[str]:
    """Return axe-core's serious and critical violations on the page, one line each."""
    return serious(page)[0]


def _shot(page: Any, name: str, selector: str = "main") -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    path.unlink(missing_ok=True)
    page.locator(selector).screenshot(path=str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_change_a_contacts_number(page: Any, served: tuple[str, Database]) -> None:
    base, database = served
    page.get_by_role("navigation", name="Admin sections").get_by_role(
        "link", name="Directory"
    ).click()
    page.get_by_role("link", name="Acme Dental").click()
    page.wait_for_url(f"{base}/admin/directory/customers/acme-dental")
    axe(page)
    pat = page.get_by_role("form", name="Contact Pat Jones")
    pat.get_by_label("Phone").fill("(503) 555-01")
    pat.get_by_role("button", name="Save contact").click()
    # Refused: the checker's message beside the field and at the top; nothing changed.
    alert = page.locator(".error-summary")
    assert "bad phone number" in alert.inner_text()
    beside = page.get_by_role("form", name="Contact Pat Jones").locator(".field-error")
    assert "bad phone number" in beside.inner_text()
    assert (
        page.get_by_role("form", name="Contact Pat Jones")
        .get_by_label("Phone")
        .get_attribute("aria-invalid")
        == "true"
    )
    _shot(page, "directory-contact-refused.png")
    axe(page)

    pat = page.get_by_role("form", name="Contact Pat Jones")
    pat.get_by_label("Phone").fill("(503) 555-0119")
    pat.get_by_role("button", name="Save contact").click()
    page.wait_for_url("**/admin/directory/customers/acme-dental#contact-*")
    assert "Contact saved." in page.locator(".flash").inner_text()
    assert page.get_by_role("form", name="Contact Pat Jones").get_by_label(
        "Phone"
    ).input_value() == ("+15035550119")
    with database.session() as session:
        phones = set(session.scalars(select(Contact.phone)))
    assert "+15035550119" in phones and "+15035550111" not in phones
    _shot(page, "directory-customer.png")


def test_add_a_plan_target(page: Any, served: tuple[str, Database]) -> None:
    base, database = served
    page.goto(f"{base}/admin/directory/#plans")
    page.get_by_role("link", name="Pro (business hours only)").click()
    page.wait_for_url(f"{base}/admin/directory/plans/pro")
    page.get_by_label("New target: metric").select_option("restoration")
    page.get_by_label("New target: priority").fill("emergency")
    page.get_by_label("New target: within").fill("1 day")
    page.get_by_role("button", name="Save plan").click()
    assert "cannot read duration '1 day'" in page.locator(".error-summary").inner_text()
    assert page.get_by_label("Target 2: within").input_value() == "1 day"  # kept to correct
    axe(page)

    page.get_by_label("Target 2: within").fill("1d")
    page.get_by_label("Target 2: clock").select_option("business")
    page.get_by_role("button", name="Save plan").click()
    page.wait_for_url(f"{base}/admin/directory/plans/pro")
    assert "Plan Pro (business hours only) saved." in page.locator(".flash").inner_text()
    assert page.get_by_label("Target 2: within").input_value() == "24h"  # as the file writes it
    with database.session() as session:
        plan = session.scalars(select(Plan).filter_by(code="pro")).one()
        targets = [(t.metric, t.priority, t.minutes, t.clock) for t in plan.targets]
    assert targets[-1] == ("restoration", "emergency", 1440, "business")
    _shot(page, "directory-plan.png")


def test_edit_a_policy_step(page: Any, served: tuple[str, Database]) -> None:
    base, database = served
    page.goto(f"{base}/admin/directory/policies/standard")
    step = page.get_by_role("group", name="Step 2")
    step.get_by_label("Also page").select_option(label="Jordan Lee")
    step.get_by_label("SMS").uncheck()
    step.get_by_label("Wait for an acknowledgement").fill("90s")
    page.get_by_role("button", name="Save policy").click()
    page.wait_for_url(f"{base}/admin/directory/policies/standard")
    assert "saved." in page.locator(".flash").inner_text()
    with database.session() as session:
        (policy,) = dump_directory(session)["policies"]
    assert policy["steps"][1] == {
        "targets": [{"on_call": "tier2"}, {"analyst": "jordan"}],
        "channels": ["voice"],
        "delay": "1m30s",
    }
    _shot(page, "directory-policy.png")
    axe(page)


def test_import_an_edited_export(page: Any, served: tuple[str, Database], tmp_path: Path) -> None:
    base, database = served
    page.goto(f"{base}/admin/directory/import")
    axe(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download directory.yaml").click()
    exported = yaml.safe_load(Path(download.value.path()).read_text())
    exported["service"]["name"] = "Cascade IT Support & Co"
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(exported, sort_keys=False))
    page.get_by_label("Directory file").set_input_files(str(edited))
    page.get_by_role("button", name="Check the file").click()
    change = page.get_by_role("region", name="Service settings service: changed")
    assert "+ name: Cascade IT Support & Co" in change.inner_text()
    axe(page)
    _shot(page, "directory-import-preview.png")
    page.get_by_role("button", name="Apply these changes").click()
    page.wait_for_url(f"{base}/admin/directory/")
    assert "Directory imported: 0 created, 1 updated." in page.locator(".flash").inner_text()
    with database.session() as session:
        assert dump_directory(session)["service"]["name"] == "Cascade IT Support & Co"


def test_every_directory_page_passes_axe(page: Any, served: tuple[str, Database]) -> None:
    base, _ = served
    # The check can fail: an image without a text alternative is a critical violation.
    page.set_content(
        '<html lang="en"><title>t</title><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></html>'
    )
    made_up, _ = serious(page, record=False)
    assert [v.split(" ")[0] for v in made_up] == ["image-alt"]
    found = {}
    for path in PAGES:
        page.goto(f"{base}{path}")
        assert page.locator("h1").count() == 1, path
        found[path] = _serious(page)
        if path == "/admin/directory/":
            _shot(page, "directory-overview.png")
    # and the refusals, with their messages beside the fields
    page.goto(f"{base}/admin/directory/customers/new")
    page.get_by_role("button", name="Add customer").click()
    assert page.locator(".error-summary").count() == 1
    found["refused customer"] = _serious(page)
    page.goto(f"{base}/admin/directory/admins")
    page.get_by_label("Login name").fill("riley")
    page.get_by_role("button", name="Add admin").click()
    found["refused admin"] = _serious(page)
    assert found == {key: [] for key in found}
