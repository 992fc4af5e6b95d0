"""The calendars the business-time tests share, so each file checks its own topic against them."""

from __future__ import annotations

from datetime import date, timedelta

from voiceline.customers.business_time import BusinessCalendar
from voiceline.hours import parse_hours, zone

LA = zone("America/Los_Angeles")
LONDON = zone("Europe/London")
BERLIN = zone("Europe/Berlin")

US_FEDERAL = BusinessCalendar("America/Los_Angeles", parse_hours("mon-fri 08:00-16:30"), "US")
US_CALIFORNIA = BusinessCalendar(
    "America/Los_Angeles", parse_hours("mon-fri 08:00-16:30"), "US", "CA"
)
US_NIGHTS = BusinessCalendar("America/Los_Angeles", parse_hours("mon-sun 22:00-06:00"))
US_WEEKDAY_NIGHTS = BusinessCalendar(
    "America/Los_Angeles", parse_hours("mon-fri 22:00-06:00"), "US"
)
LONDON_NIGHTS = BusinessCalendar("Europe/London", parse_hours("mon-sun 22:00-06:00"))
BERLIN_NIGHTS = BusinessCalendar("Europe/Berlin", parse_hours("mon-sun 22:00-06:00"))
BERLIN_LUNCH = BusinessCalendar(
    "Europe/Berlin", parse_hours("mon-fri 08:00-12:00; mon-fri 13:00-17:00"), "DE", "BE"
)
US_XMAS_EVE_SHUT = BusinessCalendar(
    "America/Los_Angeles",
    parse_hours("mon-fri 08:00-16:30"),
    "US",
    closures=frozenset({date(2026, 12, 24)}),
)
ENGLAND = BusinessCalendar("Europe/London", parse_hours("mon-fri 09:00-17:00"), "GB", "ENG")
SCOTLAND = BusinessCalendar("Europe/London", parse_hours("mon-fri 09:00-17:00"), "GB", "SCT")
ALWAYS_LA = BusinessCalendar("America/Los_Angeles", parse_hours("24x7"))
NEVER = BusinessCalendar("America/Los_Angeles", parse_hours("none"), "US")


def h(hours: float) -> timedelta:
    """Return ``hours`` as a timedelta."""
    return timedelta(hours=hours)
