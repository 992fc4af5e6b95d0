"""Schedules: layered rotations, restriction windows and overrides, resolved to one analyst.

A schedule is an ordered tuple of layers, the first with the highest precedence. A layer
runs one rotation, optionally only inside weekly windows (``voiceline.hours``, read in the
schedule's time zone), e.g. the after-hours cover "mon-thu 16:30-08:00; fri 16:30-24:00;
sat-sun 00:00-24:00; mon 00:00-08:00".

Overrides win over rotations. Which one applies at an instant, from strongest to weakest:

1. a schedule-wide cover (``layer=None, replaces=None``): the analyst is on call for the
   whole schedule, even where no layer is active;
2. in each active layer, a cover for that layer (``layer=L, replaces=None``): the analyst
   holds the layer whoever the rotation says, even when its rotation has no members;
3. in each active layer, a replacement for that layer (``layer=L, replaces=X``), then a
   replacement anywhere in the schedule (``layer=None, replaces=X``): the analyst takes the
   turns the rotation gives X. A replacement applies to the rotation's member, not to
   another override's analyst.

Overlapping overrides for the same slot (same layer, same replaced analyst) are refused by
``validate_override``; should stored data still hold some, the later one in
``Schedule.overrides`` wins. The schedule's on-call
analyst is the schedule-wide cover, or else the first layer that is active and has somebody.
All functions take aware datetimes, work in UTC and IANA zones, and do not depend on the
process's own time zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from oncall.rotation import (
    OnCallError,
    Rotation,
    RotationShift,
    as_utc,
    member_at,
    rotation_shifts,
    utc_range,
)
from voiceline.hours import Hours, HoursError, open_intervals, zone

Source = Literal["rotation", "override"]
Interval = tuple[datetime, datetime]
_INSTANT = timedelta(microseconds=1)


class ScheduleError(OnCallError):
    """A schedule or layer that cannot be used."""


class OverrideError(ScheduleError):
    """An override that cannot be accepted."""


@dataclass(frozen=True)
class Layer:
    """One rotation, active only inside ``hours`` (None: always)."""

    name: str
    rotation: Rotation
    hours: Hours | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ScheduleError("a layer needs a name")
        if self.hours is not None:
            object.__setattr__(self, "hours", tuple(self.hours))


@dataclass(frozen=True)
class Override:
    """``analyst`` is on call from ``start`` to ``end`` instead of the rotation (see module doc)."""

    analyst: str
    start: datetime
    end: datetime
    replaces: str | None = None
    layer: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.analyst, str) or not self.analyst.strip():
            raise OverrideError("an override needs the analyst who covers")
        start = as_utc(self.start, "override start")
        end = as_utc(self.end, "override end")
        if end <= start:
            raise OverrideError(
                f"override for {self.analyst} ends at {end.isoformat()}, "
                f"not after its start {start.isoformat()}"
            )
        if self.replaces == self.analyst:
            raise OverrideError(f"{self.analyst} cannot replace themselves")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @property
    def slot(self) -> tuple[str | None, str | None]:
        """Return what the override takes over: (layer, replaced analyst)."""
        return (self.layer, self.replaces)


@dataclass(frozen=True)
class Schedule:
    """Layers in precedence order (first wins) and the overrides on top of them."""

    name: str
    time_zone: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ScheduleError("a schedule needs a name")
        try:
            zone(self.time_zone)
        except HoursError as exc:
            raise ScheduleError(f"schedule {self.name!r}: {exc}") from exc
        layers, overrides = tuple(self.layers), tuple(self.overrides)
        names = [layer.name for layer in layers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ScheduleError(f"schedule {self.name!r} has two layers named {duplicates[0]!r}")
        for override in overrides:
            if override.layer is not None and override.layer not in names:
                raise ScheduleError(
                    f"schedule {self.name!r} has an override for unknown layer {override.layer!r}"
                )
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "overrides", overrides)

    @property
    def tz(self) -> ZoneInfo:
        """Return the schedule's zone, in which layer windows are read."""
        return zone(self.time_zone)

    def members(self) -> frozenset[str]:
        """Return every analyst who appears in a layer's rotation."""
        return frozenset(m for layer in self.layers for m in layer.rotation.members)


@dataclass(frozen=True)
class Shift:
    """``analyst`` is on call from ``start`` to ``end``; ``layer`` is None for a schedule-wide cover."""

    analyst: str
    start: datetime
    end: datetime
    layer: str | None
    source: Source


