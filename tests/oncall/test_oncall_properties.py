"""Property tests: shift lists agree minute by minute with pointwise resolution, across DST.

Random rotations, layers, windows and overrides around the DST nights of both hemispheres;
the answers must also be the same whatever the server's own TZ is.
"""

import bisect
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncall.coverage import coverage_gaps
from oncall.ical import analyst_feed, rotation_feed
from oncall.rotation import (
    Rotation,
    handoff_time,
    handoffs_between,
    member_at,
    parse_shift_length,
    rotation_shifts,
)
from oncall.schedule import (
    Layer,
    Override,
    Schedule,
    Shift,
    layer_shifts_between,
    on_call_by_layer,
    shifts_between,
    who_is_on_call,
)
from voiceline.hours import Hours, is_open_at, parse_hours, zone

# The 2026 spring-forward and fall-back days of each zone, or a quiet day.
DST_DAYS = {
    "America/Los_Angeles": [date(2026, 3, 8), date(2026, 11, 1)],
    "America/New_York": [date(2026, 3, 8), date(2026, 11, 1)],
    "Europe/London": [date(2026, 3, 29), date(2026, 10, 25)],
    "Europe/Berlin": [date(2026, 3, 29), date(2026, 10, 25)],
    "Australia/Sydney": [date(2026, 10, 4), date(2026, 4, 5)],
    "Pacific/Auckland": [date(2026, 9, 27), date(2026, 4, 5)],
    "Australia/Lord_Howe": [date(2026, 10, 4), date(2026, 4, 5)],  # half-hour DST
    "Asia/Kolkata": [date(2026, 6, 15)],
    "UTC": [date(2026, 6, 15)],
}
ZONES = list(DST_DAYS)
# Local times of day (in minutes) inside and at the edges of skipped and repeated hours.
NEAR_CHANGES = [0, 60, 90, 119, 120, 130, 150, 179, 180, 480, 1200]
SHIFTS = ["1w", "1d", "2d", "12h", "8h", "6h", "3h", "1h", "5h", "36h"]
NAMES = ["Alex", "Bo", "Cy", "Dee", "Eve"]
HOURS: list[Hours | None] = [
    None,
    None,
    parse_hours(
        ["mon-thu 16:30-08:00", "fri 16:30-24:00", "sat-sun 00:00-24:00", "mon 00:00-08:00"]
    ),
    parse_hours("mon-fri 08:00-16:30"),
    parse_hours("sat-sun 00:00-24:00"),
    parse_hours("daily 01:30-02:45"),
    parse_hours("daily 22:00-06:00"),
]
FAST = settings(max_examples=60, deadline=None, database=None)
SLOW = settings(
    max_examples=12, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
MINUTE = timedelta(minutes=1)
TICK = timedelta(microseconds=1)


@st.composite
def rotations(draw: st.DrawFn, time_zone: str | None = None) -> Rotation:
    tz = time_zone or draw(st.sampled_from(ZONES))
    day = draw(st.sampled_from(DST_DAYS[tz])) + timedelta(days=draw(st.integers(-20, 20)))
    minute = draw(st.one_of(st.sampled_from(NEAR_CHANGES), st.integers(0, 1439)))
    anchor = datetime.combine(day, time()) + timedelta(minutes=minute)
    members = tuple(draw(st.lists(st.sampled_from(NAMES), max_size=4)))
    shift = parse_shift_length(draw(st.sampled_from(SHIFTS)))
    return Rotation("R", tz, members, shift, anchor)


@st.composite
def windows(draw: st.DrawFn, time_zone: str, hours: int) -> tuple[datetime, datetime]:
    """Draw a range starting up to 12 h before local midnight of one of the zone's DST days."""
    day = draw(st.sampled_from(DST_DAYS[time_zone]))
    start = datetime.combine(day, time(), zone(time_zone)).astimezone(UTC)
    start -= timedelta(minutes=draw(st.integers(0, 12 * 60)))
    return start, start + timedelta(hours=hours)


@st.composite
def schedules(draw: st.DrawFn, time_zone: str, start: datetime) -> Schedule:
    count = draw(st.integers(1, 3))
    # Mostly the zone whose DST change the range spans, sometimes another one.
    zones = st.sampled_from([time_zone, time_zone, *ZONES])
    layers = tuple(
        Layer(f"L{i}", draw(rotations(draw(zones))), draw(st.sampled_from(HOURS)))
        for i in range(count)
    )
    overrides = []
    for _ in range(draw(st.integers(0, 4))):
        analyst = draw(st.sampled_from([*NAMES, "Zed"]))
        replaces = draw(st.sampled_from([None, *NAMES]))
        if replaces == analyst:
            replaces = None
        begin = start + timedelta(minutes=draw(st.integers(-600, 1800)))
        length = timedelta(minutes=draw(st.integers(1, 1800)))
        layer = draw(st.sampled_from([None, *(ly.name for ly in layers)]))
        overrides.append(Override(analyst, begin, begin + length, replaces, layer))
    return Schedule("S", draw(zones), layers, tuple(overrides))


@st.composite
def scenarios(draw: st.DrawFn, hours: int) -> tuple[Schedule, datetime, datetime]:
    time_zone = draw(st.sampled_from(ZONES))
    start, end = draw(windows(time_zone, hours))
    return draw(schedules(time_zone, start)), start, end


@st.composite
def rotations_and_windows(draw: st.DrawFn, hours: int) -> tuple[Rotation, datetime, datetime]:
    rotation = draw(rotations())
    start, end = draw(windows(rotation.time_zone, hours))
    return rotation, start, end


def assert_well_formed(shifts: list[Shift], start: datetime, end: datetime) -> None:
    for shift in shifts:
        assert start <= shift.start < shift.end <= end
    for before, after in zip(shifts, shifts[1:], strict=False):
        assert before.end <= after.start
        if before.end == after.start:  # touching stretches must differ, or they would merge
            assert (before.analyst, before.layer, before.source) != (
                after.analyst,
                after.layer,
                after.source,
            )


def analyst_at(shifts: list[Shift], at: datetime) -> str | None:
    i = bisect.bisect_right([s.start for s in shifts], at) - 1
    return shifts[i].analyst if i >= 0 and at < shifts[i].end else None


def probe_instants(shifts: list[Shift], start: datetime, end: datetime) -> list[datetime]:
    instants = []
    at = start
    while at < end:
        instants.append(at)
        at += MINUTE
    for shift in shifts:
        instants += [shift.start, shift.end - TICK]
        if shift.start > start:
            instants.append(shift.start - TICK)
    return instants


@SLOW
@given(scenarios(hours=26))
def test_every_minute_has_the_one_analyst_the_shift_list_says(
    scenario: tuple[Schedule, datetime, datetime],
) -> None:
    schedule, start, end = scenario
    shifts = shifts_between(schedule, start, end)
    assert_well_formed(shifts, start, end)
    per_layer = {
        ly.name: layer_shifts_between(schedule, ly.name, start, end) for ly in schedule.layers
    }
    for layer_shifts in per_layer.values():
        assert_well_formed(layer_shifts, start, end)
    for at in probe_instants(shifts, start, end):
        assert analyst_at(shifts, at) == who_is_on_call(schedule, at), at
        by_layer = on_call_by_layer(schedule, at)
        for name, layer_shifts in per_layer.items():
            assert analyst_at(layer_shifts, at) == by_layer[name], (name, at)


@FAST
@given(scenarios(hours=48), st.lists(st.integers(0, 48 * 60 - 1), min_size=5, max_size=20))
def test_overrides_win(scenario: tuple[Schedule, datetime, datetime], minutes: list[int]) -> None:
    schedule, start, _ = scenario
    tz = zone(schedule.time_zone)
    for at in (start + timedelta(minutes=m, seconds=17) for m in minutes):
        live = [o for o in schedule.overrides if o.start <= at < o.end]
        covers = [o for o in live if o.layer is None and o.replaces is None]
        result = who_is_on_call(schedule, at)
        if covers:
            assert result == covers[-1].analyst
        by_layer = on_call_by_layer(schedule, at)
        for layer in schedule.layers:
            active = layer.hours is None or is_open_at(layer.hours, tz, at)
            member = member_at(layer.rotation, at)
            layer_covers = [o for o in live if o.layer == layer.name and o.replaces is None]
            replacing = [o for o in live if o.layer in (None, layer.name) and o.replaces == member]
            if not active:
                assert by_layer[layer.name] is None
            elif layer_covers:
                assert by_layer[layer.name] == layer_covers[-1].analyst
            elif member is not None and replacing:
                in_layer = [o for o in replacing if o.layer == layer.name]
                assert by_layer[layer.name] == (in_layer or replacing)[-1].analyst
                assert by_layer[layer.name] != member
            else:
                assert by_layer[layer.name] == member
        if not covers:
            assert result == next((a for a in by_layer.values() if a is not None), None)


@FAST
@given(scenarios(hours=72), st.sampled_from([None, *HOURS[2:]]))
def test_gaps_are_exactly_the_needed_time_without_cover(
    scenario: tuple[Schedule, datetime, datetime], required: Hours | None
) -> None:
    schedule, start, end = scenario
    shifts = shifts_between(schedule, start, end)
    gaps = coverage_gaps(schedule, start, end, required)
    for gap in gaps:
        assert start <= gap.start < gap.end <= end
        for at in (gap.start, gap.start + (gap.end - gap.start) / 2, gap.end - TICK):
            assert who_is_on_call(schedule, at) is None
            assert required is None or is_open_at(required, zone(schedule.time_zone), at)
    if required is None:
        pieces = sorted([(s.start, s.end) for s in shifts] + [(g.start, g.end) for g in gaps])
        assert pieces[0][0] == start and pieces[-1][1] == end
        assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))


