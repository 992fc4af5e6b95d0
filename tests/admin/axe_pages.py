"""axe-core on every page a browser test visits, and a record of what it found.

``watch(tab)`` notes each page the tab's main frame opens (by path); ``axe(tab)`` runs
axe-core on the page shown, fails on a serious or critical violation, and appends its
counts to test-artifacts/axe-counts.jsonl; ``all_checked(tab)`` (at the test's end)
fails when the test opened a page it never ran axe on. A form that sends the browser
back to a page already checked counts as that page.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
COUNTS = ARTIFACTS / "axe-counts.jsonl"
BLOCKING = ("serious", "critical")
MIN_RULES_PASSED = 20  # fewer means axe did not really run (a CSP refusal, an empty page)


def _path(url: str) -> str:
    return urlsplit(url).path or "/"


def watch(tab: Any) -> Any:
    """Start noting the pages ``tab`` opens; return it."""
    tab.axe_visited = set()
    tab.axe_checked = set()

    def on_navigated(frame: Any) -> None:
        if frame.parent_frame is None and frame.url.startswith("http"):
            tab.axe_visited.add(_path(frame.url))

    tab.on("framenavigated", on_navigated)
    return tab


def serious(tab: Any, *, record: bool = True) -> tuple[list[str], dict[str, Any]]:
    """Run axe-core on the page shown; return its serious and critical violations and counts.

    ``record=False`` is for a page a test made up to see axe fail: not counted, not a visit.
    """
    module = pytest.importorskip("axe_playwright_python.sync_playwright", reason="no axe")
    response = module.Axe().run(tab).response
    violations = response["violations"]
    counts = {
        "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
        "path": _path(tab.url),
        "violations": dict(Counter(v["impact"] for v in violations)),
        "rules": sorted(f"{v['id']} ({v['impact']})" for v in violations),
        "passes": len(response["passes"]),
        "incomplete": len(response["incomplete"]),
    }
    if record:
        ARTIFACTS.mkdir(exist_ok=True)
        with COUNTS.open("a", encoding="utf-8") as out:
            out.write(json.dumps(counts) + "\n")
        if hasattr(tab, "axe_checked"):
            tab.axe_checked.add(counts["path"])
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in BLOCKING
    ]
    return blocking, counts


def axe(tab: Any) -> dict[str, Any]:
    """Run axe-core on the page shown; fail on a serious or critical violation."""
    blocking, counts = serious(tab)
    assert blocking == [], (tab.url, blocking)
    assert counts["passes"] > MIN_RULES_PASSED, (tab.url, "axe did not run its rules")
    return counts


def all_checked(tab: Any) -> None:
    """Fail when the test opened a page it did not run axe on."""
    missed = sorted(tab.axe_visited - tab.axe_checked)
    assert missed == [], f"pages opened without an axe check: {missed}"