# A decision: (analyst, layer, source, which rotation turn or override produced it).
_Decision = tuple[str, str | None, Source, object]


def _last(overrides: Iterable[Override]) -> Override | None:
    chosen = None
    for override in overrides:
        chosen = override
    return chosen


def _decide_layer(
    layer: str, is_active: bool, member: str | None, turn: object, live: Sequence[Override]
) -> _Decision | None:
    if not is_active:
        return None
    chosen = _last(o for o in live if o.layer == layer and o.replaces is None)
    if chosen is None and member is not None:
        chosen = _last(o for o in live if o.layer == layer and o.replaces == member)
        if chosen is None:
            chosen = _last(o for o in live if o.layer is None and o.replaces == member)
    if chosen is not None:
        return (chosen.analyst, layer, "override", chosen)
    if member is None:
        return None
    return (member, layer, "rotation", turn)


def _decide(
    layers: Sequence[Layer],
    bases: Sequence[tuple[bool, str | None, object]],
    live: Sequence[Override],
) -> _Decision | None:
    cover = _last(o for o in live if o.layer is None and o.replaces is None)
    if cover is not None:
        return (cover.analyst, None, "override", cover)
    for layer, (is_active, member, turn) in zip(layers, bases, strict=True):
        decision = _decide_layer(layer.name, is_active, member, turn, live)
        if decision is not None:
            return decision
    return None


def _is_layer_active(layer: Layer, tz: ZoneInfo, at: datetime) -> bool:
    if layer.hours is None:
        return True
    # A one-microsecond probe: is_open_at's one-second probe would open a window early.
    return bool(open_intervals(layer.hours, tz, at, at + _INSTANT))


def _live_overrides(schedule: Schedule, at: datetime) -> list[Override]:
    return [o for o in schedule.overrides if o.start <= at < o.end]


def _bases_at(schedule: Schedule, at: datetime) -> list[tuple[bool, str | None, object]]:
    tz = schedule.tz
    return [
        (_is_layer_active(layer, tz, at), member_at(layer.rotation, at), None)
        for layer in schedule.layers
    ]


def who_is_on_call(schedule: Schedule, at: datetime) -> str | None:
    """Return the analyst on call for ``schedule`` at ``at``, or None when nobody is."""
    at = as_utc(at, "at")
    decision = _decide(schedule.layers, _bases_at(schedule, at), _live_overrides(schedule, at))
    return None if decision is None else decision[0]


def on_call_by_layer(schedule: Schedule, at: datetime) -> dict[str, str | None]:
    """Return each layer's analyst at ``at`` (None: inactive or empty), overrides applied."""
    at = as_utc(at, "at")
    live = _live_overrides(schedule, at)
    result: dict[str, str | None] = {}
    for layer, (is_active, member, turn) in zip(
        schedule.layers, _bases_at(schedule, at), strict=True
    ):
        decision = _decide_layer(layer.name, is_active, member, turn, live)
        result[layer.name] = None if decision is None else decision[0]
    return result


class _Track:
    """Sorted, disjoint intervals carrying a value, read at increasing instants."""

    def __init__(self, spans: Sequence[tuple[datetime, datetime, object]]) -> None:
        self.spans = spans
        self.index = 0

    def value_at(self, at: datetime) -> object | None:
        while self.index < len(self.spans) and self.spans[self.index][1] <= at:
            self.index += 1
        if self.index < len(self.spans) and self.spans[self.index][0] <= at:
            return self.spans[self.index][2]
        return None


def _active_spans(layer: Layer, tz: ZoneInfo, start: datetime, end: datetime) -> list[Interval]:
    return [(start, end)] if layer.hours is None else open_intervals(layer.hours, tz, start, end)


