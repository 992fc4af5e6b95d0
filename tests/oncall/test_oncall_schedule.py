"""Schedules: layer precedence, restriction windows, overrides, shifts, gaps and validation."""

from datetime import UTC, datetime, timedelta

import pytest

from oncall.coverage import Gap, coverage_gaps, upcoming_gaps
from oncall.rotation import NaiveTimeError, OnCallError, Rotation, parse_shift_length
from oncall.schedule import (
    Layer,
    Override,
    OverrideError,
    Schedule,
    ScheduleError,
    Shift,
    layer_shifts_between,
    on_call_by_layer,
    shifts_between,
    validate_override,
    who_is_on_call,
)
from voiceline.hours import parse_hours

LA = "America/Los_Angeles"
# The after-hours cover of a firm open mon-fri 08:00-16:30 (seed 000), Monday morning included.
AFTER_HOURS = parse_hours(
    ["mon-thu 16:30-08:00", "fri 16:30-24:00", "sat-sun 00:00-24:00", "mon 00:00-08:00"]
)
WEEKENDS = parse_hours("sat-sun 00:00-24:00")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def rotation(
    name: str, members: tuple[str, ...], shift: str, anchor: datetime, zone: str = LA
) -> Rotation:
    return Rotation(name, zone, members, parse_shift_length(shift), anchor)


WEEKEND = Layer(
    "weekend", rotation("Weekend", ("Eve", "Fay"), "1d", datetime(2026, 1, 3, 8)), WEEKENDS
)
NIGHTS = Layer(
    "after-hours",
    rotation("Nights", ("Alex", "Bo", "Cy"), "1w", datetime(2026, 1, 5, 8)),
    AFTER_HOURS,
)
MANAGER = Layer("manager", rotation("Managers", ("Dee",), "1w", datetime(2026, 1, 5, 8)))
TIER1 = Schedule("Tier 1", LA, (WEEKEND, NIGHTS, MANAGER))


def with_overrides(*overrides: Override, schedule: Schedule = TIER1) -> Schedule:
    return Schedule(schedule.name, schedule.time_zone, schedule.layers, overrides)


@pytest.mark.parametrize(
    "at, expected",
    [
        pytest.param(utc(2026, 3, 2, 18), "Dee", id="monday-10am-business-hours-falls-to-manager"),
        pytest.param(utc(2026, 3, 3, 1), "Cy", id="monday-5pm-after-hours-week-8"),
        pytest.param(utc(2026, 3, 7, 20), "Fay", id="saturday-noon-weekend-layer-wins"),
        pytest.param(utc(2026, 3, 8, 14, 59), "Fay", id="sunday-0759-PDT-before-weekend-handoff"),
        pytest.param(
            utc(2026, 3, 8, 15), "Eve", id="sunday-0800-PDT-weekend-handoff-after-spring-forward"
        ),
        pytest.param(utc(2026, 3, 9, 14, 59), "Cy", id="monday-0759-PDT-still-last-weeks-night"),
        pytest.param(utc(2026, 3, 9, 15), "Dee", id="monday-0800-PDT-business-hours"),
        pytest.param(utc(2026, 3, 9, 23, 30), "Alex", id="monday-1630-PDT-new-week-of-nights"),
        pytest.param(utc(2026, 11, 1, 15, 59), "Fay", id="sunday-0759-PST-after-fall-back"),
        pytest.param(utc(2026, 11, 1, 16), "Eve", id="sunday-0800-PST-weekend-handoff"),
    ],
)
def test_who_is_on_call_follows_layer_precedence_and_windows(at: datetime, expected: str) -> None:
    assert who_is_on_call(TIER1, at) == expected


def test_on_call_by_layer_shows_each_layer() -> None:
    assert on_call_by_layer(TIER1, utc(2026, 3, 7, 20)) == {
        "weekend": "Fay",
        "after-hours": "Cy",
        "manager": "Dee",
    }
    assert on_call_by_layer(TIER1, utc(2026, 3, 9, 18)) == {
        "weekend": None,
        "after-hours": None,
        "manager": "Dee",
    }


IVY_FOR_CY = Override("Ivy", utc(2026, 3, 9, 3), utc(2026, 3, 10, 3), replaces="Cy")
JO_COVERS_NIGHTS = Override("Jo", utc(2026, 3, 9, 13), utc(2026, 3, 10, 1), layer="after-hours")
GUS_COVERS_ALL = Override("Gus", utc(2026, 3, 10, 19), utc(2026, 3, 10, 21))
HAL_FOR_DEE = Override(
    "Hal", utc(2026, 3, 10, 16), utc(2026, 3, 10, 20), replaces="Dee", layer="manager"
)


