"""The handset page in headless Chromium at 1280x800: every phone of the demo directory in
view, each card offering only what its phone's state allows, a long transcript readable
from its first line to its last, and no serious accessibility violation (axe-core).

The simulator serves the page on loopback with the phones of ``examples/demo.yaml`` and
a stand-in line (``handset_line``). Screenshots are saved to ``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from handset_line import ANALYST, CUSTOMER, LINE, MENU, line_app

from simulator.directory import read_directory_phones
from simulator.engine import Simulator
from simulator.web import create_handset_app

pytest_plugins = ["simulator.testing"]

REPO = Path(__file__).resolve().parents[2]
DEMO_DIRECTORY = REPO / "examples" / "demo.yaml"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-sync"]
WIDTH, HEIGHT = 1280, 800
WAIT_MS = 10_000
LINE_APP_URL = "http://line.example.test"  # the stand-in line, reached in-process
LONG_WORD = "https://status.example.com/incidents/" + "x" * 160  # one word wider than a card

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no browser: {CHROMIUM} is not installed (apt-get install chromium)",
    ),
]


@dataclass
class Handsets:
    """The simulator behind the page, and the page in the browser."""

    sim: Simulator
    page: Any

    def card(self, number: str) -> Any:
        """Return the card of the phone ``number``."""
        return self.page.locator(f'section.phone[data-number="{number}"]')

    def controls(self, number: str) -> list[str]:
        """Return the names of the controls the card shows now (the keypad as one)."""
        card = self.card(number)
        shown = [b.inner_text() for b in card.locator("button:visible").all()]
        named = [name for name in shown if name not in "0123456789*#"]
        keypad = ["keypad"] if card.locator(".keypad").is_visible() else []
        inputs = [i.get_attribute("placeholder") for i in card.locator("input:visible").all()]
        return keypad + named + inputs

    def ring(self, number: str, twiml: str) -> None:
        """Have the line call ``number`` with ``twiml``, as a page from the app would."""
        self.sim.rest_client().calls.create(to=number, from_=LINE, twiml=twiml)
        self.sim.pump()


@pytest.fixture
def handsets(make_sim: Callable[..., Simulator]) -> Iterator[Handsets]:
    """Serve the page for the demo directory's phones and open it at 1280x800."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    sim = make_sim(line_app(), app_url=LINE_APP_URL, line=LINE)
    for handset in read_directory_phones(DEMO_DIRECTORY).handsets:
        sim.phone(handset.number, handset.name, handset.group)
    sim.api.fallback = create_handset_app(sim, "http://127.0.0.1:5000")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{sim.base_url}/")
        page.locator("section.phone").first.wait_for()
        yield Handsets(sim, page)
        context.close()
        browser.close()
    assert errors == [], errors


