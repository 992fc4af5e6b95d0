"""Helpers for admin pages in headless Chromium: serve the real app on loopback, open a
browser, log in, measure what is on screen, and run the axe accessibility checks.

Pages are screenshotted into test-artifacts/ so a reviewer can see what was asserted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.admin_helpers import ADMIN_PASSWORD, ADMIN_USER

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Impacts axe rates as failures of a page; "minor" and "moderate" findings are reported.
BLOCKING_IMPACTS = ("serious", "critical")

needs_chromium = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no browser: {CHROMIUM} is not installed (apt-get install chromium)",
    ),
]


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` over HTTP on a free loopback port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@contextmanager
def chromium_page(width: int = 1280, height: int = 800) -> Iterator[Any]:
    """Yield a Chromium page of ``width`` x ``height`` that records any dialog a script opens."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        tab = context.new_page()
        tab.dialogs = []
        tab.console_errors = []

        def on_dialog(dialog: Any) -> None:
            tab.dialogs.append(dialog.message)
            dialog.dismiss()

        def on_console(message: Any) -> None:
            if message.type == "error":
                tab.console_errors.append(message.text)

        tab.on("dialog", on_dialog)
        tab.on("console", on_console)
        try:
            yield tab
        finally:
            context.close()
            browser.close()


def log_in(page: Any, base_url: str, path: str = "/admin/") -> None:
    """Open ``path``, log in through the form and wait to be sent back there."""
    page.goto(f"{base_url}{path}")
    page.get_by_label("Username").fill(ADMIN_USER)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}{path}")


def box(locator: Any) -> dict[str, float]:
    """Return the element's box relative to the window (it must be rendered)."""
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not rendered"
    return dict(found)


def is_inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    """Return True when box ``inner`` lies wholly within box ``outer``."""
    return (
        inner["x"] >= outer["x"]
        and inner["y"] >= outer["y"]
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"]
    )


def viewport_box(page: Any) -> dict[str, float]:
    """Return the window's box, in the coordinates ``box`` uses (relative to the window)."""
    size = page.viewport_size
    return {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}


def screenshot(target: Any, name: str) -> Path:
    """Save a page (whole) or one element to test-artifacts/<name>.png; return the path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    path.unlink(missing_ok=True)
    is_page = hasattr(target, "goto")
    target.screenshot(path=str(path), **({"full_page": True} if is_page else {}))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def blocking_accessibility_violations(page: Any) -> list[str]:
    """Run axe-core on the page; return its serious and critical violations, one line each."""
    axe = pytest.importorskip("axe_playwright_python.sync_playwright", reason="no axe")
    results = axe.Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING_IMPACTS
    ]