@pytest.mark.parametrize(
    "override, at, expected",
    [
        pytest.param(IVY_FOR_CY, utc(2026, 3, 9, 10), "Ivy", id="replace-before-handoff"),
        pytest.param(IVY_FOR_CY, utc(2026, 3, 9, 18), "Dee", id="replace-idle-in-business-hours"),
        pytest.param(
            IVY_FOR_CY, utc(2026, 3, 10, 0), "Alex", id="replace-spans-handoff-only-cy-replaced"
        ),
        pytest.param(
            IVY_FOR_CY, utc(2026, 3, 8, 20), "Eve", id="replace-hidden-under-weekend-layer"
        ),
        pytest.param(JO_COVERS_NIGHTS, utc(2026, 3, 9, 14), "Jo", id="layer-cover-before-handoff"),
        pytest.param(
            JO_COVERS_NIGHTS, utc(2026, 3, 9, 18), "Dee", id="layer-cover-idle-outside-layer-hours"
        ),
        pytest.param(JO_COVERS_NIGHTS, utc(2026, 3, 10, 0), "Jo", id="layer-cover-after-handoff"),
        pytest.param(JO_COVERS_NIGHTS, utc(2026, 3, 10, 1), "Alex", id="layer-cover-ended"),
        pytest.param(
            GUS_COVERS_ALL, utc(2026, 3, 10, 19), "Gus", id="schedule-cover-wins-in-business-hours"
        ),
        pytest.param(GUS_COVERS_ALL, utc(2026, 3, 10, 21), "Dee", id="schedule-cover-ended"),
        pytest.param(HAL_FOR_DEE, utc(2026, 3, 10, 17), "Hal", id="replace-in-named-layer"),
    ],
)
def test_overrides_win(override: Override, at: datetime, expected: str) -> None:
    assert who_is_on_call(with_overrides(override), at) == expected


def test_schedule_cover_fills_time_no_layer_covers() -> None:
    nights_only = Schedule("Nights", LA, (NIGHTS,))
    monday_noon = utc(2026, 3, 9, 19)
    assert who_is_on_call(nights_only, monday_noon) is None
    cover = Override("Gus", utc(2026, 3, 9, 18), utc(2026, 3, 9, 20))
    assert who_is_on_call(with_overrides(cover, schedule=nights_only), monday_noon) == "Gus"
    # A cover scoped to a layer keeps to the layer's windows.
    scoped = Override("Gus", utc(2026, 3, 9, 18), utc(2026, 3, 9, 20), layer="after-hours")
    assert who_is_on_call(with_overrides(scoped, schedule=nights_only), monday_noon) is None


def test_stronger_override_kinds_win_over_weaker_ones() -> None:
    schedule = with_overrides(GUS_COVERS_ALL, JO_COVERS_NIGHTS, IVY_FOR_CY, HAL_FOR_DEE)
    assert who_is_on_call(schedule, utc(2026, 3, 9, 14)) == "Jo"  # layer cover beats Ivy-for-Cy
    assert on_call_by_layer(schedule, utc(2026, 3, 10, 19, 30)) == {
        "weekend": None,
        "after-hours": None,
        "manager": "Hal",
    }
    assert who_is_on_call(schedule, utc(2026, 3, 10, 19, 30)) == "Gus"


def test_override_spanning_a_handoff_in_shifts() -> None:
    schedule = with_overrides(IVY_FOR_CY)
    monday = utc(2026, 3, 9, 7)  # 00:00 PDT
    assert shifts_between(schedule, monday, monday + timedelta(days=1)) == [
        Shift("Ivy", utc(2026, 3, 9, 7), utc(2026, 3, 9, 15), "after-hours", "override"),
        Shift("Dee", utc(2026, 3, 9, 15), utc(2026, 3, 9, 23, 30), "manager", "rotation"),
        Shift("Alex", utc(2026, 3, 9, 23, 30), utc(2026, 3, 10, 7), "after-hours", "rotation"),
    ]