def shoot(page: Any, name: str) -> None:
    """Save a screenshot of the whole page to test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_every_phone_fits_the_width_and_is_whole_once_scrolled_to(handsets: Handsets) -> None:
    page = handsets.page
    cards = page.locator("section.phone")
    expected = len(read_directory_phones(DEMO_DIRECTORY).handsets)
    assert expected == 6 and cards.count() == expected
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    for card in cards.all():
        box = card.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, (card.text_content(), box)
        card.scroll_into_view_if_needed()
        box = card.bounding_box()  # now relative to the scrolled viewport
        assert box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT, (card.text_content(), box)
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "simulator-handsets-1280.png")


def test_on_a_phone_sized_window_the_cards_stack_in_one_column(handsets: Handsets) -> None:
    page = handsets.page
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    lefts = set()
    for card in page.locator("section.phone").all():
        box = card.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (card.text_content(), box)
        lefts.add(round(box["x"]))
    assert len(lefts) == 1, lefts


def test_a_busy_card_still_fits_the_window(handsets: Handsets) -> None:
    # The most a card shows at once: a long transcript, the keypad and a full inbox.
    for number in range(8):
        handsets.sim.rest_client().messages.create(to=ANALYST, from_=LINE, body=f"page {number}")
    handsets.sim.pump()
    handsets.ring(ANALYST, long_call_twiml(40))
    alex = handsets.card(ANALYST)
    alex.get_by_role("button", name="Answer", exact=True).click()
    expect(alex.locator(".keypad")).to_be_visible()
    expect(alex.locator(".sms")).to_have_count(8)
    alex.scroll_into_view_if_needed()
    box = alex.bounding_box()
    assert box["height"] <= HEIGHT and box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT, box
    assert box["x"] + box["width"] <= WIDTH, box
    alex.get_by_role("button", name="Mark all read", exact=True).click()
    expect(alex.locator(".sms.unread")).to_have_count(0)


def test_each_card_shows_only_what_its_state_allows(handsets: Handsets) -> None:
    pat, alex = handsets.card(CUSTOMER), handsets.card(ANALYST)
    idle = ["Call", "Text", "message"]
    assert handsets.controls(CUSTOMER) == idle and handsets.controls(ANALYST) == idle

    pat.get_by_role("button", name="Call", exact=True).click()  # the menu: keys only
    expect(pat.locator(".heard")).to_contain_text(MENU)
    assert handsets.controls(CUSTOMER) == ["keypad", "Stay silent", "Hang up", "Text", "message"]
    assert pat.get_attribute("data-state") == "in-call"

    pat.locator(".keypad").get_by_role("button", name="2", exact=True).click()  # dial Alex
    expect(alex.locator(".ringing")).to_contain_text(f"Ringing: {LINE}")
    assert handsets.controls(CUSTOMER) == ["Stay silent", "Hang up", "Text", "message"]
    assert handsets.controls(ANALYST) == ["Answer", "Voicemail", "Decline", "Text", "message"]
    expect(alex).to_have_attribute("data-state", "ringing")
    shoot(handsets.page, "simulator-handsets-ringing.png")

    alex.get_by_role("button", name="Answer", exact=True).click()  # the two talk
    talking = ["keypad", "Speak", "Hang up", "Text", "say something", "message"]
    expect(alex.locator(".call-status")).to_contain_text("bridged")
    assert handsets.controls(ANALYST) == talking and handsets.controls(CUSTOMER) == talking

    alex.get_by_role("button", name="Hang up", exact=True).click()
    expect(pat).to_have_attribute("data-state", "ended")
    assert handsets.controls(CUSTOMER) == idle and handsets.controls(ANALYST) == idle

    alex.get_by_placeholder("message").fill("A")
    alex.get_by_role("button", name="Text", exact=True).click()  # the line answers
    expect(alex.locator(".sms.unread")).to_contain_text("You said A")
    assert handsets.controls(ANALYST) == ["Call", "Text", "Mark all read", "message"]
    alex.get_by_role("button", name="Mark all read", exact=True).click()
    expect(alex.locator(".sms.unread")).to_have_count(0)
    assert handsets.controls(ANALYST) == idle


def long_call_twiml(lines: int) -> str:
    """Return TwiML that reads ``lines`` numbered sentences, then waits for a key."""
    says = "".join(f"<Say>Line {n} of the incident report.</Say>" for n in range(1, lines + 1))
    wait = f'<Gather numDigits="1" action="{LINE_APP_URL}/thanks"/>'
    return f"<Response>{says}<Say>{LONG_WORD}</Say>{wait}</Response>"


def test_a_long_transcript_scrolls_inside_its_card_and_stays_where_the_reader_is(
    handsets: Handsets,
) -> None:
    page = handsets.page
    handsets.ring(ANALYST, long_call_twiml(60))
    alex = handsets.card(ANALYST)
    alex.get_by_role("button", name="Answer", exact=True).click()
    heard = alex.locator(".heard")
    expect(heard).to_contain_text("Line 60 of the incident report.")
    size = heard.evaluate(
        "node => ({scroll: node.scrollHeight, client: node.clientHeight,"
        " top: node.scrollTop, scrollWidth: node.scrollWidth, width: node.clientWidth})"
    )
    assert size["scroll"] > size["client"], size  # it scrolls, rather than being cut off
    assert size["top"] + size["client"] >= size["scroll"] - 1, size  # opened at the newest
    assert size["scrollWidth"] <= size["width"], size  # the long word wraps
    card, box = alex.bounding_box(), heard.bounding_box()
    assert card["y"] <= box["y"] and box["y"] + box["height"] <= card["y"] + card["height"]

    # Keyboard users can scroll it too: it takes focus.
    assert heard.get_attribute("tabindex") == "0"
    heard.evaluate("node => { node.scrollTop = 0; }")
    page.wait_for_timeout(2_500)  # two polls of /state.json: the reader is left in place
    assert heard.evaluate("node => node.scrollTop") == 0
    first = heard.locator("p").first
    expect(first).to_have_text("Line 1 of the incident report.")
    assert inside(first.bounding_box(), heard.bounding_box())

    heard.evaluate("node => { node.scrollTop = node.scrollHeight; }")
    last_said = heard.get_by_text("Line 60 of the incident report.", exact=True)
    assert inside(last_said.bounding_box(), heard.bounding_box())
    shoot(page, "simulator-handsets-transcript.png")
    alex.get_by_role("button", name="Hang up", exact=True).click()


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    """Tell whether the box ``inner`` lies within ``outer`` (one pixel of rounding)."""
    return (
        inner["y"] >= outer["y"] - 1
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1
        and inner["x"] >= outer["x"] - 1
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
    )


def test_no_serious_accessibility_violation_idle_or_in_use(handsets: Handsets) -> None:
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    page = handsets.page
    serious = check_axe(axe_module.Axe(), page)
    assert serious == [], serious

    handsets.ring(ANALYST, long_call_twiml(40))  # a scrolling transcript, a keypad
    handsets.card(ANALYST).get_by_role("button", name="Answer", exact=True).click()
    handsets.card(CUSTOMER).get_by_role("button", name="Call", exact=True).click()
    expect(handsets.card(CUSTOMER).locator(".heard")).to_contain_text(MENU)
    handsets.sim.rest_client().messages.create(to=ANALYST, from_=LINE, body="EMERGENCY #1")
    handsets.sim.pump()
    expect(handsets.card(ANALYST).locator(".sms.unread")).to_have_count(1)
    serious = check_axe(axe_module.Axe(), page)
    assert serious == [], serious
    handsets.card(ANALYST).get_by_role("button", name="Mark all read", exact=True).click()
    expect(handsets.card(ANALYST).locator(".sms.unread")).to_have_count(0)


def check_axe(axe: Any, page: Any) -> list[str]:
    """Run axe-core on the page; return its serious and critical violations, described."""
    results = axe.run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"])
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def expect(locator: Any) -> Any:
    """Return Playwright's assertions for ``locator``."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)
