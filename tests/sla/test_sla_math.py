"""SLA arithmetic, table by table: elapsed time, met/breached, warnings, credits, percentiles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from voiceline.customers.business_time import BusinessCalendar
from voiceline.hours import parse_hours
from voiceline.sla.sla_math import (
    CreditRule,
    CreditRuleError,
    Pause,
    SlaMathError,
    breach_credit,
    capped_total,
    elapsed,
    is_met,
    is_paused,
    level_for,
    minutes_in_month,
    minutes_over,
    nearest_rank,
    parse_credit_rule,
    parse_money,
    pause_record,
    pauses_of,
    time_left,
    warning_level,
)

LA = ZoneInfo("America/Los_Angeles")
OREGON = BusinessCalendar("America/Los_Angeles", parse_hours("mon-fri 08:00-16:30"), "US", "OR")
EXAMPLE_RULE = {
    "kind": "prorated",
    "percent_of_monthly_fee": 10,
    "per": "breach",
    "cap_percent": 50,
}


def la(*args: int) -> datetime:
    return datetime(*args, tzinfo=LA)  # type: ignore[misc]


def m(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


@dataclass
class Clock:
    """A stand-in for an SlaClock row: the arithmetic reads these attributes only."""

    started_at: datetime
    target_minutes: int
    clock: str
    stopped_at: datetime | None = None
    pauses: list[Any] = field(default_factory=list)


# --- elapsed ----------------------------------------------------------------------------

START = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "end, pauses, wall",
    [
        (START + m(29), [], m(29)),
        (START, [], m(0)),
        # a closed pause inside the run comes off
        (START + m(60), [Pause(START + m(10), START + m(25), "access")], m(45)),
        # an open pause runs until the end
        (START + m(60), [Pause(START + m(50), None, "access")], m(50)),
        # pauses are cut to [start, end]: before the start and after the end count nothing
        (START + m(60), [Pause(START - m(30), START + m(5), "x")], m(55)),
        (START + m(60), [Pause(START + m(55), START + m(90), "x")], m(55)),
        (START + m(60), [Pause(START + m(70), START + m(90), "x")], m(60)),
    ],
)
def test_wall_elapsed_minus_pauses(end, pauses, wall) -> None:
    assert elapsed(START, end, pauses).wall == wall
    assert elapsed(START, end, pauses).business is None


def test_wall_elapsed_across_the_fall_back_night_is_real_time() -> None:
    # Sat 12:00 PDT to Sun 12:00 PST is 25 real hours
    spent = elapsed(la(2026, 10, 31, 12, 0), la(2026, 11, 1, 12, 0))
    assert spent.wall == timedelta(hours=25)


@pytest.mark.parametrize(
    "start, end, pauses, business",
    [
        # Friday 16:00 to Monday 11:30: 0:30 on Friday, 3:30 on Monday
        (la(2026, 11, 20, 16, 0), la(2026, 11, 23, 11, 30), [], m(240)),
        # the weekend is closed: Saturday to Sunday counts nothing
        (la(2026, 11, 21, 9, 0), la(2026, 11, 22, 17, 0), [], m(0)),
        # a pause in business hours comes off business time too
        (
            la(2026, 11, 23, 8, 0),
            la(2026, 11, 23, 12, 0),
            [Pause(la(2026, 11, 23, 9, 0), la(2026, 11, 23, 10, 0), "access")],
            m(180),
        ),
        # a pause over the weekend takes nothing off business time
        (
            la(2026, 11, 20, 16, 0),
            la(2026, 11, 23, 9, 0),
            [Pause(la(2026, 11, 21, 9, 0), la(2026, 11, 22, 9, 0), "access")],
            m(90),
        ),
        # Thanksgiving (Thu 26 Nov) is closed in Oregon
        (la(2026, 11, 25, 16, 0), la(2026, 11, 27, 9, 0), [], m(90)),
    ],
)
def test_business_elapsed(start, end, pauses, business) -> None:
    assert elapsed(start, end, pauses, OREGON).business == business


def test_elapsed_refuses_a_stop_before_the_start_and_naive_times() -> None:
    with pytest.raises(SlaMathError, match="before it started"):
        elapsed(START, START - m(1))
    with pytest.raises(SlaMathError, match="timezone-aware"):
        elapsed(datetime(2026, 11, 22, 10, 0), START)


# --- met, minutes over, warnings --------------------------------------------------------


@pytest.mark.parametrize(
    "measured, met, over",
    [
        (m(29), True, 0),
        (m(30), True, 0),  # exactly on target is met
        (m(30) + timedelta(seconds=1), False, 1),  # any excess is at least a minute
        (m(31), False, 1),
        (m(31) + timedelta(microseconds=500_000), False, 2),  # rounded up
        (m(95), False, 65),
    ],
)
def test_met_and_minutes_over(measured, met, over) -> None:
    assert is_met(measured, m(30)) is met
    assert minutes_over(measured, m(30)) == over


@pytest.mark.parametrize(
    "measured, level",
    [
        (m(0), "ok"),
        (m(14) + timedelta(seconds=59), "ok"),
        (m(15), "50"),
        (m(22), "50"),
        (m(22.5), "75"),
        (m(30), "75"),  # due now, not yet breached
        (m(30) + timedelta(seconds=1), "breached"),
    ],
)
def test_warning_levels(measured, level) -> None:
    assert level_for(measured, m(30)) == level


def test_a_target_must_be_positive() -> None:
    with pytest.raises(SlaMathError, match="positive"):
        level_for(m(1), m(0))


def test_warning_level_of_a_wall_clock_reads_real_time() -> None:
    clock = Clock(START, 30, "wall")
    assert warning_level(clock, START + m(10)) == "ok"
    assert warning_level(clock, START + m(16)) == "50"
    assert warning_level(clock, START + m(23)) == "75"
    assert warning_level(clock, START + m(31)) == "breached"
    assert time_left(clock, START + m(31)) == -m(1)


def test_warning_level_of_a_business_clock_reads_open_hours() -> None:
    # Friday 16:00, 4 business hours: half used at Monday 09:30, three quarters at 10:30
    clock = Clock(la(2026, 11, 20, 16, 0), 240, "business")
    assert warning_level(clock, la(2026, 11, 22, 23, 0), OREGON) == "ok"  # Sunday night
    assert warning_level(clock, la(2026, 11, 23, 9, 29), OREGON) == "ok"
    assert warning_level(clock, la(2026, 11, 23, 9, 30), OREGON) == "50"
    assert warning_level(clock, la(2026, 11, 23, 10, 30), OREGON) == "75"
    assert warning_level(clock, la(2026, 11, 23, 11, 30), OREGON) == "75"
    assert warning_level(clock, la(2026, 11, 23, 11, 31), OREGON) == "breached"
    assert time_left(clock, la(2026, 11, 23, 8, 0), OREGON) == m(210)
    with pytest.raises(SlaMathError, match="calendar"):
        warning_level(clock, la(2026, 11, 23, 9, 0))


def test_a_stopped_clock_keeps_its_level_and_a_paused_one_stands_still() -> None:
    stopped = Clock(START, 30, "wall", stopped_at=START + m(20))
    assert warning_level(stopped, START + m(90)) == "50"
    paused = Clock(START, 30, "wall", pauses=[pause_record(START + m(10), "access", "sam")])
    assert is_paused(paused)
    assert warning_level(paused, START + m(300)) == "ok"
    assert time_left(paused, START + m(300)) == m(20)


def test_pause_records_round_trip_and_bad_ones_are_refused() -> None:
    record = pause_record(START, "waiting for customer access", "sam")
    assert pauses_of([record]) == (Pause(START, None, "waiting for customer access"),)
    with pytest.raises(SlaMathError, match="unreadable pause"):
        pauses_of([{"to": None}])


# --- credits ----------------------------------------------------------------------------


def test_the_example_plans_rule() -> None:
    rule = parse_credit_rule(EXAMPLE_RULE)
    assert rule == CreditRule("prorated", "breach", Decimal(10), Decimal(50), None)
    # 10% of the 1500.00 monthly fee per breach, whatever the minutes over
    assert breach_credit(rule, Decimal("1500.00"), "callback", 1, 43260) == Decimal("150.00")
    assert breach_credit(rule, Decimal("1500.00"), "callback", 600, 43260) == Decimal("150.00")
    assert breach_credit(rule, Decimal("1500.00"), "callback", 0, 43260) == Decimal("0.00")
    # capped at 50% (750.00) a month: six breaches credit 750.00, not 900.00
    assert capped_total(rule, Decimal("1500.00"), [Decimal("150.00")] * 6) == Decimal("750.00")
    assert capped_total(rule, Decimal("1500.00"), [Decimal("150.00")] * 2) == Decimal("300.00")


def test_a_credit_prorated_by_the_time_over() -> None:
    # The seed's "prorated amount of the monthly fee for the period not restored":
    # 90 minutes over in November 2026 Pacific (43,260 minutes with the fall-back hour)
    # of a 1500.00 fee = 1500 * 90 / 43260 = 3.1206... -> 3.12
    rule = parse_credit_rule({"per": "time_over", "metrics": ["restoration"]})
    assert rule is not None and rule.percent == Decimal(100)
    assert breach_credit(rule, Decimal("1500.00"), "restoration", 90, 43260) == Decimal("3.12")
    assert breach_credit(rule, Decimal("1500.00"), "callback", 90, 43260) == Decimal("0.00")
    # never more than the whole month's fee share
    assert breach_credit(rule, Decimal("1500.00"), "restoration", 10**6, 43260) == Decimal(
        "1500.00"
    )


def test_no_rule_and_no_cap() -> None:
    assert parse_credit_rule({}) is None
    assert parse_credit_rule(None) is None
    assert capped_total(None, None, [Decimal("1.005"), Decimal("2")]) == Decimal("3.01")


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"kind": "bonus", "percent_of_monthly_fee": 10}, "credit kind"),
        ({"per": "hour", "percent_of_monthly_fee": 10}, "'per'"),
        ({"per": "breach"}, "needs percent_of_monthly_fee"),
        ({"percent_of_monthly_fee": 120}, "between 0 and 100"),
        ({"percent_of_monthly_fee": "ten"}, "must be a number"),
        ({"percent_of_monthly_fee": 10, "cap_percent": -1}, "between 0 and 100"),
        ({"percent_of_monthly_fee": 10, "percent": 5}, "unknown credit rule keys"),
        ({"percent_of_monthly_fee": 10, "metrics": "restoration"}, "metrics"),
        ({"percent_of_monthly_fee": 10, "metrics": ["uptime"]}, "metrics"),
    ],
)
def test_bad_credit_rules_are_refused(raw, message) -> None:
    with pytest.raises(CreditRuleError, match=message):
        parse_credit_rule(raw)


@pytest.mark.parametrize("text", [None, "", "abc", "-5", "NaN"])
def test_bad_monthly_fees_are_refused(text) -> None:
    with pytest.raises(CreditRuleError):
        parse_money(text)


@pytest.mark.parametrize(
    "year, month, zone, minutes",
    [
        (2026, 11, "America/Los_Angeles", 30 * 1440 + 60),  # falls back on 1 Nov
        (2026, 3, "America/Los_Angeles", 31 * 1440 - 60),  # springs forward on 8 Mar
        (2026, 11, "Europe/London", 30 * 1440),  # the UK fell back in October
        (2026, 10, "Europe/London", 31 * 1440 + 60),
        (2028, 2, "UTC", 29 * 1440),
        (2026, 12, "America/New_York", 31 * 1440),  # year end
    ],
)
def test_minutes_in_a_local_month(year, month, zone, minutes) -> None:
    assert minutes_in_month(year, month, zone) == minutes


# --- percentiles ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, percent, expected",
    [
        (list(range(1, 11)), 50, 5),  # nearest rank: the lower middle of an even count
        (list(range(1, 11)), 90, 9),
        (list(range(1, 11)), 100, 10),
        (list(range(1, 11)), 1, 1),
        (list(range(1, 31)), 90, 27),  # exactly rank 27, not 28 from float error
        ([10, 1, 5], 50, 5),  # sorted first
        ([7], 90, 7),
        ([], 50, None),
        ([m(3), m(1), m(2)], 50, m(2)),
    ],
)
def test_nearest_rank_percentiles(values, percent, expected) -> None:
    assert nearest_rank(values, percent) == expected


@pytest.mark.parametrize("percent", [0, -5, 101])
def test_percentiles_outside_0_to_100_are_refused(percent) -> None:
    with pytest.raises(SlaMathError):
        nearest_rank([1, 2], percent)