def _timeline(
    schedule: Schedule, start: datetime, end: datetime, only_layer: str | None
) -> list[tuple[datetime, datetime, _Decision]]:
    """Return the decisions in force over [start, end), one per elementary interval."""
    tz = schedule.tz
    layers = [ly for ly in schedule.layers if only_layer is None or ly.name == only_layer]
    turns: list[list[RotationShift]] = [rotation_shifts(ly.rotation, start, end) for ly in layers]
    actives = [_active_spans(ly, tz, start, end) for ly in layers]
    overrides = [o for o in schedule.overrides if o.start < end and o.end > start]
    points = {start, end}
    for layer_turns in turns:
        points.update(t.start for t in layer_turns)
    for spans in actives:
        points.update(lo for lo, _ in spans)
        points.update(hi for _, hi in spans)
    for o in overrides:
        points.update(p for p in (o.start, o.end) if start < p < end)
    ordered = sorted(points)

    turn_tracks = [_Track([(t.start, t.end, t) for t in layer_turns]) for layer_turns in turns]
    active_tracks = [_Track([(lo, hi, True) for lo, hi in spans]) for spans in actives]
    result: list[tuple[datetime, datetime, _Decision]] = []
    for lo, hi in zip(ordered, ordered[1:], strict=False):
        bases: list[tuple[bool, str | None, object]] = []
        for turn_track, active_track in zip(turn_tracks, active_tracks, strict=True):
            turn = turn_track.value_at(lo)
            member = turn.member if isinstance(turn, RotationShift) else None
            bases.append((active_track.value_at(lo) is True, member, turn))
        live = [o for o in overrides if o.start <= lo < o.end]
        if only_layer is not None:
            # A layer's own view: schedule-wide covers sit above the layers, not in them.
            live = [o for o in live if not (o.layer is None and o.replaces is None)]
        decision = _decide(layers, bases, live)
        if decision is not None:
            result.append((lo, hi, decision))
    return result


def _merge(
    timeline: Sequence[tuple[datetime, datetime, _Decision]], split_at_handoffs: bool
) -> list[Shift]:
    shifts: list[Shift] = []
    keys: list[tuple[object, ...]] = []
    for lo, hi, (analyst, layer, source, origin) in timeline:
        key: tuple[object, ...] = (analyst, layer, source)
        if split_at_handoffs:
            key += (origin.turn if isinstance(origin, RotationShift) else id(origin),)
        if shifts and keys[-1] == key and shifts[-1].end == lo:
            last = shifts[-1]
            shifts[-1] = Shift(last.analyst, last.start, hi, last.layer, last.source)
        else:
            shifts.append(Shift(analyst, lo, hi, layer, source))
            keys.append(key)
    return shifts


def shifts_between(
    schedule: Schedule, start: datetime, end: datetime, *, split_at_handoffs: bool = False
) -> list[Shift]:
    """Return who is on call over [start, end): ordered, disjoint, merged while nothing changes.

    Consecutive stretches merge when analyst, layer and source stay the same; with
    ``split_at_handoffs`` they also break at each rotation handoff and override boundary.
    Time when nobody is on call has no shift.
    """
    start, end = utc_range(start, end)
    return _merge(_timeline(schedule, start, end, None), split_at_handoffs)


def layer_shifts_between(
    schedule: Schedule, layer: str, start: datetime, end: datetime
) -> list[Shift]:
    """Return one layer's own on-call stretches over [start, end), its overrides applied."""
    start, end = utc_range(start, end)
    if layer not in {ly.name for ly in schedule.layers}:
        raise ScheduleError(f"schedule {schedule.name!r} has no layer {layer!r}")
    return _merge(_timeline(schedule, start, end, layer), False)


def validate_override(
    schedule: Schedule,
    override: Override,
    existing: Iterable[Override] | None = None,
    *,
    analysts: Iterable[str] = (),
) -> None:
    """Raise OverrideError unless ``override`` can be added to ``schedule``.

    ``existing`` defaults to the schedule's overrides (leave out the one being edited);
    ``analysts`` names analysts who may cover without being in any rotation.
    """
    layers = {ly.name: ly for ly in schedule.layers}
    if override.layer is not None and override.layer not in layers:
        raise OverrideError(f"schedule {schedule.name!r} has no layer {override.layer!r}")
    known = schedule.members() | set(analysts)
    if override.analyst not in known:
        raise OverrideError(f"{override.analyst!r} is not an analyst of schedule {schedule.name!r}")
    if override.replaces is not None:
        scope = (
            set(layers[override.layer].rotation.members)
            if override.layer is not None
            else schedule.members()
        )
        if override.replaces not in scope:
            where = f"layer {override.layer!r}" if override.layer else f"schedule {schedule.name!r}"
            raise OverrideError(
                f"{override.replaces!r} is never on call in {where}, so there is nobody to replace"
            )
    for other in schedule.overrides if existing is None else existing:
        if (
            other.slot == override.slot
            and other.start < override.end
            and override.start < other.end
        ):
            raise OverrideError(
                f"overlaps the override for {other.analyst} from {other.start.isoformat()} "
                f"to {other.end.isoformat()}"
            )
