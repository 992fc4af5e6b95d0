"""The one table the drills print: what went in, what came out, and what went missing.

Each drill appends a ``DrillRow`` before it asserts, so a failing drill still shows its
figures; ``tests/drills/conftest.py`` prints every row at the end of the run.

The columns, counted from outside the product:

- ``faults``: faults the drill injected (kills, refused requests, clock steps, ...);
- ``inc exp`` / ``inc found``: callers who left a message, and the incidents they got;
- ``pages exp`` / ``pages sent``: rounds of paging that should have reached an analyst
  (one incident, one escalation step, one analyst, any channel), and those that did in time;
- ``alarms``: admin notices written during the drill, plus one if ``/healthz`` said
  ``degraded`` while the drill watched it;
- ``lost``: callers without an incident plus rounds not reached in time;
- ``doubled``: incidents beyond one per caller plus page deliveries beyond one per round,
  analyst and channel.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path


@dataclass
class DrillRow:
    """The figures of one drill."""

    drill: str
    faults: int = 0
    incidents_expected: int = 0
    incidents_found: int = 0
    pages_expected: int = 0
    pages_sent: int = 0
    alarms: int = 0
    lost: int = 0
    doubled: int = 0


HEADINGS = (
    "drill",
    "faults",
    "inc exp",
    "inc found",
    "pages exp",
    "pages sent",
    "alarms",
    "lost",
    "doubled",
)
ROWS: list[DrillRow] = []


def record(row: DrillRow) -> DrillRow:
    """Keep a drill's row for the table; return it."""
    ROWS.append(row)
    return row


def format_table(rows: list[DrillRow]) -> list[str]:
    """Return the table as lines of aligned text."""
    cells = [list(HEADINGS)] + [
        [str(getattr(row, f.name)) for f in fields(DrillRow)] for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADINGS))]

    def line(values: list[str]) -> str:
        first = values[0].ljust(widths[0])
        rest = [value.rjust(width) for value, width in zip(values[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

    rule = "  ".join("-" * width for width in widths)
    return [line(cells[0]), rule, *(line(values) for values in cells[1:])]


def write_table(rows: list[DrillRow]) -> Path | None:
    """Also write the table to ``DRILL_TABLE_FILE`` when it is set; return the path."""
    target = os.environ.get("DRILL_TABLE_FILE")
    if not target:
        return None
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(format_table(rows)) + "\n", encoding="utf-8")
    return path
