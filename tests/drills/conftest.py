"""The drills print one table at the end of the run: see ``tests/drills/drill_table.py``."""

from __future__ import annotations

import pytest

from tests.drills.drill_table import ROWS, format_table, write_table


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the drills' table, and write it to ``DRILL_TABLE_FILE`` when that is set."""
    if not ROWS:
        return
    terminalreporter.section("drills")
    for line in format_table(ROWS):
        terminalreporter.write_line(line)
    path = write_table(ROWS)
    if path is not None:
        terminalreporter.write_line(f"(also written to {path})")
