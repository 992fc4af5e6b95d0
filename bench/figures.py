"""Figures: one measured quantity, its target, the runs behind it and the verdict.

A figure with a target is *met* or *missed* by the median of its runs; one without is
shown for information; one that could not be measured says why and counts as missed,
so a broken bench is never mistaken for a good result.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.stats import median

MET, MISSED, INFO, NOT_MEASURED = "met", "MISSED", "info", "NOT MEASURED"
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
}


@dataclass
class Figure:
    """One line of the table."""

    key: str
    name: str
    unit: str
    op: str | None = None  # "<=", ">=", "==", or None for information only
    target: float | None = None
    runs: list[float] = field(default_factory=list)
    ratio: str = ""  # webhooks: against the bare Flask app of the same run
    detail: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None  # why it was not measured

    def add(self, value: float) -> Figure:
        """Record one run's value; return self."""
        self.runs.append(float(value))
        return self

    @property
    def measured(self) -> float | None:
        """Return the median of the runs."""
        return median(self.runs)

    @property
    def verdict(self) -> str:
        """Return met, MISSED, info or NOT MEASURED."""
        value = self.measured
        if self.problem is not None or value is None:
            return NOT_MEASURED
        if self.op is None or self.target is None:
            return INFO
        return MET if _OPS[self.op](value, self.target) else MISSED

    @property
    def target_text(self) -> str:
        """Return the target as the table shows it."""
        if self.op is None or self.target is None:
            return "-"
        return f"{self.op} {_number(self.target)} {self.unit}".strip()

    @property
    def measured_text(self) -> str:
        """Return the median, with the run count when there were several runs."""
        if self.problem is not None:
            return self.problem if len(self.problem) <= 90 else self.problem[:87] + "..."
        value = self.measured
        if value is None:
            return "no runs"
        runs = f" (median of {len(self.runs)})" if len(self.runs) > 1 else ""
        if math.isinf(value):
            return "never" + runs
        return f"{_number(value)} {self.unit}".strip() + runs

    def as_json(self) -> dict[str, Any]:
        """Return the figure for the results file."""
        return {
            "key": self.key,
            "name": self.name,
            "unit": self.unit,
            "target": None if self.op is None else {"op": self.op, "value": self.target},
            "measured": _finite(self.measured),
            "runs": [_finite(run) for run in self.runs],
            "verdict": self.verdict,
            "ratio": self.ratio or None,
            "problem": self.problem,
            "detail": self.detail,
        }


def _number(value: float) -> str:
    """Return ``value`` with as many decimals as its size needs."""
    if math.isinf(value) or math.isnan(value):
        return "never" if value > 0 else str(value)
    if value == int(value) and abs(value) >= 10:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def _finite(value: float | None) -> float | str | None:
    """Return ``value``, or "never" for infinity (JSON has no infinity)."""
    if value is not None and math.isinf(value):
        return "never"
    return value


def table(figures: list[Figure]) -> str:
    """Return the figures as a plain-text table."""
    head = ("figure", "target", "measured", "verdict", "vs bare Flask")
    rows = [(f.name, f.target_text, f.measured_text, f.verdict, f.ratio) for f in figures]
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)
