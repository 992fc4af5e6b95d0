"""Rotations: which member of an ordered list of analysts holds the on-call turn at any instant.

A rotation hands the turn from one member to the next every shift. ``members[0]`` takes the
turn that starts at ``anchor``, a naive wall time in the rotation's IANA zone (``2026-01-05
08:00`` means "Monday 08:00 local"); the rotation runs forwards and backwards from there
without end. The rules, each with a test per DST case:

* Day and week shifts, and hour shifts that divide a day (1, 2, 3, 4, 6, 8, 12 h) or are
  whole days (24 h, 48 h), follow the local wall clock: a daily 08:00 handoff stays at 08:00
  local, and a 12 h rotation anchored at 08:00 hands over at 08:00 and 20:00 local every day,
  so the night shift that spans a DST change lasts 11 or 13 hours.
* Other hour shifts (5 h, 10 h, 36 h) cannot keep a daily wall-clock pattern, so they follow
  elapsed time: each handoff is exactly that many hours after the previous one.
* A handoff happens at the first instant the local clock reaches or passes its wall time. A
  time skipped by spring-forward (02:30 on 2026-03-08 in Los Angeles) hands over when the
  clock jumps, at 03:00 local; a time repeated by fall-back (01:30 on 2026-11-01) hands over
  at its first occurrence. Unlike the zoneinfo reading of a skipped time (02:30 -> 03:30,
  used for opening windows in ``voiceline.hours``), this rule can never put a handoff after
  a later one, whatever the zone or shift length.
* Two handoffs at the same instant (an hourly rotation's 02:00 and 03:00 handoffs on
  spring-forward night) leave a turn of no length: that member is not on call that night.

A rotation with no members never has anybody on call. Errors::

    ValueError
     └── OnCallError          bad on-call data; the message says what to fix
          ├── NaiveTimeError  an instant without a time zone
          ├── RotationError   a rotation or shift length that cannot be used
          └── ScheduleError   (oncall.schedule) a schedule or layer that cannot be used
               └── OverrideError  an override that cannot be accepted
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from voiceline.errors import InvalidInput
from voiceline.hours import HoursError, zone

ShiftUnit = Literal["h", "d", "w"]

_UNIT_WORDS: dict[str, ShiftUnit] = {
    "h": "h",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "d": "d",
    "day": "d",
    "days": "d",
    "w": "w",
    "wk": "w",
    "week": "w",
    "weeks": "w",
}
_SHIFT_RE = re.compile(r"^\s*(?P<count>\d+)\s*(?P<unit>[a-z]+)\s*$")
_UNIT_HOURS = {"h": 1, "d": 24, "w": 24 * 7}
_MAX_SHIFT_HOURS = 24 * 7 * 52  # a year; longer "rotations" are configuration mistakes


class OnCallError(InvalidInput):
    """Bad on-call data; the message says what to fix."""


class NaiveTimeError(OnCallError):
    """An instant given without a time zone."""


class RotationError(OnCallError):
    """A rotation or shift length that cannot be used."""


def as_utc(value: datetime, what: str = "time") -> datetime:
    """Return the aware ``value`` in UTC, refusing naive datetimes."""
    if not isinstance(value, datetime):
        raise NaiveTimeError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveTimeError(f"{what} {value.isoformat()} has no time zone; pass an aware datetime")
    return value.astimezone(UTC)


def utc_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Return ``start`` and ``end`` in UTC, refusing naive values and an end before the start."""
    lo, hi = as_utc(start, "start"), as_utc(end, "end")
    if hi < lo:
        raise OnCallError(f"end {hi.isoformat()} is before start {lo.isoformat()}")
    return lo, hi


@dataclass(frozen=True)
class ShiftLength:
    """How long each turn lasts: ``count`` hours, days or weeks."""

    count: int
    unit: ShiftUnit
    duration: timedelta = field(init=False, repr=False, compare=False)
    follows_wall_clock: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.unit not in _UNIT_HOURS:
            raise RotationError(f"unknown shift unit {self.unit!r}; use h, d or w")
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise RotationError(
                f"shift length must be a whole number of at least 1, not {self.count!r}"
            )
        hours = self.count * _UNIT_HOURS[self.unit]
        if hours > _MAX_SHIFT_HOURS:
            raise RotationError(f"shift length {self} is longer than a year")
        # The nominal length of one turn.
        object.__setattr__(self, "duration", timedelta(hours=hours))
        # Whether handoffs keep their local wall time across DST (see the module docstring).
        object.__setattr__(self, "follows_wall_clock", 24 % hours == 0 or hours % 24 == 0)

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"


def parse_shift_length(text: str) -> ShiftLength:
    """Parse ``"1w"``, ``"2d"``, ``"12h"`` or ``"8 hours"`` into a ShiftLength."""
    match = _SHIFT_RE.match(text.lower()) if isinstance(text, str) else None
    if match is None or match["unit"] not in _UNIT_WORDS:
        raise RotationError(
            f"cannot read shift length {text!r}; expected a whole number and h, d or w, e.g. '12h'"
        )
    return ShiftLength(int(match["count"]), _UNIT_WORDS[match["unit"]])


