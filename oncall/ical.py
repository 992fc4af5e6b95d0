"""iCalendar feeds of on-call shifts, for subscribing from Google Calendar or Outlook.

Each shift becomes a VEVENT with DTSTART and DTEND in UTC, so every client shows the same
instants whatever it thinks of the rotation's zone. Shifts break at each rotation handoff
and override boundary, and a shift that straddles the requested range is included whole,
so an event keeps its UID, start and end from one fetch to the next as the range slides.
Events are transparent: being on call does not make an analyst busy for meeting invites.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from icalendar import Calendar, Event

from oncall.rotation import Rotation, as_utc, utc_range
from oncall.schedule import Layer, Schedule, Shift, shifts_between

PRODID = "-//Voiceline//On call//EN"
_REFRESH = timedelta(hours=1)


def schedule_of_rotation(rotation: Rotation) -> Schedule:
    """Return a schedule holding ``rotation`` alone, always active, named after it."""
    return Schedule(rotation.name, rotation.time_zone, (Layer(rotation.name, rotation),))


def _padded_range(schedule: Schedule, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    # A shift split at handoffs lies inside one turn (a shift length plus a DST hour or
    # so) or inside one override: computing that much further out finds it whole.
    longest = max((ly.rotation.shift.duration for ly in schedule.layers), default=timedelta(0))
    lo, hi = start - longest - timedelta(days=1), end + longest + timedelta(days=1)
    for override in schedule.overrides:
        if override.start < lo < override.end:
            lo = override.start
        if override.start < hi < override.end:
            hi = override.end
    return lo, hi


def _feed_shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    lo, hi = _padded_range(schedule, start, end)
    return [
        s
        for s in shifts_between(schedule, lo, hi, split_at_handoffs=True)
        if s.start < end and s.end > start
    ]


def shift_uid(schedule: Schedule, shift: Shift) -> str:
    """Return the event UID of ``shift``: the same shift always gets the same UID."""
    key = "\x1f".join(
        (
            schedule.name,
            shift.analyst,
            shift.layer or "",
            shift.source,
            shift.start.isoformat(),
        )
    )
    return f"{hashlib.sha256(key.encode()).hexdigest()[:32]}@voiceline"


def _event(schedule: Schedule, shift: Shift, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", shift_uid(schedule, shift))
    event.add("dtstamp", stamp)
    event.add("dtstart", shift.start)
    event.add("dtend", shift.end)
    event.add("summary", f"On call: {shift.analyst} ({schedule.name})")
    if shift.layer is None:
        description = f"Override for the whole schedule {schedule.name}"
    else:
        kind = "Override" if shift.source == "override" else "Rotation turn"
        in_layer = f" in layer {shift.layer}" if shift.layer != schedule.name else ""
        description = f"{kind}{in_layer}, schedule {schedule.name}"
    event.add("description", description)
    event.add("transp", "TRANSPARENT")
    return event


def _calendar(prodid: str, calname: str, time_zone: str | None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", prodid)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", calname)
    cal.add("x-wr-calname", calname)
    if time_zone:
        cal.add("x-wr-timezone", time_zone)
    # Ask subscribing clients to refetch hourly (RFC 7986, and Outlook's own property).
    cal.add("refresh-interval", _REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    return cal


def rotation_feed(
    source: Schedule | Rotation,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    prodid: str = PRODID,
    calname: str | None = None,
) -> bytes:
    """Return an iCalendar feed of everyone's shifts in a schedule or rotation over [start, end)."""
    start, end = utc_range(start, end)
    stamp = as_utc(now, "now")
    schedule = schedule_of_rotation(source) if isinstance(source, Rotation) else source
    cal = _calendar(prodid, calname or f"On call: {schedule.name}", schedule.time_zone)
    for shift in _feed_shifts(schedule, start, end):
        cal.add_component(_event(schedule, shift, stamp))
    return cal.to_ical()


def analyst_feed(
    analyst: str,
    schedules: Iterable[Schedule | Rotation],
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    prodid: str = PRODID,
    calname: str | None = None,
) -> bytes:
    """Return an iCalendar feed of ``analyst``'s own shifts across ``schedules`` over [start, end)."""
    start, end = utc_range(start, end)
    stamp = as_utc(now, "now")
    cal = _calendar(prodid, calname or f"On call: {analyst}", None)
    seen: set[str] = set()
    events: list[tuple[datetime, str, Event]] = []
    for source in schedules:
        schedule = schedule_of_rotation(source) if isinstance(source, Rotation) else source
        for shift in _feed_shifts(schedule, start, end):
            uid = shift_uid(schedule, shift)
            if shift.analyst == analyst and uid not in seen:
                seen.add(uid)
                events.append((shift.start, uid, _event(schedule, shift, stamp)))
    for _, _, event in sorted(events, key=lambda item: (item[0], item[1])):
        cal.add_component(event)
    return cal.to_ical()
