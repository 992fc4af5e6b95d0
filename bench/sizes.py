"""How big each benchmark is: ``full`` is the issue's sizes, ``smoke`` keeps CI quick."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    """Every knob the sections read."""

    name: str
    runs: int  # repetitions of each timed measurement; the table shows the median
    storm_callers: int
    storm_seconds: float  # callers start evenly over this span
    quiet_callers: int  # messages left one at a time, each paging its own analyst
    wrk_seconds: int
    history_incidents: int
    rotations: int
    override_years: float
    resolve_samples: int
    admin_requests: int
    lateness_incidents: int
    lateness_seconds: float  # due times spread evenly over this span
    directory_bytes: int  # the directory file checked and loaded


FULL = Size(
    name="full",
    runs=3,
    storm_callers=200,
    storm_seconds=10.0,
    quiet_callers=20,
    wrk_seconds=10,
    history_incidents=100_000,
    rotations=1_000,
    override_years=5.0,
    resolve_samples=200,
    admin_requests=20,
    lateness_incidents=200,
    lateness_seconds=20.0,
    directory_bytes=10_000_000,
)
SMOKE = Size(
    name="smoke",
    runs=1,
    storm_callers=8,
    storm_seconds=2.0,
    quiet_callers=2,
    wrk_seconds=1,
    history_incidents=1_000,
    rotations=20,
    override_years=0.25,
    resolve_samples=20,
    admin_requests=3,
    lateness_incidents=6,
    lateness_seconds=2.0,
    directory_bytes=300_000,
)
SIZES = {size.name: size for size in (FULL, SMOKE)}
