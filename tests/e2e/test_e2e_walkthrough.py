"""The README's five-minute walkthrough, followed in headless Chromium on ``voiceline demo``.

Every step a newcomer takes on the handset page is taken here, and each screenshot the
README shows is taken at that step. They are written to ``test-artifacts/walkthrough/``;
with ``VOICELINE_UPDATE_SCREENSHOTS=1`` they replace ``docs/screenshots/`` instead (commit
them), so an ordinary run never changes the working tree. Updating runs the demo on its
default ports, 5000 and 5050, so the pictures show what ``make run`` prints.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e_stack import ALEX, PAT, REPO, DemoRun, demo_fixture, free_port  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 15_000
MESSAGE = "Our server room is flooded and every phone is dead. Please call me back."

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no browser: {CHROMIUM} is not installed (apt-get install chromium)",
    ),
]


def is_updating() -> bool:
    """Tell whether this run replaces the README's screenshots."""
    return os.environ.get("VOICELINE_UPDATE_SCREENSHOTS") == "1"


def screenshot_dir() -> Path:
    """Return where this run's screenshots go."""
    return REPO / ("docs/screenshots" if is_updating() else "test-artifacts/walkthrough")


@pytest.fixture(name="demo_ports")
def demo_ports_fixture() -> tuple[int, int]:
    """Use make run's ports when the pictures are for the README, free ones otherwise."""
    return (5000, 5050) if is_updating() else (free_port(), free_port())


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """Return a Chromium tab the size of a laptop's screen, where every phone fits."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(WAIT_MS)
        yield context.new_page()
        context.close()
        browser.close()


def test_the_five_minute_walkthrough(demo: DemoRun, browser_page: Any) -> None:
    from playwright.sync_api import expect

    page = browser_page
    shots = screenshot_dir()
    shots.mkdir(parents=True, exist_ok=True)

    def phone(number: str) -> Any:
        return page.locator(f'section.phone[data-number="{number}"]')

    def press(number: str, key: str) -> None:
        phone(number).locator(".keypad").get_by_role("button", name=key, exact=True).click()

    def shoot(name: str) -> None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    pat, alex = phone(PAT), phone(ALEX)

    # 1. The handset page: every phone in the demo directory, and what to try.
    page.goto(f"{demo.handsets_url}/")
    expect(page.locator("#guide")).to_contain_text("Try this")
    expect(page.locator("#app-link")).to_have_attribute("href", f"{demo.app_url}/admin")
    expect(pat.locator("h2")).to_have_text("Pat Jones (Acme Dental)")
    shoot("1-handsets")

    # 2. Pat calls the emergency line and hears the after-hours menu.
    pat.get_by_role("button", name="Call", exact=True).click()
    expect(pat.locator(".heard")).to_contain_text("If your business is down")
    shoot("2-menu")

    # 3. Pat presses 1, leaves a message and stays silent to end it.
    press(PAT, "1")
    expect(pat.locator(".heard")).to_contain_text("After the tone")
    pat.get_by_placeholder("say something").fill(MESSAGE)
    pat.get_by_role("button", name="Speak", exact=True).click()
    pat.get_by_role("button", name="Stay silent", exact=True).click()
    expect(pat.locator(".heard")).to_contain_text("will call you back within 30 minutes")

    # Alex, on call, gets the page at once: a text and a ringing phone.
    expect(alex.locator(".sms")).to_contain_text("EMERGENCY Acme Dental")
    expect(alex.locator(".ringing")).to_contain_text("Ringing")
    shoot("3-page")

    # 4. Alex answers, hears the message, and presses 2 to be connected to Pat.
    alex.get_by_role("button", name="Answer", exact=True).click()
    expect(alex.locator(".heard")).to_contain_text(MESSAGE)
    press(ALEX, "2")
    expect(pat.locator(".ringing")).to_contain_text("Ringing")
    pat.get_by_role("button", name="Answer", exact=True).click()
    pat.get_by_placeholder("say something").fill("Thank you for calling back so quickly!")
    pat.get_by_role("button", name="Speak", exact=True).click()
    expect(alex.locator(".heard")).to_contain_text("Thank you for calling back so quickly")
    shoot("4-bridged")
    alex.get_by_role("button", name="Hang up", exact=True).click()

    # 5. In the app: the incident, who took it, and the callback that stopped the clock.
    page.goto(f"{demo.app_url}/admin/incidents/1")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill(demo.admin_password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("body")).to_contain_text("Acknowledged by Alex Rivera")
    expect(page.locator("body")).to_contain_text("Called back at")
    shoot("5-incident")

    # 6. The SLA report: the promise of a callback within 30 minutes was met. (Its month
    # is the customer's, so name it: near midnight UTC the two months differ.)
    month = datetime.now(ZoneInfo("America/Los_Angeles")).strftime("%Y-%m")
    page.goto(f"{demo.app_url}/admin/sla/report?month={month}")
    met = page.locator("td.met").first
    expect(met).to_have_text("1")
    shoot("6-sla-report")
