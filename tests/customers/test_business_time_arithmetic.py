"""Adding and measuring business time, hand-computed across holidays, overnight windows, DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.customers.business_time_calendars import (
    ALWAYS_LA,
    BERLIN,
    BERLIN_LUNCH,
    BERLIN_NIGHTS,
    ENGLAND,
    LA,
    LONDON,
    LONDON_NIGHTS,
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
    BusinessCalendar,
    add_business_time,
    business_time_between,
)

ADD_CASES = [
    # Fri 16:00-16:30 uses 0:30; the weekend and the fall-back night are closed;
    # Mon 08:00 PST + 3:30 = 11:30 PST.
    pytest.param(
        US_FEDERAL,
        datetime(2026, 10, 30, 16, 0, tzinfo=LA),
        h(4),
        datetime(2026, 11, 2, 11, 30, tzinfo=LA),
        id="issue-friday-before-fall-back",
    ),
    # Wed 0:30, Thu 26 Thanksgiving closed, Fri 27 08:00 + 3:30 = 11:30.
    pytest.param(
        US_FEDERAL,
        datetime(2026, 11, 25, 16, 0, tzinfo=LA),
        h(4),
        datetime(2026, 11, 27, 11, 30, tzinfo=LA),
        id="issue-thanksgiving-federal",
    ),
    # California also closes Fri 27 (Day After Thanksgiving): Mon 30 08:00 + 3:30.
    pytest.param(
        US_CALIFORNIA,
        datetime(2026, 11, 25, 16, 0, tzinfo=LA),
        h(4),
        datetime(2026, 11, 30, 11, 30, tzinfo=LA),
        id="issue-thanksgiving-california",
    ),
    # A start on Saturday begins at Monday's opening: Mon 08:00 + 2:00.
    pytest.param(
        US_FEDERAL,
        datetime(2026, 11, 21, 10, 0, tzinfo=LA),
        h(2),
        datetime(2026, 11, 23, 10, 0, tzinfo=LA),
        id="start-outside-hours-waits-for-opening",
    ),
    # Exactly the rest of the day ends at the closing time, not at the next opening.
    pytest.param(
        US_FEDERAL,
        datetime(2026, 11, 23, 16, 0, tzinfo=LA),
        h(0.5),
        datetime(2026, 11, 23, 16, 30, tzinfo=LA),
        id="ends-at-closing-time",
    ),
    # Fall back: Sat 22:00 PDT (05:00Z) + 8:00 = 13:00Z = Sun 05:00 PST, not 06:00.
    pytest.param(
        US_NIGHTS,
        datetime(2026, 10, 31, 22, 0, tzinfo=LA),
        h(8),
        datetime(2026, 11, 1, 5, 0, tzinfo=LA),
        id="overnight-us-fall-back",
    ),
    # Spring forward: Sat 23:00 PST (07:00Z) to Sun 06:00 PDT (13:00Z) is 6:00; the last
    # hour comes from Sun 22:00 PDT, so 23:00 PDT.
    pytest.param(
        US_NIGHTS,
        datetime(2026, 3, 7, 23, 0, tzinfo=LA),
        h(7),
        datetime(2026, 3, 8, 23, 0, tzinfo=LA),
        id="overnight-us-spring-forward",
    ),
    # London spring forward at 01:00 GMT: Sat 22:00 GMT (22:00Z) + 7:00 = 05:00Z = 06:00 BST.
    pytest.param(
        LONDON_NIGHTS,
        datetime(2026, 3, 28, 22, 0, tzinfo=LONDON),
        h(7),
        datetime(2026, 3, 29, 6, 0, tzinfo=LONDON),
        id="overnight-london-spring-forward",
    ),
    # Berlin fall back: Sat 22:00 CEST (20:00Z) + 8:00 = 04:00Z = Sun 05:00 CET.
    pytest.param(
        BERLIN_NIGHTS,
        datetime(2026, 10, 24, 22, 0, tzinfo=BERLIN),
        h(8),
        datetime(2026, 10, 25, 5, 0, tzinfo=BERLIN),
        id="overnight-berlin-fall-back",
    ),
    # Lunch gap: 11:00-12:00 is 1:00, then 13:00 + 1:00.
    pytest.param(
        BERLIN_LUNCH,
        datetime(2026, 11, 23, 11, 0, tzinfo=BERLIN),
        h(2),
        datetime(2026, 11, 23, 14, 0, tzinfo=BERLIN),
        id="lunch-gap",
    ),
    # A start inside the lunch gap waits for 13:00: + 0:01 = 13:01.
    pytest.param(
        BERLIN_LUNCH,
        datetime(2026, 11, 23, 12, 30, tzinfo=BERLIN),
        timedelta(minutes=1),
        datetime(2026, 11, 23, 13, 1, tzinfo=BERLIN),
        id="start-in-lunch-gap",
    ),
    # 16:30-17:00 is 0:30, then Tue 08:00 + 0:30.
    pytest.param(
        BERLIN_LUNCH,
        datetime(2026, 11, 23, 16, 30, tzinfo=BERLIN),
        h(1),
        datetime(2026, 11, 24, 8, 30, tzinfo=BERLIN),
        id="lunch-calendar-overnight",
    ),
    # Wed 23 0:30; Thu 24 customer closure; Fri 25 Christmas; weekend; Mon 28 08:00 + 0:30.
    pytest.param(
        US_XMAS_EVE_SHUT,
        datetime(2026, 12, 23, 16, 0, tzinfo=LA),
        h(1),
        datetime(2026, 12, 28, 8, 30, tzinfo=LA),
        id="customer-closure",
    ),
    # Thu 24 16:00-17:00 is 1:00; Fri 25 Christmas, Sat 26 Boxing Day, Mon 28 Boxing Day
    # (substitute); Tue 29 09:00 GMT + 1:00.
    pytest.param(
        ENGLAND,
        datetime(2026, 12, 24, 16, 0, tzinfo=LONDON),
        h(2),
        datetime(2026, 12, 29, 10, 0, tzinfo=LONDON),
        id="england-boxing-day-substitute",
    ),
    # Scotland: Fri 2027-01-01, Sat 2 New Year Holiday, substitute Mon 4: Thu 31 16:00-17:00
    # is 1:00, then Tue 5 09:00 + 1:00.
    pytest.param(
        SCOTLAND,
        datetime(2026, 12, 31, 16, 0, tzinfo=LONDON),
        h(2),
        datetime(2027, 1, 5, 10, 0, tzinfo=LONDON),
        id="scotland-new-year-substitute",
    ),
    # England has no 2 January holiday: Mon 4 09:00 + 1:00.
    pytest.param(
        ENGLAND,
        datetime(2026, 12, 31, 16, 0, tzinfo=LONDON),
        h(2),
        datetime(2027, 1, 4, 10, 0, tzinfo=LONDON),
        id="england-new-year",
    ),
    # 24x7 across fall back: 00:30 PDT (07:30Z) + 2:00 = 09:30Z = the second 01:30 (PST).
    pytest.param(
        ALWAYS_LA,
        datetime(2026, 11, 1, 0, 30, tzinfo=LA),
        h(2),
        datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
        id="24x7-fall-back",
    ),
    # 24x7 across spring forward: 01:30 PST (09:30Z) + 1:00 = 10:30Z = 03:30 PDT.
    pytest.param(
        ALWAYS_LA,
        datetime(2026, 3, 8, 1, 30, tzinfo=LA),
        h(1),
        datetime(2026, 3, 8, 3, 30, tzinfo=LA),
        id="24x7-spring-forward",
    ),
    # Zero duration returns the start even outside hours.
    pytest.param(
        US_FEDERAL,
        datetime(2026, 11, 22, 3, 0, tzinfo=LA),
        timedelta(0),
        datetime(2026, 11, 22, 3, 0, tzinfo=LA),
        id="zero-duration",
    ),
    pytest.param(
        NEVER,
        datetime(2026, 11, 22, 3, 0, tzinfo=LA),
        timedelta(0),
        datetime(2026, 11, 22, 3, 0, tzinfo=LA),
        id="zero-duration-empty-calendar",
    ),
]


@pytest.mark.parametrize("calendar, start, duration, expected", ADD_CASES)
def test_add_business_time(
    calendar: BusinessCalendar, start: datetime, duration: timedelta, expected: datetime
) -> None:
    result = add_business_time(start, duration, calendar)
    assert result == expected
    assert result.tzinfo is UTC
    # The same cases read backwards: the business time from start to the result is the duration.
    assert business_time_between(start, result, calendar) == duration


BETWEEN_CASES = [
    # Wed 16:00-16:30 0:30 + Fri 8:30 + Mon 08:00-11:30 3:30 = 12:30 (federal).
    pytest.param(
        US_FEDERAL,
        datetime(2026, 11, 25, 16, 0, tzinfo=LA),
        datetime(2026, 11, 30, 11, 30, tzinfo=LA),
        h(12.5),
        id="thanksgiving-week-federal",
    ),
    # California loses Friday: 0:30 + 3:30 = 4:00.
    pytest.param(
        US_CALIFORNIA,
        datetime(2026, 11, 25, 16, 0, tzinfo=LA),
        datetime(2026, 11, 30, 11, 30, tzinfo=LA),
        h(4),
        id="thanksgiving-week-california",
    ),
    # Sat 22:00 PDT (05:00Z) to Sun 06:00 PST (14:00Z): the overnight window holds 9:00.
    pytest.param(
        US_NIGHTS,
        datetime(2026, 10, 31, 21, 0, tzinfo=LA),
        datetime(2026, 11, 1, 7, 0, tzinfo=LA),
        h(9),
        id="overnight-us-fall-back-is-9h",
    ),
    # Sat 22:00 PST (06:00Z) to Sun 06:00 PDT (13:00Z): 7:00.
    pytest.param(
        US_NIGHTS,
        datetime(2026, 3, 7, 21, 0, tzinfo=LA),
        datetime(2026, 3, 8, 7, 0, tzinfo=LA),
        h(7),
        id="overnight-us-spring-forward-is-7h",
    ),
    # Sat 22:00 BST (21:00Z) to Sun 06:00 GMT (06:00Z): 9:00.
    pytest.param(
        LONDON_NIGHTS,
        datetime(2026, 10, 24, 21, 0, tzinfo=LONDON),
        datetime(2026, 10, 25, 7, 0, tzinfo=LONDON),
        h(9),
        id="overnight-london-fall-back-is-9h",
    ),
    # Sat 22:00 CET (21:00Z) to Sun 06:00 CEST (04:00Z): 7:00.
    pytest.param(
        BERLIN_NIGHTS,
        datetime(2026, 3, 28, 21, 0, tzinfo=BERLIN),
        datetime(2026, 3, 29, 7, 0, tzinfo=BERLIN),
        h(7),
        id="overnight-berlin-spring-forward-is-7h",
    ),
    # Weekday nights, US holidays: Wed 25 22:00 to Thu 26 06:00 runs into Thanksgiving
    # (it starts on Wednesday); Thu 26 22:00 starts on the holiday and is skipped: 8:00.
    pytest.param(
        US_WEEKDAY_NIGHTS,
        datetime(2026, 11, 25, 21, 0, tzinfo=LA),
        datetime(2026, 11, 27, 7, 0, tzinfo=LA),
        h(8),
        id="overnight-window-belongs-to-its-start-day",
    ),
    # 09:00-12:00 3:00 + 13:00-15:00 2:00 = 5:00.
    pytest.param(
        BERLIN_LUNCH,
        datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN),
        datetime(2026, 11, 23, 15, 0, tzinfo=BERLIN),
        h(5),
        id="lunch-gap-not-counted",
    ),
    # 24x7: Sat 23:00 PDT (06:00Z) to Sun 02:00 PST (10:00Z) is 4:00 of wall time.
    pytest.param(
        ALWAYS_LA,
        datetime(2026, 10, 31, 23, 0, tzinfo=LA),
        datetime(2026, 11, 1, 2, 0, tzinfo=LA),
        h(4),
        id="24x7-fall-back-night",
    ),
    # 24x7: Sun 01:00 PST (09:00Z) to 04:00 PDT (11:00Z) is 2:00.
    pytest.param(
        ALWAYS_LA,
        datetime(2026, 3, 8, 1, 0, tzinfo=LA),
        datetime(2026, 3, 8, 4, 0, tzinfo=LA),
        h(2),
        id="24x7-spring-forward-night",
    ),
    # Reversed arguments give the same amount, negative.
    pytest.param(
        US_FEDERAL,
        datetime(2026, 11, 23, 12, 0, tzinfo=LA),
        datetime(2026, 11, 23, 9, 0, tzinfo=LA),
        h(-3),
        id="reversed-is-negative",
    ),
    pytest.param(
        NEVER,
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
        timedelta(0),
        id="empty-calendar",
    ),
]


@pytest.mark.parametrize("calendar, a, b, expected", BETWEEN_CASES)
def test_business_time_between(
    calendar: BusinessCalendar, a: datetime, b: datetime, expected: timedelta
) -> None:
    assert business_time_between(a, b, calendar) == expected