@FAST
@given(rotations_and_windows(hours=24 * 9))
def test_handoffs_keep_their_wall_time_or_happen_as_the_clock_jumps(
    case: tuple[Rotation, datetime, datetime],
) -> None:
    rotation, start, end = case
    handoffs = handoffs_between(rotation, start, end)
    assert [h.at for h in handoffs] == sorted({h.at for h in handoffs})
    tz = rotation.tz
    for h in handoffs:
        assert start <= h.at < end
        assert member_at(rotation, h.at) == h.member
        if rotation.shift.follows_wall_clock:
            wall = rotation.anchor + h.turn * rotation.shift.duration
            reading = h.at.astimezone(tz).replace(tzinfo=None)
            before = (h.at - TICK).astimezone(tz).replace(tzinfo=None)
            assert reading == wall or (before < wall < reading)
        else:
            assert h.at == handoff_time(rotation, 0) + h.turn * rotation.shift.duration
    if not rotation.shift.follows_wall_clock:
        assert all(
            b.at - a.at == rotation.shift.duration
            for a, b in zip(handoffs, handoffs[1:], strict=False)
        )
    shifts = rotation_shifts(rotation, start, end)
    if rotation.members:
        assert shifts[0].start == start and shifts[-1].end == end
        assert all(a.end == b.start for a, b in zip(shifts, shifts[1:], strict=False))
        assert [s.start for s in shifts[1:]] == [h.at for h in handoffs if h.at > start]
        for s in shifts:
            assert member_at(rotation, s.start) == s.member
            assert member_at(rotation, s.end - TICK) == s.member
    else:
        assert shifts == [] and handoffs == []