def test_cover_override_spanning_a_handoff_in_shifts() -> None:
    schedule = with_overrides(JO_COVERS_NIGHTS)
    monday = utc(2026, 3, 9, 7)
    assert shifts_between(schedule, monday, monday + timedelta(days=1)) == [
        Shift("Cy", utc(2026, 3, 9, 7), utc(2026, 3, 9, 13), "after-hours", "rotation"),
        Shift("Jo", utc(2026, 3, 9, 13), utc(2026, 3, 9, 15), "after-hours", "override"),
        Shift("Dee", utc(2026, 3, 9, 15), utc(2026, 3, 9, 23, 30), "manager", "rotation"),
        Shift("Jo", utc(2026, 3, 9, 23, 30), utc(2026, 3, 10, 1), "after-hours", "override"),
        Shift("Alex", utc(2026, 3, 10, 1), utc(2026, 3, 10, 7), "after-hours", "rotation"),
    ]


def test_weekend_across_spring_forward_in_shifts() -> None:
    friday_night = utc(2026, 3, 7, 0, 30)  # Fri 16:30 PST
    monday_morning = utc(2026, 3, 9, 15)  # Mon 08:00 PDT
    assert shifts_between(TIER1, friday_night, monday_morning) == [
        Shift("Cy", utc(2026, 3, 7, 0, 30), utc(2026, 3, 7, 8), "after-hours", "rotation"),
        Shift("Eve", utc(2026, 3, 7, 8), utc(2026, 3, 7, 16), "weekend", "rotation"),
        Shift("Fay", utc(2026, 3, 7, 16), utc(2026, 3, 8, 15), "weekend", "rotation"),  # 23 h
        Shift("Eve", utc(2026, 3, 8, 15), utc(2026, 3, 9, 7), "weekend", "rotation"),
        Shift("Cy", utc(2026, 3, 9, 7), utc(2026, 3, 9, 15), "after-hours", "rotation"),
    ]


def test_12h_rotation_in_london_across_fall_back() -> None:
    rota = rotation("Desk", ("Kit", "Lou"), "12h", datetime(2026, 10, 1, 8), "Europe/London")
    schedule = Schedule("Desk", "Europe/London", (Layer("desk", rota),))
    shifts = shifts_between(schedule, utc(2026, 10, 24, 19), utc(2026, 10, 25, 20))
    assert [(s.analyst, s.start, s.end) for s in shifts] == [
        ("Lou", utc(2026, 10, 24, 19), utc(2026, 10, 25, 8)),  # 20:00 BST to 08:00 GMT: 13 h
        ("Kit", utc(2026, 10, 25, 8), utc(2026, 10, 25, 20)),
    ]


def test_one_member_rotation_is_one_shift_unless_split_at_handoffs() -> None:
    solo = Schedule(
        "Solo",
        "Europe/Berlin",
        (
            Layer(
                "solo", rotation("Solo", ("Max",), "1d", datetime(2026, 3, 1, 9), "Europe/Berlin")
            ),
        ),
    )
    start, end = utc(2026, 3, 28), utc(2026, 3, 31)
    assert shifts_between(solo, start, end) == [Shift("Max", start, end, "solo", "rotation")]
    split = shifts_between(solo, start, end, split_at_handoffs=True)
    assert [s.start for s in split] == [
        start,
        utc(2026, 3, 28, 8),
        utc(2026, 3, 29, 7),
        utc(2026, 3, 30, 7),
    ]
    assert {s.analyst for s in split} == {"Max"}


def test_empty_rotation_has_nobody_and_is_one_gap() -> None:
    empty = Schedule(
        "Tier 2", LA, (Layer("tier 2", rotation("Tier 2", (), "1w", datetime(2026, 1, 5, 8))),)
    )
    start, end = utc(2026, 3, 1), utc(2026, 3, 15)
    assert who_is_on_call(empty, utc(2026, 3, 8, 10)) is None
    assert on_call_by_layer(empty, utc(2026, 3, 8, 10)) == {"tier 2": None}
    assert shifts_between(empty, start, end) == []
    assert coverage_gaps(empty, start, end) == [Gap(start, end)]


def test_empty_layer_on_top_falls_through_to_the_next() -> None:
    empty = Layer("empty", rotation("Nobody", (), "1d", datetime(2026, 1, 5, 8)))
    schedule = Schedule("Tier 1", LA, (empty, *TIER1.layers))
    assert who_is_on_call(schedule, utc(2026, 3, 7, 20)) == "Fay"
    cover = Override("Gus", utc(2026, 3, 7), utc(2026, 3, 8), layer="empty")
    assert who_is_on_call(with_overrides(cover, schedule=schedule), utc(2026, 3, 7, 20)) == "Gus"


