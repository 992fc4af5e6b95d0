"""A clock that moves only when told, for tests and demos that must not sleep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from simulator.resources import SimulatorError


class ManualClock:
    """A clock that moves only when told; call it (or ``now()``) for the time in UTC."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2025, 1, 6, 2, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise SimulatorError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self._now

    def now(self) -> datetime:
        """Return the current simulated time in UTC."""
        return self._now

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move time forward by ``delta`` or by keyword parts (``minutes=5``); return now."""
        step = (delta or timedelta()) + timedelta(**parts)
        if step < timedelta():
            raise SimulatorError("time only moves forward")
        self._now += step
        return self._now

    def set(self, moment: datetime) -> datetime:
        """Jump forward to ``moment``."""
        return self.advance(moment.astimezone(UTC) - self._now)
