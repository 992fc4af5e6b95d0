"""Business calendars: when they are open, their holidays and closures, refusals, wording."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.customers.business_time_calendars import (
    ALWAYS_LA,
    ENGLAND,
    LA,
    LONDON,
    NEVER,
    SCOTLAND,
    US_CALIFORNIA,
    US_FEDERAL,
    US_NIGHTS,
    US_WEEKDAY_NIGHTS,
    US_XMAS_EVE_SHUT,
    h,
)
from voiceline.customers.business_time import (
    SEARCH_HORIZON,
    BusinessCalendar,
    CalendarError,
    CalendarNeverOpens,
    add_business_time,
    business_time_between,
    describe_hours,
    holiday_name,
    is_business_time,
    is_closed_day,
    next_business_moment,
    zone_label,
)
from voiceline.hours import parse_hours


@pytest.mark.parametrize(
    "calendar, at, expected",
    [
        pytest.param(US_FEDERAL, datetime(2026, 11, 23, 8, 0, tzinfo=LA), True, id="opening"),
        pytest.param(US_FEDERAL, datetime(2026, 11, 23, 16, 30, tzinfo=LA), False, id="closing"),
        pytest.param(US_FEDERAL, datetime(2026, 11, 26, 10, 0, tzinfo=LA), False, id="holiday"),
        pytest.param(US_FEDERAL, datetime(2026, 11, 27, 10, 0, tzinfo=LA), True, id="fed-fri"),
        pytest.param(US_CALIFORNIA, datetime(2026, 11, 27, 10, 0, tzinfo=LA), False, id="ca-fri"),
        pytest.param(US_WEEKDAY_NIGHTS, datetime(2026, 11, 26, 5, 0, tzinfo=LA), True, id="eve"),
        pytest.param(US_WEEKDAY_NIGHTS, datetime(2026, 11, 26, 23, 0, tzinfo=LA), False, id="tg"),
        # 02:30 does not exist on 2026-03-08 in Los Angeles: 10:30Z is 03:30 PDT, open.
        pytest.param(ALWAYS_LA, datetime(2026, 3, 8, 10, 30, tzinfo=UTC), True, id="gap-24x7"),
        pytest.param(NEVER, datetime(2026, 11, 23, 10, 0, tzinfo=LA), False, id="empty"),
        pytest.param(ENGLAND, datetime(2026, 12, 28, 10, 0, tzinfo=LONDON), False, id="boxing"),
    ],
)
def test_is_business_time(calendar: BusinessCalendar, at: datetime, expected: bool) -> None:
    assert is_business_time(calendar, at) is expected


@pytest.mark.parametrize(
    "calendar, at, expected",
    [
        # Friday after closing -> Monday 08:00 PST (after the fall-back night).
        (US_FEDERAL, datetime(2026, 10, 30, 17, 0, tzinfo=LA), datetime(2026, 11, 2, 8, tzinfo=LA)),
        # Inside hours -> the instant itself.
        (
            US_FEDERAL,
            datetime(2026, 11, 23, 9, 15, tzinfo=LA),
            datetime(2026, 11, 23, 9, 15, tzinfo=LA),
        ),
        # Wednesday evening before Thanksgiving, California -> Monday 30.
        (
            US_CALIFORNIA,
            datetime(2026, 11, 25, 18, 0, tzinfo=LA),
            datetime(2026, 11, 30, 8, tzinfo=LA),
        ),
        (
            ENGLAND,
            datetime(2026, 12, 24, 18, 0, tzinfo=LONDON),
            datetime(2026, 12, 29, 9, tzinfo=LONDON),
        ),
        (NEVER, datetime(2026, 11, 23, 9, 0, tzinfo=LA), None),
    ],
)
def test_next_business_moment(
    calendar: BusinessCalendar, at: datetime, expected: datetime | None
) -> None:
    assert next_business_moment(calendar, at) == expected


@pytest.mark.parametrize(
    "calendar, day, name",
    [
        (US_FEDERAL, date(2026, 11, 26), "Thanksgiving Day"),
        (US_FEDERAL, date(2026, 11, 27), None),
        (US_CALIFORNIA, date(2026, 11, 27), "Day After Thanksgiving"),
        (US_FEDERAL, date(2026, 7, 3), "Independence Day (observed)"),
        # New Year's Day 2028 is a Saturday, observed on Friday 2027-12-31.
        (US_FEDERAL, date(2027, 12, 31), "New Year's Day (observed)"),
        (ENGLAND, date(2026, 12, 28), "Boxing Day (observed)"),
        (ENGLAND, date(2026, 11, 30), None),
        (SCOTLAND, date(2026, 11, 30), "Saint Andrew's Day"),
        (US_XMAS_EVE_SHUT, date(2026, 12, 24), "closure"),
        (ALWAYS_LA, date(2026, 12, 25), None),
    ],
)
def test_holidays_and_closures(calendar: BusinessCalendar, day: date, name: str | None) -> None:
    assert holiday_name(calendar, day) == name
    assert is_closed_day(calendar, day) is (name is not None)


def test_holiday_country_closes_even_a_24x7_calendar_on_the_holiday() -> None:
    calendar = BusinessCalendar("America/Los_Angeles", parse_hours("24x7"), "US")
    start = datetime(2026, 11, 25, 0, 0, tzinfo=LA)
    # Wed 24:00 + Thu closed + Fri 24:00 = 48 h over three days.
    assert business_time_between(start, start + timedelta(days=3), calendar) == h(48)


def test_empty_calendar_never_opens() -> None:
    start = datetime(2026, 11, 23, 9, 0, tzinfo=LA)
    with pytest.raises(CalendarNeverOpens):
        add_business_time(start, timedelta(minutes=1), NEVER)


def test_calendar_shut_for_the_whole_horizon_never_opens() -> None:
    # Open one hour on Mondays, but every Monday for eleven years is a closure.
    first = date(2026, 11, 23)
    mondays = frozenset(first + timedelta(weeks=n) for n in range(52 * 11 + 1))
    calendar = BusinessCalendar("UTC", parse_hours("mon 09:00-10:00"), closures=mondays)
    start = datetime(2026, 11, 23, tzinfo=UTC)
    with pytest.raises(CalendarNeverOpens):
        add_business_time(start, timedelta(minutes=1), calendar)
    assert next_business_moment(calendar, start) is None


def test_duration_beyond_the_horizon_is_refused_not_looped() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(CalendarError) as caught:
        add_business_time(start, SEARCH_HORIZON + timedelta(days=1), ALWAYS_LA)
    assert not isinstance(caught.value, CalendarNeverOpens)
    assert add_business_time(start, SEARCH_HORIZON, ALWAYS_LA) == start + SEARCH_HORIZON


def test_exact_to_the_second() -> None:
    start = datetime(2026, 11, 23, 16, 29, 30, 250, tzinfo=LA)
    result = add_business_time(start, timedelta(seconds=45), US_FEDERAL)
    assert result == datetime(2026, 11, 24, 8, 0, 15, 250, tzinfo=LA)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"time_zone": "Mars/Olympus"}, "Mars/Olympus"),
        ({"holiday_country": "XX"}, "XX"),
        ({"holiday_country": "US", "holiday_subdivision": "ZZ"}, "US-ZZ"),
        ({"holiday_subdivision": "CA"}, "needs a holiday country"),
        ({"holiday_country": "US", "holiday_categories": ("nonsense",)}, "nonsense"),
        ({"closures": frozenset({datetime(2026, 1, 1)})}, "closures must be dates"),
        ({"hours": "mon-fri 08:00-16:30"}, "parse_hours"),
    ],
)
def test_bad_calendars_are_refused_with_a_reason(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"time_zone": "UTC", "hours": parse_hours("24x7")}
    fields.update(kwargs)
    with pytest.raises(CalendarError, match=message):
        BusinessCalendar(**fields)  # type: ignore[arg-type]


def test_country_code_is_normalised_and_calendar_is_hashable() -> None:
    lower = BusinessCalendar(
        "UTC", parse_hours("24x7"), "us", holiday_categories=("PUBLIC", "public")
    )
    assert lower.holiday_country == "US"
    assert lower.holiday_categories == ("public",)
    assert hash(lower) == hash(
        BusinessCalendar("UTC", parse_hours("24x7"), "US", None, frozenset(), ("public",))
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_business_time(datetime(2026, 1, 1), h(1), US_FEDERAL),
        lambda: add_business_time(datetime(2026, 1, 1, tzinfo=UTC), h(-1), US_FEDERAL),
        lambda: business_time_between(datetime(2026, 1, 1), datetime.now(UTC), US_FEDERAL),
        lambda: is_business_time(US_FEDERAL, datetime(2026, 1, 1)),
        lambda: next_business_moment(US_FEDERAL, datetime(1066, 10, 14, tzinfo=UTC)),
    ],
    ids=["naive-start", "negative-duration", "naive-a", "naive-at", "too-early"],
)
def test_bad_instants_and_durations_are_refused(call: object) -> None:
    with pytest.raises(CalendarError):
        call()  # type: ignore[operator]


@pytest.mark.parametrize(
    "calendar, text",
    [
        (US_FEDERAL, "Mon–Fri 8:00–16:30 Pacific Time, closed on public holidays"),
        (
            BusinessCalendar(
                "Europe/Berlin",
                parse_hours("mon-fri 08:00-12:00; mon-fri 13:00-17:00; sat 09:00-12:00"),
            ),
            "Mon–Fri 8:00–12:00 and 13:00–17:00, Sat 9:00–12:00 Berlin time",
        ),
        (US_NIGHTS, "Every day 22:00–6:00 Pacific Time"),
        (
            BusinessCalendar("Europe/London", parse_hours("fri-mon 07:00-24:00")),
            "Mon, Fri–Sun 7:00–24:00 UK time",
        ),
        (ALWAYS_LA, "24 hours a day, 7 days a week"),
        (NEVER, "No business hours"),
    ],
)
def test_describe_hours(calendar: BusinessCalendar, text: str) -> None:
    assert describe_hours(calendar) == text


def test_zone_label_falls_back_to_the_city() -> None:
    assert zone_label("America/New_York") == "Eastern Time"
    assert zone_label("America/Argentina/Buenos_Aires") == "Buenos Aires time"