def test_layer_shifts_show_one_layer_with_its_overrides() -> None:
    # Hal's override belongs to another layer and Gus's sits above all layers.
    schedule = with_overrides(IVY_FOR_CY, GUS_COVERS_ALL, HAL_FOR_DEE)
    shifts = layer_shifts_between(schedule, "after-hours", utc(2026, 3, 9, 7), utc(2026, 3, 11, 7))
    assert [(s.analyst, s.start, s.end, s.source) for s in shifts] == [
        ("Ivy", utc(2026, 3, 9, 7), utc(2026, 3, 9, 15), "override"),
        ("Alex", utc(2026, 3, 9, 23, 30), utc(2026, 3, 10, 15), "rotation"),
        ("Alex", utc(2026, 3, 10, 23, 30), utc(2026, 3, 11, 7), "rotation"),
    ]
    with pytest.raises(ScheduleError, match="no layer 'tier 9'"):
        layer_shifts_between(schedule, "tier 9", utc(2026, 3, 9), utc(2026, 3, 10))


def test_coverage_gaps_where_nobody_is_on_call() -> None:
    nights = Schedule("Nights", LA, (WEEKEND, NIGHTS))
    monday = utc(2026, 3, 9, 7)  # Mon 00:00 PDT
    two_days = (monday, monday + timedelta(days=2))
    assert coverage_gaps(nights, *two_days) == [
        Gap(utc(2026, 3, 9, 15), utc(2026, 3, 9, 23, 30)),
        Gap(utc(2026, 3, 10, 15), utc(2026, 3, 10, 23, 30)),
    ]
    assert coverage_gaps(nights, *two_days, AFTER_HOURS) == []
    assert coverage_gaps(nights, *two_days, parse_hours("mon 12:00-13:00")) == [
        Gap(utc(2026, 3, 9, 19), utc(2026, 3, 9, 20))
    ]
    # Required hours read in the customer's zone, not the schedule's.
    assert coverage_gaps(
        nights, *two_days, parse_hours("mon 20:00-21:00"), time_zone="Europe/London"
    ) == [Gap(utc(2026, 3, 9, 20), utc(2026, 3, 9, 21))]
    holiday = (utc(2026, 3, 10, 15), utc(2026, 3, 10, 23, 30))
    assert coverage_gaps(nights, *two_days, AFTER_HOURS, within=[holiday]) == []
    assert coverage_gaps(nights, *two_days, within=[holiday]) == [Gap(*holiday)]
    with pytest.raises(ScheduleError, match="Mars/Olympus"):
        coverage_gaps(nights, *two_days, AFTER_HOURS, time_zone="Mars/Olympus")


def test_empty_night_rotation_leaves_after_hours_gaps_on_weekdays_only() -> None:
    empty_nights = Layer(
        "after-hours", rotation("Nights", (), "1w", datetime(2026, 1, 5, 8)), AFTER_HOURS
    )
    schedule = Schedule("Nights", LA, (WEEKEND, empty_nights))
    friday_noon = utc(2026, 3, 6, 20)
    gaps = coverage_gaps(schedule, friday_noon, friday_noon + timedelta(days=4), AFTER_HOURS)
    assert gaps == [
        Gap(utc(2026, 3, 7, 0, 30), utc(2026, 3, 7, 8)),  # Fri 16:30 to midnight PST
        Gap(utc(2026, 3, 9, 7), utc(2026, 3, 9, 15)),  # Mon 00:00 to 08:00 PDT
        Gap(utc(2026, 3, 9, 23, 30), utc(2026, 3, 10, 15)),  # Mon night
    ]


def test_upcoming_gaps_look_fourteen_days_ahead() -> None:
    nights = Schedule("Nights", LA, (WEEKEND, NIGHTS))
    now = utc(2026, 3, 9, 7)
    gaps = upcoming_gaps(nights, now)
    assert len(gaps) == 10  # one per weekday
    assert gaps[0] == Gap(utc(2026, 3, 9, 15), utc(2026, 3, 9, 23, 30))
    assert gaps[-1].end <= now + timedelta(days=14)
    assert all(g.duration == timedelta(hours=8, minutes=30) for g in gaps)
    assert upcoming_gaps(nights, now, AFTER_HOURS) == []


