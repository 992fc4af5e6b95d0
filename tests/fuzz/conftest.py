"""The fuzz tests print how many examples each route ran: see ``tests/fuzz/fuzz_support.py``."""

from __future__ import annotations

import pytest

from tests.fuzz.fuzz_support import COUNTS, EXAMPLES, write_counts


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the examples run per route, and write them to ``FUZZ_COUNTS_FILE`` when set."""
    if not COUNTS:
        return
    terminalreporter.section(f"fuzz: examples run per route (max_examples={EXAMPLES})")
    for name, count in sorted(COUNTS.items()):
        terminalreporter.write_line(f"{count:6d}  {name}")
    terminalreporter.write_line(f"{sum(COUNTS.values()):6d}  in all, over {len(COUNTS)} routes")
    path = write_counts()
    if path is not None:
        terminalreporter.write_line(f"(also written to {path})")
