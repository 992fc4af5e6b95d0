"""The entitlement decision: what a caller's plan allows at this moment.

A pure function of (plan terms, the customer's business calendar, now). Business hours
and holidays come from the calendar, in the customer's zone; the plan's cover hours say
when after-hours emergency cover applies (24x7 for a Diamond-like plan, 07:00-23:00 for
a Cat2-like one).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from voiceline.business_time import BusinessCalendar, is_business_time, next_business_moment
from voiceline.hours import Hours, is_open_at


class Route(enum.Enum):
    """Where the call goes."""

    DESK = "desk"
    EMERGENCY_MENU = "emergency_menu"
    BILLABLE_MENU = "billable_menu"
    NEXT_BUSINESS_DAY = "next_business_day"


@dataclass(frozen=True)
class PlanTerms:
    """The parts of a plan the decision reads."""

    code: str
    name: str
    after_hours_cover: bool
    cover_hours: Hours
    callback_target: timedelta | None
    billable_emergency: bool
    billable_rate: str | None = None
    desk_in_business_hours: bool = True


@dataclass(frozen=True)
class Decision:
    """The route, and the facts behind it."""

    route: Route
    is_business_hours: bool
    next_open: datetime | None
    reason: str


def decide(plan: PlanTerms | None, calendar: BusinessCalendar, now: datetime) -> Decision:
    """Decide the route for a call at ``now`` (aware) under ``plan``.

    ``plan`` None is a caller we could not match: the desk in business hours, otherwise
    a message (the line asks them who they are).
    """
    if now.tzinfo is None:
        raise ValueError("decide needs an aware datetime")
    is_open = is_business_time(calendar, now)
    next_open = None if is_open else next_business_moment(calendar, now)
    if is_open and (plan is None or plan.desk_in_business_hours):
        return Decision(Route.DESK, True, None, "business hours")
    if plan is None:
        return Decision(Route.NEXT_BUSINESS_DAY, is_open, next_open, "caller not matched")
    if plan.after_hours_cover and is_open_at(plan.cover_hours, calendar.tz, now):
        return Decision(Route.EMERGENCY_MENU, is_open, next_open, "after hours, covered")
    if plan.billable_emergency:
        reason = "after hours, outside cover" if plan.after_hours_cover else "after hours, no cover"
        return Decision(Route.BILLABLE_MENU, is_open, next_open, f"{reason}, billable offered")
    return Decision(Route.NEXT_BUSINESS_DAY, is_open, next_open, "after hours, no cover")


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def next_business_day_phrase(calendar: BusinessCalendar, now: datetime) -> str:
    """Say when the office next opens, as a caller hears it ('tomorrow morning at 8:00')."""
    opens = next_business_moment(calendar, now)
    if opens is None:
        return "the next business day"
    local_now = now.astimezone(calendar.tz)
    local = opens.astimezone(calendar.tz)
    clock = f"{local.hour}:{local.minute:02d}"
    days = (local.date() - local_now.date()).days
    if days == 0:
        return f"today at {clock}"
    if days == 1:
        part = "morning" if local.hour < 12 else "afternoon"
        return f"tomorrow {part} at {clock}"
    if days < 7:
        return f"on {_WEEKDAYS[local.weekday()]} at {clock}"
    return f"on {_WEEKDAYS[local.weekday()]}, {local.strftime('%B')} {local.day} at {clock}"