def tz_probe() -> str:
    """Return a text digest of answers that must not depend on the process's TZ."""
    la = Rotation(
        "Nights",
        "America/Los_Angeles",
        ("Alex", "Bo", "Cy"),
        parse_shift_length("1w"),
        datetime(2026, 1, 5, 8),
    )
    ldn = Rotation(
        "Desk",
        "Europe/London",
        ("Kit", "Lou"),
        parse_shift_length("8h"),
        datetime(2026, 10, 1, 1, 30),
    )
    syd = Rotation(
        "Oz",
        "Australia/Sydney",
        ("Mo", "Ned", "Ola"),
        parse_shift_length("1d"),
        datetime(2026, 3, 1, 2, 30),
    )
    schedule = Schedule(
        "Tier 1",
        "America/Los_Angeles",
        (
            Layer("nights", la, HOURS[2]),
            Layer("desk", ldn, parse_hours("mon-fri 08:00-16:30")),
            Layer("oz", syd),
        ),
        (
            Override("Zed", datetime(2026, 3, 8, 9, tzinfo=UTC), datetime(2026, 3, 8, 11, tzinfo=UTC)),
            Override("Kit", datetime(2026, 10, 26, tzinfo=UTC), datetime(2026, 10, 27, tzinfo=UTC), replaces="Lou"),
        ),
    )  # fmt: skip
    lines: list[str] = []
    for day in sorted({day for days in DST_DAYS.values() for day in days}):
        start = datetime.combine(day, time(), UTC) - timedelta(days=1)
        end = start + timedelta(days=3)
        lines += [repr(s) for s in shifts_between(schedule, start, end)]
        lines += [repr(g) for g in coverage_gaps(schedule, start, end, HOURS[2])]
        lines += [repr(h) for h in handoffs_between(syd, start, end)]
        at = start
        while at < end:
            lines.append(
                f"{at.isoformat()} {who_is_on_call(schedule, at)} {on_call_by_layer(schedule, at)}"
            )
            at += timedelta(minutes=71)
        now = datetime(2026, 1, 1, tzinfo=UTC)
        lines.append(rotation_feed(schedule, start, end, now=now).decode())
        lines.append(analyst_feed("Kit", [schedule, syd], start, end, now=now).decode())
    return "\n".join(lines)


def test_answers_do_not_depend_on_the_servers_time_zone() -> None:
    here = tz_probe()
    assert "Zed" in here and "On call: Kit (Tier 1)" in here
    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys, time; sys.path.insert(0, 'tests/oncall'); import test_oncall_properties as t; "
        "sys.stderr.write(time.strftime('%z', time.localtime(1782864000))); "
        "sys.stdout.buffer.write(t.tz_probe().encode())"
    )
    # Each child also reports its own offset on 2026-07-01, proving it ran in that TZ.
    expected = {
        "Pacific/Auckland": "+1200",
        "America/Los_Angeles": "-0700",
        "UTC": "+0000",
        "Asia/Kolkata": "+0530",
    }
    children = {
        server_tz: subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=root,
            env={**os.environ, "TZ": server_tz},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for server_tz in expected
    }
    for server_tz, child in children.items():
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err.decode()
        assert err.decode() == expected[server_tz]
        assert out.decode() == here, server_tz
