"""Where the entitlement decision sends each call, table-driven: plans, holidays, DST nights."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.customers.entitlement_plans import (
    AD_HOC,
    BLANK_COVER,
    CALIFORNIA,
    CAT1,
    CAT2,
    CAT2_BILLABLE,
    DIAMOND,
    ENGLAND,
    EVENINGS,
    LA,
    LINE_ONLY,
    LONDON,
    MON_0800_LA,
    NEVER,
    OREGON,
    PRO,
    TUE_0800_LA,
)
from voiceline.customers.business_time import BusinessCalendar
from voiceline.customers.entitlement import (
    PlanTerms,
    Route,
    decide,
)
from voiceline.hours import parse_hours

CASES = [
    # --- a Diamond-like plan: 24x7 cover, 30-minute callback (Oregon, US holidays) ---
    pytest.param(
        DIAMOND,
        OREGON,
        datetime(2026, 11, 21, 2, 0, tzinfo=LA),
        Route.EMERGENCY_MENU,
        MON_0800_LA,
        "outside business hours",
        id="diamond-saturday-0200",
    ),
    pytest.param(
        DIAMOND,
        OREGON,
        datetime(2026, 11, 23, 10, 0, tzinfo=LA),
        Route.DESK,
        None,
        "business hours",
        id="diamond-monday-1000",
    ),
    pytest.param(
        DIAMOND,
        OREGON,
        datetime(2026, 11, 23, 17, 0, tzinfo=LA),
        Route.EMERGENCY_MENU,
        TUE_0800_LA,
        "Diamond covers",
        id="diamond-monday-1700",
    ),
    # Thanksgiving 10:00: a holiday is after hours all day; Oregon reopens on Friday.
    pytest.param(
        DIAMOND,
        OREGON,
        datetime(2026, 11, 26, 10, 0, tzinfo=LA),
        Route.EMERGENCY_MENU,
        datetime(2026, 11, 27, 8, 0, tzinfo=LA),
        "closed for Thanksgiving Day",
        id="diamond-thanksgiving-1000",
    ),
    # California also closes the Friday: next opening Monday 30.
    pytest.param(
        DIAMOND,
        CALIFORNIA,
        datetime(2026, 11, 27, 10, 0, tzinfo=LA),
        Route.EMERGENCY_MENU,
        datetime(2026, 11, 30, 8, 0, tzinfo=LA),
        "closed for Day After Thanksgiving",
        id="diamond-california-day-after-thanksgiving",
    ),
    # 02:30 on 2026-03-08 does not exist in Los Angeles; 10:30Z is 03:30 PDT.
    pytest.param(
        DIAMOND,
        OREGON,
        datetime(2026, 3, 8, 10, 30, tzinfo=UTC),
        Route.EMERGENCY_MENU,
        datetime(2026, 3, 9, 8, 0, tzinfo=LA),
        "outside business hours",
        id="diamond-spring-forward-0230",
    ),
    # 01:30 happens twice on 2026-11-01: 08:30Z (PDT) and 09:30Z (PST).
    pytest.param(
        DIAMOND,
        OREGON,
        datetime(2026, 11, 1, 8, 30, tzinfo=UTC),
        Route.EMERGENCY_MENU,
        datetime(2026, 11, 2, 8, 0, tzinfo=LA),
        "Diamond covers",
        id="diamond-fall-back-first-0130",
    ),
    pytest.param(
        DIAMOND,
        OREGON,
        datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
        Route.EMERGENCY_MENU,
        datetime(2026, 11, 2, 8, 0, tzinfo=LA),
        "Diamond covers",
        id="diamond-fall-back-second-0130",
    ),
    # --- cover that ends at 02:00 local, inside the DST nights ---
    # Fall back: Sat 18:00 PDT to Sun 02:00 PST (10:00Z) covers both 01:30s ...
    pytest.param(
        EVENINGS,
        OREGON,
        datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
        Route.EMERGENCY_MENU,
        datetime(2026, 11, 2, 8, 0, tzinfo=LA),
        "Evenings covers",
        id="evenings-fall-back-second-0130",
    ),
    # ... and stops at 02:00 PST.
    pytest.param(
        EVENINGS,
        OREGON,
        datetime(2026, 11, 1, 10, 0, tzinfo=UTC),
        Route.NEXT_BUSINESS_DAY,
        datetime(2026, 11, 2, 8, 0, tzinfo=LA),
        "outside cover hours",
        id="evenings-fall-back-0200-pst",
    ),
    # Spring forward: 02:00 is skipped, so the end reads as 02:00 PST = 10:00Z = 03:00 PDT.
    pytest.param(
        EVENINGS,
        OREGON,
        datetime(2026, 3, 8, 9, 59, tzinfo=UTC),
        Route.EMERGENCY_MENU,
        datetime(2026, 3, 9, 8, 0, tzinfo=LA),
        "Evenings covers",
        id="evenings-spring-forward-0159-pst",
    ),
    pytest.param(
        EVENINGS,
        OREGON,
        datetime(2026, 3, 8, 10, 0, tzinfo=UTC),
        Route.NEXT_BUSINESS_DAY,
        datetime(2026, 3, 9, 8, 0, tzinfo=LA),
        "outside cover hours",
        id="evenings-spring-forward-0300-pdt",
    ),
    # --- business-hours-only and ad hoc plans ---
    pytest.param(
        PRO,
        OREGON,
        datetime(2026, 11, 23, 17, 0, tzinfo=LA),
        Route.NEXT_BUSINESS_DAY,
        TUE_0800_LA,
        "Pro: no after-hours cover",
        id="pro-after-hours",
    ),
    pytest.param(
        PRO,
        OREGON,
        datetime(2026, 11, 23, 10, 0, tzinfo=LA),
        Route.DESK,
        None,
        "business hours",
        id="pro-desk",
    ),
    pytest.param(
        AD_HOC,
        OREGON,
        datetime(2026, 11, 21, 2, 0, tzinfo=LA),
        Route.BILLABLE_MENU,
        MON_0800_LA,
        "billable at 1.5x",
        id="ad-hoc-saturday-night",
    ),
    # --- a Cat2-like plan: cover 07:00-23:00 every day (England, UK time) ---
    pytest.param(
        CAT2,
        ENGLAND,
        datetime(2026, 11, 21, 22, 59, tzinfo=LONDON),
        Route.EMERGENCY_MENU,
        datetime(2026, 11, 23, 9, 0, tzinfo=LONDON),
        "Cat2 covers",
        id="cat2-saturday-2259",
    ),
    pytest.param(
        CAT2,
        ENGLAND,
        datetime(2026, 11, 21, 23, 1, tzinfo=LONDON),
        Route.NEXT_BUSINESS_DAY,
        datetime(2026, 11, 23, 9, 0, tzinfo=LONDON),
        "Cat2: outside cover hours",
        id="cat2-saturday-2301",
    ),
    pytest.param(
        CAT2,
        ENGLAND,
        datetime(2026, 11, 22, 6, 59, tzinfo=LONDON),
        Route.NEXT_BUSINESS_DAY,
        datetime(2026, 11, 23, 9, 0, tzinfo=LONDON),
        "outside cover hours",
        id="cat2-sunday-0659",
    ),
    pytest.param(
        CAT2,
        ENGLAND,
        datetime(2026, 11, 23, 8, 30, tzinfo=LONDON),
        Route.EMERGENCY_MENU,
        datetime(2026, 11, 23, 9, 0, tzinfo=LONDON),
        "Cat2 covers",
        id="cat2-monday-before-opening",
    ),
    pytest.param(
        CAT2_BILLABLE,
        ENGLAND,
        datetime(2026, 11, 21, 23, 1, tzinfo=LONDON),
        Route.BILLABLE_MENU,
        datetime(2026, 11, 23, 9, 0, tzinfo=LONDON),
        "outside cover hours, billable at 1.5x",
        id="cat2-billable-saturday-2301",
    ),
    # --- a UK bank holiday: Mon 2026-12-28 is the substitute for Boxing Day ---
    pytest.param(
        CAT2,
        ENGLAND,
        datetime(2026, 12, 28, 10, 0, tzinfo=LONDON),
        Route.EMERGENCY_MENU,
        datetime(2026, 12, 29, 9, 0, tzinfo=LONDON),
        "closed for Boxing Day (observed)",
        id="cat2-boxing-day-substitute",
    ),
    pytest.param(
        CAT1,
        ENGLAND,
        datetime(2026, 12, 28, 10, 0, tzinfo=LONDON),
        Route.NEXT_BUSINESS_DAY,
        datetime(2026, 12, 29, 9, 0, tzinfo=LONDON),
        "closed for Boxing Day (observed)",
        id="cat1-boxing-day-substitute",
    ),
    # 01:30 on 2026-03-29 does not exist in London; 01:30Z is 02:30 BST, Sunday.
    pytest.param(
        CAT2,
        ENGLAND,
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        Route.NEXT_BUSINESS_DAY,
        datetime(2026, 3, 30, 9, 0, tzinfo=LONDON),
        "outside cover hours",
        id="cat2-london-spring-forward",
    ),
    # --- callers we could not identify, plans without the desk, odd calendars ---
    pytest.param(
        None,
        OREGON,
        datetime(2026, 11, 23, 10, 0, tzinfo=LA),
        Route.DESK,
        None,
        "business hours",
        id="unknown-desk",
    ),
    pytest.param(
        None,
        OREGON,
        datetime(2026, 11, 21, 2, 0, tzinfo=LA),
        Route.NEXT_BUSINESS_DAY,
        MON_0800_LA,
        "caller not identified",
        id="unknown-after-hours",
    ),
    pytest.param(
        LINE_ONLY,
        OREGON,
        datetime(2026, 11, 23, 10, 0, tzinfo=LA),
        Route.EMERGENCY_MENU,
        None,
        "business hours, desk not in plan",
        id="line-only-plan-in-business-hours",
    ),
    pytest.param(
        BLANK_COVER,
        OREGON,
        datetime(2026, 11, 21, 2, 0, tzinfo=LA),
        Route.EMERGENCY_MENU,
        MON_0800_LA,
        "Blank cover covers",
        id="covered-plan-with-blank-cover-hours-covers-round-the-clock",
    ),
    pytest.param(
        DIAMOND,
        NEVER,
        datetime(2026, 11, 23, 10, 0, tzinfo=LA),
        Route.EMERGENCY_MENU,
        None,
        "no business hours",
        id="diamond-calendar-never-open",
    ),
    pytest.param(
        DIAMOND,
        BusinessCalendar(
            "America/Los_Angeles",
            parse_hours("mon-fri 08:00-16:30"),
            closures=frozenset({date(2026, 11, 23)}),
        ),
        datetime(2026, 11, 23, 10, 0, tzinfo=LA),
        Route.EMERGENCY_MENU,
        TUE_0800_LA,
        "closed today",
        id="diamond-customer-closure",
    ),
]


@pytest.mark.parametrize("plan, calendar, now, route, next_open, reason", CASES)
def test_decide(
    plan: PlanTerms | None,
    calendar: BusinessCalendar,
    now: datetime,
    route: Route,
    next_open: datetime | None,
    reason: str,
) -> None:
    decision = decide(plan, calendar, now)
    assert decision.route is route
    assert decision.next_open == next_open
    # Every row set in business hours says so in its expected reason.
    assert decision.is_business_hours is reason.startswith("business hours")
    assert reason in decision.reason
