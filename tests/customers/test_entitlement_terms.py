"""Plan terms and what a decision says: its plain value, rates, next-day phrases, refusals."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.customers.entitlement_plans import (
    AD_HOC,
    BERLIN,
    CALIFORNIA,
    DIAMOND,
    ENGLAND,
    LA,
    LONDON,
    MON_0800_LA,
    NEVER,
    OREGON,
)
from voiceline.customers.business_time import BusinessCalendar
from voiceline.customers.entitlement import (
    Decision,
    EntitlementError,
    PlanTerms,
    Route,
    decide,
    next_business_day_phrase,
)
from voiceline.hours import ALWAYS, parse_hours


def test_decision_is_a_plain_value() -> None:
    now = datetime(2026, 11, 21, 2, 0, tzinfo=LA)
    assert decide(AD_HOC, OREGON, now) == Decision(
        Route.BILLABLE_MENU,
        False,
        MON_0800_LA,
        "outside business hours; Ad hoc: no after-hours cover, billable at 1.5x",
    )


def test_billable_plan_without_a_rate_names_the_after_hours_rate() -> None:
    plan = PlanTerms("x", "X", False, (), None, True)
    decision = decide(plan, OREGON, datetime(2026, 11, 21, 2, 0, tzinfo=LA))
    assert decision.route is Route.BILLABLE_MENU
    assert decision.reason.endswith("billable at the after-hours rate")


@pytest.mark.parametrize(
    "calendar, now, phrase",
    [
        pytest.param(OREGON, datetime(2026, 11, 23, 17, 0, tzinfo=LA), "tomorrow morning at 8:00"),
        pytest.param(OREGON, datetime(2026, 11, 20, 17, 0, tzinfo=LA), "on Monday at 8:00"),
        # Friday evening before the fall-back weekend: Monday 08:00 PST.
        pytest.param(OREGON, datetime(2026, 10, 30, 17, 0, tzinfo=LA), "on Monday at 8:00"),
        pytest.param(OREGON, datetime(2026, 11, 25, 17, 0, tzinfo=LA), "on Friday at 8:00"),
        pytest.param(CALIFORNIA, datetime(2026, 11, 25, 17, 0, tzinfo=LA), "on Monday at 8:00"),
        pytest.param(OREGON, datetime(2026, 11, 23, 6, 0, tzinfo=LA), "this morning at 8:00"),
        pytest.param(OREGON, datetime(2026, 11, 23, 9, 0, tzinfo=LA), "today"),
        pytest.param(
            BusinessCalendar(
                "Europe/Berlin", parse_hours("mon-fri 08:00-12:00; mon-fri 13:00-17:00")
            ),
            datetime(2026, 11, 23, 12, 30, tzinfo=BERLIN),
            "this afternoon at 13:00",
            id="lunch-gap",
        ),
        pytest.param(
            BusinessCalendar("America/Los_Angeles", parse_hours("mon-fri 22:00-06:00")),
            datetime(2026, 11, 23, 18, 0, tzinfo=LA),
            "this evening at 22:00",
            id="night-desk",
        ),
        pytest.param(
            BusinessCalendar("America/Los_Angeles", parse_hours("mon-fri 00:30-06:00")),
            datetime(2026, 11, 23, 18, 0, tzinfo=LA),
            "tomorrow at 0:30",
            id="small-hours",
        ),
        # Christmas, Boxing Day on Saturday and its Monday substitute: Tuesday.
        pytest.param(ENGLAND, datetime(2026, 12, 24, 18, 0, tzinfo=LONDON), "on Tuesday at 9:00"),
        pytest.param(
            BusinessCalendar(
                "America/Los_Angeles",
                parse_hours("mon-fri 08:00-16:30"),
                closures=frozenset(date(2026, 12, 21) + timedelta(days=n) for n in range(12)),
            ),
            datetime(2026, 12, 18, 17, 0, tzinfo=LA),
            "on Monday, January 4 at 8:00",
            id="long-closure",
        ),
        pytest.param(NEVER, datetime(2026, 11, 23, 9, 0, tzinfo=LA), "as soon as we can"),
    ],
)
def test_next_business_day_phrase(calendar: BusinessCalendar, now: datetime, phrase: str) -> None:
    assert next_business_day_phrase(calendar, now) == phrase


def test_naive_now_is_refused() -> None:
    with pytest.raises(EntitlementError):
        decide(DIAMOND, OREGON, datetime(2026, 11, 23, 10, 0))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cover_hours": "mon-sun 07:00-23:00"},
        {"callback_target": timedelta(0)},
        {"callback_target": timedelta(minutes=-30)},
    ],
)
def test_bad_plan_terms_are_refused(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {
        "code": "bad",
        "name": "Bad",
        "after_hours_cover": True,
        "cover_hours": ALWAYS,
        "callback_target": None,
        "billable_emergency": False,
    }
    fields.update(kwargs)
    with pytest.raises(EntitlementError, match="bad"):
        PlanTerms(**fields)  # type: ignore[arg-type]


def test_cover_hours_only_count_on_covered_plans() -> None:
    uncovered = PlanTerms("p", "P", False, ALWAYS, None, False)
    assert uncovered.effective_cover_hours == ()
    assert decide(uncovered, OREGON, datetime(2026, 11, 21, 2, 0, tzinfo=LA)).route is (
        Route.NEXT_BUSINESS_DAY
    )
