"""Rotation maths: shift lengths, handoff instants across US, EU and Australian DST, members."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from oncall.rotation import (
    NaiveTimeError,
    OnCallError,
    Rotation,
    RotationError,
    RotationShift,
    ShiftLength,
    handoff_time,
    handoffs_between,
    local_instant,
    member_at,
    next_handoff,
    parse_shift_length,
    rotation_shifts,
    turn_at,
)

ABC = ("Alex", "Bo", "Cy")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def rota(zone: str, shift: str, anchor: datetime, members: tuple[str, ...] = ABC) -> Rotation:
    return Rotation("Tier 1", zone, members, parse_shift_length(shift), anchor)


@pytest.mark.parametrize(
    "text, count, unit",
    [
        ("1w", 1, "w"),
        ("1d", 1, "d"),
        ("2d", 2, "d"),
        ("12h", 12, "h"),
        ("8h", 8, "h"),
        ("12 h", 12, "h"),
        ("8 Hours", 8, "h"),
        ("2 weeks", 2, "w"),
        (" 3 days ", 3, "d"),
    ],
)
def test_shift_lengths_are_read(text: str, count: int, unit: str) -> None:
    parsed = parse_shift_length(text)
    assert (parsed.count, parsed.unit) == (count, unit)
    assert parse_shift_length(str(parsed)) == parsed


@pytest.mark.parametrize(
    "text", ["", "h", "0h", "-1d", "1.5h", "12m", "1y", "twelve hours", "99999w"]
)
def test_bad_shift_lengths_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(RotationError, match="shift length"):
        parse_shift_length(text)


@pytest.mark.parametrize(
    "text, follows_wall_clock",
    [
        ("1h", True),
        ("6h", True),
        ("8h", True),
        ("12h", True),
        ("24h", True),
        ("48h", True),
        ("1d", True),
        ("1w", True),
        ("5h", False),
        ("10h", False),
        ("36h", False),
    ],
)
def test_which_shifts_follow_the_wall_clock(text: str, follows_wall_clock: bool) -> None:
    assert parse_shift_length(text).follows_wall_clock is follows_wall_clock


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": ""}, "needs a name"),
        ({"time_zone": "Mars/Olympus"}, "Mars/Olympus"),
        ({"members": ("Alex", " ")}, "member names"),
        ({"anchor": datetime(2026, 1, 5, 8, tzinfo=UTC)}, "without tzinfo"),
        ({"shift": "1w"}, "ShiftLength"),
    ],
)
def test_bad_rotations_are_refused_with_a_reason(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "name": "Tier 1",
        "time_zone": "Europe/London",
        "members": ABC,
        "shift": ShiftLength(1, "w"),
        "anchor": datetime(2026, 1, 5, 8),
    }
    fields.update(kwargs)
    with pytest.raises(RotationError, match=message):
        Rotation(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "zone, wall, expected",
    [
        pytest.param(
            "America/Los_Angeles",
            datetime(2026, 3, 8, 2, 30),
            utc(2026, 3, 8, 10),
            id="LA-skipped-0230-at-0300",
        ),
        pytest.param(
            "America/Los_Angeles",
            datetime(2026, 3, 8, 1, 59),
            utc(2026, 3, 8, 9, 59),
            id="LA-just-before-gap",
        ),
        pytest.param(
            "America/Los_Angeles",
            datetime(2026, 11, 1, 1, 30),
            utc(2026, 11, 1, 8, 30),
            id="LA-repeated-0130-first",
        ),
        pytest.param(
            "America/New_York", datetime(2026, 3, 8, 2, 0), utc(2026, 3, 8, 7), id="NY-skipped-0200"
        ),
        pytest.param(
            "America/New_York",
            datetime(2026, 11, 1, 1, 0),
            utc(2026, 11, 1, 5),
            id="NY-repeated-0100-first",
        ),
        pytest.param(
            "Europe/London",
            datetime(2026, 3, 29, 1, 30),
            utc(2026, 3, 29, 1),
            id="London-skipped-0130",
        ),
        pytest.param(
            "Europe/London",
            datetime(2026, 10, 25, 1, 30),
            utc(2026, 10, 25, 0, 30),
            id="London-repeated-0130",
        ),
        pytest.param(
            "Europe/Berlin",
            datetime(2026, 3, 29, 2, 59),
            utc(2026, 3, 29, 1),
            id="Berlin-skipped-0259",
        ),
        pytest.param(
            "Europe/Berlin",
            datetime(2026, 10, 25, 2, 30),
            utc(2026, 10, 25, 0, 30),
            id="Berlin-repeated-0230",
        ),
        pytest.param(
            "Australia/Sydney",
            datetime(2026, 10, 4, 2, 30),
            utc(2026, 10, 3, 16),
            id="Sydney-skipped-0230",
        ),
        pytest.param(
            "Australia/Sydney",
            datetime(2026, 4, 5, 2, 30),
            utc(2026, 4, 4, 15, 30),
            id="Sydney-repeated-0230",
        ),
        pytest.param(
            "Pacific/Apia",
            datetime(2011, 12, 30, 12, 0),
            utc(2011, 12, 30, 10),
            id="Apia-skipped-whole-day",
        ),
    ],
)
def test_local_instant_is_when_the_clock_first_reaches_the_wall_time(
    zone: str, wall: datetime, expected: datetime
) -> None:
    assert local_instant(wall, ZoneInfo(zone)) == expected


HANDOFF_CASES = [
    pytest.param(
        "America/Los_Angeles", "1d", datetime(2026, 3, 7, 8, 0), utc(2026, 3, 7), utc(2026, 3, 10),
        [(utc(2026, 3, 7, 16), "Alex"), (utc(2026, 3, 8, 15), "Bo"), (utc(2026, 3, 9, 15), "Cy")],
        id="daily-0800-LA-spring-forward-stays-0800",
    ),
    pytest.param(
        "America/Los_Angeles", "1d", datetime(2026, 10, 31, 8, 0), utc(2026, 10, 31), utc(2026, 11, 3),
        [(utc(2026, 10, 31, 15), "Alex"), (utc(2026, 11, 1, 16), "Bo"), (utc(2026, 11, 2, 16), "Cy")],
        id="daily-0800-LA-fall-back-stays-0800",
    ),
    pytest.param(
        "America/Los_Angeles", "12h", datetime(2026, 3, 7, 8, 0), utc(2026, 3, 7, 12), utc(2026, 3, 9, 12),
        [
            (utc(2026, 3, 7, 16), "Alex"),
            (utc(2026, 3, 8, 4), "Bo"),
            (utc(2026, 3, 8, 15), "Cy"),
            (utc(2026, 3, 9, 3), "Alex"),
        ],
        id="12h-LA-spring-forward-0800-2000",
    ),
    pytest.param(
        "America/New_York", "12h", datetime(2026, 10, 31, 8, 0), utc(2026, 10, 31, 1), utc(2026, 11, 2, 12),
        [
            (utc(2026, 10, 31, 12), "Alex"),
            (utc(2026, 11, 1, 0), "Bo"),
            (utc(2026, 11, 1, 13), "Cy"),
            (utc(2026, 11, 2, 1), "Alex"),
        ],
        id="12h-NY-fall-back-0800-2000",
    ),
    pytest.param(
        "Europe/London", "1w", datetime(2026, 3, 23, 9, 0), utc(2026, 3, 20), utc(2026, 4, 10),
        [(utc(2026, 3, 23, 9), "Alex"), (utc(2026, 3, 30, 8), "Bo"), (utc(2026, 4, 6, 8), "Cy")],
        id="weekly-monday-0900-London-spring-forward",
    ),
    pytest.param(
        "Europe/Berlin", "1w", datetime(2026, 10, 19, 9, 0), utc(2026, 10, 18), utc(2026, 10, 30),
        [(utc(2026, 10, 19, 7), "Alex"), (utc(2026, 10, 26, 8), "Bo")],
        id="weekly-monday-0900-Berlin-fall-back",
    ),
    pytest.param(
        "America/Los_Angeles", "1d", datetime(2026, 3, 7, 1, 30), utc(2026, 3, 7), utc(2026, 3, 10),
        [(utc(2026, 3, 7, 9, 30), "Alex"), (utc(2026, 3, 8, 9, 30), "Bo"), (utc(2026, 3, 9, 8, 30), "Cy")],
        id="daily-0130-LA-spring-forward-night-exists",
    ),
    pytest.param(
        "America/Los_Angeles", "1d", datetime(2026, 10, 31, 1, 30), utc(2026, 10, 31), utc(2026, 11, 3),
        [(utc(2026, 10, 31, 8, 30), "Alex"), (utc(2026, 11, 1, 8, 30), "Bo"), (utc(2026, 11, 2, 9, 30), "Cy")],
        id="daily-0130-LA-fall-back-night-first-occurrence",
    ),
    pytest.param(
        "Europe/London", "1d", datetime(2026, 3, 28, 1, 30), utc(2026, 3, 28), utc(2026, 3, 31),
        [(utc(2026, 3, 28, 1, 30), "Alex"), (utc(2026, 3, 29, 1), "Bo"), (utc(2026, 3, 30, 0, 30), "Cy")],
        id="daily-0130-London-spring-forward-skipped-hands-over-at-0200-BST",
    ),
    pytest.param(
        "Europe/London", "1d", datetime(2026, 10, 24, 1, 30), utc(2026, 10, 24), utc(2026, 10, 27),
        [(utc(2026, 10, 24, 0, 30), "Alex"), (utc(2026, 10, 25, 0, 30), "Bo"), (utc(2026, 10, 26, 1, 30), "Cy")],
        id="daily-0130-London-fall-back-first-occurrence",
    ),
    pytest.param(
        "America/Los_Angeles", "1d", datetime(2026, 3, 7, 2, 30), utc(2026, 3, 7), utc(2026, 3, 10),
        [(utc(2026, 3, 7, 10, 30), "Alex"), (utc(2026, 3, 8, 10), "Bo"), (utc(2026, 3, 9, 9, 30), "Cy")],
        id="daily-0230-LA-inside-skipped-hour-at-0300",
    ),
    pytest.param(
        "Europe/Berlin", "1d", datetime(2026, 3, 28, 2, 30), utc(2026, 3, 28), utc(2026, 3, 31),
        [(utc(2026, 3, 28, 1, 30), "Alex"), (utc(2026, 3, 29, 1), "Bo"), (utc(2026, 3, 30, 0, 30), "Cy")],
        id="daily-0230-Berlin-inside-skipped-hour-at-0300",
    ),
    pytest.param(
        "America/Los_Angeles", "1h", datetime(2026, 3, 8, 0, 0), utc(2026, 3, 8, 8), utc(2026, 3, 8, 11, 30),
        [(utc(2026, 3, 8, 8), "Alex"), (utc(2026, 3, 8, 9), "Bo"), (utc(2026, 3, 8, 10), "Alex"), (utc(2026, 3, 8, 11), "Bo")],
        id="hourly-LA-skipped-0200-turn-has-no-time",
    ),
    pytest.param(
        "America/Los_Angeles", "5h", datetime(2026, 3, 7, 22, 0), utc(2026, 3, 8, 6), utc(2026, 3, 8, 17),
        [(utc(2026, 3, 8, 6), "Alex"), (utc(2026, 3, 8, 11), "Bo"), (utc(2026, 3, 8, 16), "Cy")],
        id="5h-LA-elapsed-time-ignores-the-jump",
    ),
    pytest.param(
        "Australia/Sydney", "1d", datetime(2026, 10, 3, 2, 30), utc(2026, 10, 2), utc(2026, 10, 5),
        [(utc(2026, 10, 2, 16, 30), "Alex"), (utc(2026, 10, 3, 16), "Bo"), (utc(2026, 10, 4, 15, 30), "Cy")],
        id="daily-0230-Sydney-spring-forward-in-October",
    ),
    pytest.param(
        "Australia/Sydney", "1d", datetime(2026, 4, 4, 2, 30), utc(2026, 4, 3), utc(2026, 4, 6),
        [(utc(2026, 4, 3, 15, 30), "Alex"), (utc(2026, 4, 4, 15, 30), "Bo"), (utc(2026, 4, 5, 16, 30), "Cy")],
        id="daily-0230-Sydney-fall-back-in-April",
    ),
]  # fmt: skip


@pytest.mark.parametrize("zone, shift, anchor, start, end, expected", HANDOFF_CASES)
def test_handoffs(
    zone: str,
    shift: str,
    anchor: datetime,
    start: datetime,
    end: datetime,
    expected: list[tuple[datetime, str]],
) -> None:
    rotation = rota(zone, shift, anchor)
    assert [(h.at, h.member) for h in handoffs_between(rotation, start, end)] == expected
    for at, member in expected:
        assert member_at(rotation, at) == member
        assert member_at(rotation, at - timedelta(microseconds=1)) != member


def test_night_shift_of_a_12h_rotation_lasts_11h_and_13h_across_dst() -> None:
    rotation = rota("America/Los_Angeles", "12h", datetime(2026, 1, 5, 8, 0))
    spring = rotation_shifts(rotation, utc(2026, 3, 8, 4), utc(2026, 3, 8, 15))
    assert [(s.end - s.start) for s in spring] == [timedelta(hours=11)]
    autumn = rotation_shifts(rotation, utc(2026, 11, 1, 3), utc(2026, 11, 1, 16))
    assert [(s.end - s.start) for s in autumn] == [timedelta(hours=13)]


def test_turns_are_listed_whole_and_clipped_to_the_range() -> None:
    rotation = rota("Europe/Berlin", "1d", datetime(2026, 10, 24, 9, 0))
    shifts = rotation_shifts(rotation, utc(2026, 10, 24, 12), utc(2026, 10, 26, 9))
    assert shifts == [
        RotationShift("Alex", utc(2026, 10, 24, 12), utc(2026, 10, 25, 8), 0),  # a 25 h turn
        RotationShift("Bo", utc(2026, 10, 25, 8), utc(2026, 10, 26, 8), 1),
        RotationShift("Cy", utc(2026, 10, 26, 8), utc(2026, 10, 26, 9), 2),
    ]


def test_rotation_with_one_member_is_always_that_member() -> None:
    rotation = rota("Europe/London", "1d", datetime(2026, 3, 1, 9, 0), ("Alex",))
    for hours in range(0, 24 * 40, 7):
        assert member_at(rotation, utc(2026, 3, 1) + timedelta(hours=hours)) == "Alex"
    shifts = rotation_shifts(rotation, utc(2026, 3, 28), utc(2026, 3, 31))
    assert {s.member for s in shifts} == {"Alex"}
    assert [s.start for s in shifts][1:] == [
        utc(2026, 3, 28, 9),
        utc(2026, 3, 29, 8),
        utc(2026, 3, 30, 8),
    ]


def test_empty_rotation_has_nobody_and_no_handoffs() -> None:
    rotation = rota("Europe/London", "1w", datetime(2026, 1, 5, 9, 0), ())
    assert member_at(rotation, utc(2026, 3, 29, 1, 30)) is None
    assert handoffs_between(rotation, utc(2026, 1, 1), utc(2026, 12, 31)) == []
    assert rotation_shifts(rotation, utc(2026, 1, 1), utc(2026, 12, 31)) == []
    assert next_handoff(rotation, utc(2026, 1, 1)) is None


def test_rotation_extends_backwards_before_its_anchor() -> None:
    rotation = rota("America/New_York", "1w", datetime(2026, 3, 9, 9, 0))
    assert member_at(rotation, utc(2026, 3, 9, 13)) == "Alex"  # 09:00 EDT
    assert member_at(rotation, utc(2026, 3, 9, 12, 59)) == "Cy"
    assert member_at(rotation, utc(2026, 3, 2, 14)) == "Cy"  # 09:00 EST
    assert member_at(rotation, utc(2026, 3, 2, 13, 59, 59)) == "Bo"  # 08:59:59 EST
    assert member_at(rotation, utc(2026, 2, 23, 14)) == "Bo"
    assert member_at(rotation, utc(2026, 2, 23, 13, 59)) == "Alex"
    assert turn_at(rotation, utc(2025, 3, 10, 13)) == -52
    assert member_at(rotation, utc(2025, 3, 10, 13)) == ABC[-52 % 3]


def test_next_handoff_skips_turns_of_no_length() -> None:
    rotation = rota("America/Los_Angeles", "1h", datetime(2026, 3, 8, 0, 0))
    after = next_handoff(rotation, utc(2026, 3, 8, 9, 15))
    assert after is not None
    assert (after.at, after.member, after.turn) == (utc(2026, 3, 8, 10), "Alex", 3)
    assert handoff_time(rotation, 2) == handoff_time(rotation, 3) == utc(2026, 3, 8, 10)


def test_instants_in_other_offsets_mean_the_same_moment() -> None:
    rotation = rota("Europe/Berlin", "1d", datetime(2026, 10, 24, 9, 0))
    tokyo = timezone(timedelta(hours=9))
    assert member_at(rotation, datetime(2026, 10, 25, 17, 0, tzinfo=tokyo)) == "Bo"  # 08:00Z
    assert member_at(rotation, datetime(2026, 10, 25, 16, 59, tzinfo=tokyo)) == "Alex"


def test_naive_instants_and_reversed_ranges_are_refused() -> None:
    rotation = rota("Europe/London", "1w", datetime(2026, 1, 5, 9, 0))
    with pytest.raises(NaiveTimeError, match="no time zone"):
        member_at(rotation, datetime(2026, 3, 1, 9, 0))
    with pytest.raises(NaiveTimeError):
        handoffs_between(rotation, datetime(2026, 3, 1), utc(2026, 3, 2))
    with pytest.raises(OnCallError, match="before start"):
        rotation_shifts(rotation, utc(2026, 3, 2), utc(2026, 3, 1))
    assert issubclass(OnCallError, ValueError)
