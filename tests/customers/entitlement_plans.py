"""The plans and calendars the entitlement tests share, so each file checks its own topic."""

from __future__ import annotations

from datetime import datetime, timedelta

from voiceline.customers.business_time import BusinessCalendar
from voiceline.customers.entitlement import PlanTerms
from voiceline.hours import ALWAYS, parse_hours, zone

LA = zone("America/Los_Angeles")
LONDON = zone("Europe/London")
BERLIN = zone("Europe/Berlin")

OREGON = BusinessCalendar("America/Los_Angeles", parse_hours("mon-fri 08:00-16:30"), "US", "OR")
CALIFORNIA = BusinessCalendar("America/Los_Angeles", parse_hours("mon-fri 08:00-16:30"), "US", "CA")
ENGLAND = BusinessCalendar("Europe/London", parse_hours("mon-fri 09:00-17:00"), "GB", "ENG")
NEVER = BusinessCalendar("America/Los_Angeles", parse_hours("none"))

DIAMOND = PlanTerms("diamond", "Diamond", True, ALWAYS, timedelta(minutes=30), False)
PRO = PlanTerms("pro", "Pro", False, (), None, False)
AD_HOC = PlanTerms("cats", "Ad hoc", False, (), None, True, "1.5x")
CAT1 = PlanTerms("cat1", "Cat1", False, (), timedelta(hours=8), False)
CAT2 = PlanTerms(
    "cat2", "Cat2", True, parse_hours("mon-sun 07:00-23:00"), timedelta(hours=4), False
)
CAT2_BILLABLE = PlanTerms(
    "cat2b", "Cat2 plus", True, parse_hours("mon-sun 07:00-23:00"), None, True, "1.5x"
)
# Evening cover that ends at 02:00 local, inside both DST nights.
EVENINGS = PlanTerms("eve", "Evenings", True, parse_hours("mon-sun 18:00-02:00"), None, False)
LINE_ONLY = PlanTerms(
    "line", "Line only", True, ALWAYS, timedelta(hours=1), False, desk_in_business_hours=False
)
BLANK_COVER = PlanTerms("blank", "Blank cover", True, (), None, False)

MON_0800_LA = datetime(2026, 11, 23, 8, 0, tzinfo=LA)
TUE_0800_LA = datetime(2026, 11, 24, 8, 0, tzinfo=LA)