def local_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """Return the UTC instant at which the clock in ``tz`` first reaches or passes ``wall``."""
    wall = wall.replace(fold=0)
    # fold=0 reads a repeated time as its first occurrence and a skipped one with the offset
    # from before the jump; fold=1 reads both with the offset from after the change.
    before, after = tz.utcoffset(wall), tz.utcoffset(wall.replace(fold=1))
    assert before is not None and after is not None
    if after <= before:  # an ordinary or a repeated time: its first occurrence
        return (wall - before).replace(tzinfo=UTC)
    # ``wall`` was skipped: ``wall - after`` is an instant before the jump and ``wall -
    # before`` one after it. The jump itself is the first instant whose reading passes
    # ``wall``: bisect down to the microsecond.
    lo, hi = (wall - after).replace(tzinfo=UTC), (wall - before).replace(tzinfo=UTC)
    while hi - lo > timedelta(microseconds=1):
        mid = lo + (hi - lo) // 2
        if mid.astimezone(tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return hi


@dataclass(frozen=True)
class Rotation:
    """An ordered list of analysts taking turns of ``shift`` from the local wall time ``anchor``."""

    name: str
    time_zone: str
    members: tuple[str, ...]
    shift: ShiftLength
    anchor: datetime
    tz: ZoneInfo = field(init=False, repr=False, compare=False)
    first_handoff: datetime = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise RotationError("a rotation needs a name")
        try:
            tz = zone(self.time_zone)
        except HoursError as exc:
            raise RotationError(f"rotation {self.name!r}: {exc}") from exc
        members = tuple(self.members)
        for member in members:
            if not isinstance(member, str) or not member.strip():
                raise RotationError(f"rotation {self.name!r}: member names must be non-empty text")
        if not isinstance(self.shift, ShiftLength):
            raise RotationError(
                f"rotation {self.name!r}: shift must be a ShiftLength (use parse_shift_length)"
            )
        if not isinstance(self.anchor, datetime) or self.anchor.tzinfo is not None:
            raise RotationError(
                f"rotation {self.name!r}: anchor is a local wall time in {self.time_zone}; "
                "pass a datetime without tzinfo"
            )
        object.__setattr__(self, "members", members)
        object.__setattr__(self, "tz", tz)
        object.__setattr__(self, "first_handoff", local_instant(self.anchor, tz))

    def member_of_turn(self, turn: int) -> str | None:
        """Return the member holding turn number ``turn`` (0 starts at the anchor)."""
        if not self.members:
            return None
        return self.members[turn % len(self.members)]


@dataclass(frozen=True)
class Handoff:
    """The moment turn number ``turn`` begins and ``member`` takes over."""

    at: datetime
    member: str | None
    turn: int


@dataclass(frozen=True)
class RotationShift:
    """The part of turn number ``turn`` that ``member`` holds inside a queried range."""

    member: str
    start: datetime
    end: datetime
    turn: int


def handoff_time(rotation: Rotation, turn: int) -> datetime:
    """Return the UTC instant at which turn number ``turn`` begins."""
    step = rotation.shift.duration
    if rotation.shift.follows_wall_clock:
        # Naive arithmetic on the anchor is wall-clock arithmetic: 08:00 + 1 day = 08:00.
        return local_instant(rotation.anchor + turn * step, rotation.tz)
    return rotation.first_handoff + turn * step


def turn_at(rotation: Rotation, at: datetime) -> int:
    """Return the number of the turn in force at ``at`` (negative before the anchor)."""
    at = as_utc(at, "at")
    if not rotation.shift.follows_wall_clock:
        return (at - rotation.first_handoff) // rotation.shift.duration
    # Estimate from the local reading, which is off by a turn at most around a jump; handoff
    # times never decrease, so walking to the last handoff at or before ``at`` is exact.
    turn = (
        at.astimezone(rotation.tz).replace(tzinfo=None) - rotation.anchor
    ) // rotation.shift.duration
    while handoff_time(rotation, turn) > at:
        turn -= 1
    while handoff_time(rotation, turn + 1) <= at:
        turn += 1
    return turn


def member_at(rotation: Rotation, at: datetime) -> str | None:
    """Return who holds the rotation's turn at ``at``, or None when it has no members."""
    if not rotation.members:
        as_utc(at, "at")
        return None
    return rotation.member_of_turn(turn_at(rotation, at))


def handoffs_between(rotation: Rotation, start: datetime, end: datetime) -> list[Handoff]:
    """Return the handoffs in [start, end), one per instant; none for a rotation without members."""
    start, end = utc_range(start, end)
    if not rotation.members or start == end:
        return []
    handoffs: list[Handoff] = []
    turn = turn_at(rotation, start)
    at = handoff_time(rotation, turn)
    if at < start:
        turn += 1
        at = handoff_time(rotation, turn)
    while at < end:
        following = handoff_time(rotation, turn + 1)
        if following > at:  # a turn of no length hands straight on to the next one
            handoffs.append(Handoff(at, rotation.member_of_turn(turn), turn))
        turn, at = turn + 1, following
    return handoffs


def next_handoff(rotation: Rotation, at: datetime) -> Handoff | None:
    """Return the first handoff after ``at``, or None for a rotation without members."""
    at = as_utc(at, "at")
    if not rotation.members:
        return None
    turn = turn_at(rotation, at) + 1
    while handoff_time(rotation, turn + 1) == handoff_time(rotation, turn):
        turn += 1
    return Handoff(handoff_time(rotation, turn), rotation.member_of_turn(turn), turn)


def rotation_shifts(rotation: Rotation, start: datetime, end: datetime) -> list[RotationShift]:
    """Return the turns held inside [start, end), clipped to it, in order."""
    start, end = utc_range(start, end)
    if not rotation.members or start == end:
        return []
    shifts: list[RotationShift] = []
    turn = turn_at(rotation, start)
    lo = start
    while lo < end:
        hi = handoff_time(rotation, turn + 1)
        if hi > lo:
            member = rotation.member_of_turn(turn)
            assert member is not None
            shifts.append(RotationShift(member, lo, min(hi, end), turn))
            lo = hi
        turn += 1
    return shifts
