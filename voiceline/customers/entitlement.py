"""The entitlement decision: what a caller's plan allows at this moment.

A pure function of (plan terms, the customer's business calendar, now). Business hours,
public holidays and closures come from the calendar, in the customer's zone. The plan's
cover hours say when after-hours emergency cover applies (round the clock for a
Diamond-like plan, 07:00-23:00 for a Cat2-like one); they are read in the same zone but
ignore holidays, because cover exists precisely for the days the office is shut.

The routes, in the caller's words:

- DESK: business hours; connect to the support desk, voicemail if nobody answers.
- EMERGENCY_MENU: after hours, covered; 1 if your business is down, 2 for a message.
- BILLABLE_MENU: after hours, not covered; 1 to accept billable emergency support at the
  plan's rate (recorded as consent), 2 for a next-business-day message.
- NEXT_BUSINESS_DAY: take a message for the next business day.

The menus' no-input rule (say the menu once more, then take a message anyway) belongs to
the call flow in voiceline.line; nothing here ever ends a call.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from voiceline.customers.business_time import (
    CLOSURE,
    BusinessCalendar,
    holiday_name,
    is_business_time,
    next_business_moment,
)
from voiceline.errors import InvalidInput
from voiceline.hours import ALWAYS, Hours, WeeklyWindow, is_open_at

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class EntitlementError(InvalidInput):
    """Plan terms or an instant the decision cannot use."""


class Route(enum.Enum):
    """Where the call goes."""

    DESK = "desk"
    EMERGENCY_MENU = "emergency_menu"
    BILLABLE_MENU = "billable_menu"
    NEXT_BUSINESS_DAY = "next_business_day"


@dataclass(frozen=True)
class PlanTerms:
    """The parts of a plan the decision reads.

    ``cover_hours`` matters only when ``after_hours_cover`` is set; left empty on a covered
    plan it means round the clock, so a blank field never denies a covered caller.
    ``desk_in_business_hours`` False sends business-hours calls through the after-hours
    rules too (a plan that buys the emergency line but not the desk).
    """

    code: str
    name: str
    after_hours_cover: bool
    cover_hours: Hours
    callback_target: timedelta | None
    billable_emergency: bool
    billable_rate: str | None = None
    desk_in_business_hours: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.cover_hours, tuple) or not all(
            isinstance(w, WeeklyWindow) for w in self.cover_hours
        ):
            raise EntitlementError(
                f"plan {self.code!r}: cover hours must come from voiceline.hours.parse_hours"
            )
        if self.callback_target is not None and self.callback_target <= timedelta(0):
            raise EntitlementError(f"plan {self.code!r}: callback target must be positive")

    @property
    def effective_cover_hours(self) -> Hours:
        """Return the hours in which after-hours cover applies (none without cover)."""
        if not self.after_hours_cover:
            return ()
        return self.cover_hours or ALWAYS


@dataclass(frozen=True)
class Decision:
    """The route, and the facts behind it.

    ``next_open`` is the next business moment (UTC) when the office is shut now, for
    "we'll call you back on Monday"; None while it is open, or if it never opens.
    """

    route: Route
    is_business_hours: bool
    next_open: datetime | None
    reason: str


def _why_closed(calendar: BusinessCalendar, now: datetime) -> str:
    """Return why the office is shut at ``now``, naming today's holiday if there is one."""
    if not calendar.hours:
        return "no business hours"
    today = holiday_name(calendar, now.astimezone(calendar.tz).date())
    if today == CLOSURE:
        return "closed today"
    if today is not None:
        return f"closed for {today}"
    return "outside business hours"


def decide(plan: PlanTerms | None, calendar: BusinessCalendar, now: datetime) -> Decision:
    """Decide the route for a call at ``now`` (aware) under ``plan``.

    ``plan`` None is a caller we could not match: the desk in business hours, otherwise
    a message (the line asks them who they are); an unknown caller is never offered
    emergency cover or billable work.
    """
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise EntitlementError(f"decide needs a timezone-aware datetime, got {now!r}")
    is_open = is_business_time(calendar, now)
    next_open = None if is_open else next_business_moment(calendar, now)

    def route(to: Route, why: str) -> Decision:
        return Decision(to, is_open, next_open, why)

    if is_open and (plan is None or plan.desk_in_business_hours):
        return route(Route.DESK, "business hours")
    why = "business hours, desk not in plan" if is_open else _why_closed(calendar, now)
    if plan is None:
        return route(Route.NEXT_BUSINESS_DAY, f"{why}; caller not identified")
    if is_open_at(plan.effective_cover_hours, calendar.tz, now):
        return route(Route.EMERGENCY_MENU, f"{why}; {plan.name} covers emergencies now")
    outside = "outside cover hours" if plan.after_hours_cover else "no after-hours cover"
    if plan.billable_emergency:
        rate = plan.billable_rate or "the after-hours rate"
        return route(Route.BILLABLE_MENU, f"{why}; {plan.name}: {outside}, billable at {rate}")
    return route(Route.NEXT_BUSINESS_DAY, f"{why}; {plan.name}: {outside}")


def _part_of_day(hour: int) -> str | None:
    """Return "morning", "afternoon" or "evening"; None in the small hours, which have no word."""
    if hour < 5:
        return None
    if hour < 12:
        return "morning"
    return "afternoon" if hour < 18 else "evening"


def next_business_day_phrase(calendar: BusinessCalendar, now: datetime) -> str:
    """Say when the office next opens, to follow "We will call you back ..."."""
    if is_business_time(calendar, now):
        return "today"
    opens = next_business_moment(calendar, now)
    if opens is None:
        return "as soon as we can"
    local_now = now.astimezone(calendar.tz)
    local = opens.astimezone(calendar.tz)
    clock = f"{local.hour}:{local.minute:02d}"
    part = _part_of_day(local.hour)
    days = (local.date() - local_now.date()).days
    if days == 0:
        return f"this {part} at {clock}" if part else f"today at {clock}"
    if days == 1:
        return f"tomorrow {part} at {clock}" if part else f"tomorrow at {clock}"
    if days < 7:
        return f"on {_WEEKDAYS[local.weekday()]} at {clock}"
    return f"on {_WEEKDAYS[local.weekday()]}, {local.strftime('%B')} {local.day} at {clock}"