@pytest.mark.parametrize(
    "override, message",
    [
        pytest.param(
            Override("Zed", utc(2026, 3, 9), utc(2026, 3, 10)),
            "'Zed' is not an analyst",
            id="unknown-analyst",
        ),
        pytest.param(
            Override("Bo", utc(2026, 3, 9), utc(2026, 3, 10), replaces="Zed"),
            "'Zed' is never on call",
            id="unknown-replaced",
        ),
        pytest.param(
            Override("Bo", utc(2026, 3, 9), utc(2026, 3, 10), replaces="Dee", layer="after-hours"),
            "'Dee' is never on call in layer",
            id="replaced-not-in-layer",
        ),
        pytest.param(
            Override("Bo", utc(2026, 3, 9), utc(2026, 3, 10), layer="tier 9"),
            "no layer 'tier 9'",
            id="unknown-layer",
        ),
        pytest.param(
            Override("Bo", utc(2026, 3, 10, 2), utc(2026, 3, 10, 4), replaces="Cy"),
            "overlaps the override for Ivy",
            id="overlaps-same-slot",
        ),
    ],
)
def test_validate_override_refuses_with_a_reason(override: Override, message: str) -> None:
    schedule = with_overrides(IVY_FOR_CY)
    with pytest.raises(OverrideError, match=message):
        validate_override(schedule, override)


def test_validate_override_accepts_good_overrides() -> None:
    schedule = with_overrides(IVY_FOR_CY)
    validate_override(
        schedule, Override("Bo", utc(2026, 3, 10, 2), utc(2026, 3, 10, 4), replaces="Alex")
    )
    validate_override(
        schedule, Override("Bo", utc(2026, 3, 10, 3), utc(2026, 3, 10, 4), replaces="Cy")
    )
    validate_override(
        schedule, Override("Zed", utc(2026, 3, 9), utc(2026, 3, 10)), analysts=["Zed"]
    )
    # Editing Ivy's own override: leave it out of the existing ones. Ivy is in no rotation.
    longer = Override("Ivy", utc(2026, 3, 9), utc(2026, 3, 10, 6), replaces="Cy")
    with pytest.raises(OverrideError, match="overlaps"):
        validate_override(schedule, longer, analysts=["Ivy"])
    validate_override(schedule, longer, existing=[], analysts=["Ivy"])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"end": utc(2026, 3, 8)}, OverrideError, "not after its start"),
        ({"end": utc(2026, 3, 9)}, OverrideError, "not after its start"),
        ({"start": datetime(2026, 3, 9)}, NaiveTimeError, "no time zone"),
        ({"replaces": "Bo"}, OverrideError, "cannot replace themselves"),
        ({"analyst": ""}, OverrideError, "needs the analyst"),
    ],
)
def test_bad_overrides_are_refused(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    fields: dict[str, object] = {"analyst": "Bo", "start": utc(2026, 3, 9), "end": utc(2026, 3, 10)}
    fields.update(kwargs)
    with pytest.raises(error, match=message):
        Override(**fields)  # type: ignore[arg-type]


def test_bad_schedules_are_refused() -> None:
    with pytest.raises(ScheduleError, match="two layers named 'weekend'"):
        Schedule("Tier 1", LA, (WEEKEND, WEEKEND))
    with pytest.raises(ScheduleError, match="unknown layer 'tier 9'"):
        Schedule(
            "Tier 1",
            LA,
            (WEEKEND,),
            (Override("Eve", utc(2026, 3, 9), utc(2026, 3, 10), layer="tier 9"),),
        )
    with pytest.raises(ScheduleError, match="Mars/Olympus"):
        Schedule("Tier 1", "Mars/Olympus", (WEEKEND,))
    with pytest.raises(ScheduleError, match="needs a name"):
        Schedule("", LA, (WEEKEND,))


def test_naive_instants_are_refused() -> None:
    with pytest.raises(NaiveTimeError):
        who_is_on_call(TIER1, datetime(2026, 3, 9, 12))
    with pytest.raises(NaiveTimeError):
        shifts_between(TIER1, datetime(2026, 3, 9), utc(2026, 3, 10))
    with pytest.raises(OnCallError, match="before start"):
        coverage_gaps(TIER1, utc(2026, 3, 10), utc(2026, 3, 9))
    with pytest.raises(NaiveTimeError):
        upcoming_gaps(TIER1, datetime(2026, 3, 9))
