"""Small statistics over samples: nearest-rank percentiles and medians."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def percentile(samples: Sequence[float], pct: float) -> float | None:
    """Return the nearest-rank ``pct`` percentile of ``samples`` (None when empty)."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def median(samples: Sequence[float]) -> float | None:
    """Return the median of ``samples`` (None when empty)."""
    return statistics.median(samples) if samples else None


def max_in_window(times: Sequence[float], window: float) -> int:
    """Return the most ``times`` (seconds) that fall within any span of ``window`` seconds."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def min_gap(times: Sequence[float]) -> float | None:
    """Return the shortest gap between consecutive ``times`` (None for fewer than two)."""
    ordered = sorted(times)
    gaps = [b - a for a, b in zip(ordered, ordered[1:], strict=False)]
    return min(gaps) if gaps else None
