"""Business time asked as the line asks it: one calendar object, instant after instant.

``voiceline.customers.business_time`` keeps each calendar's last closed stretch (from an
instant asked to the next opening) and answers from it while an instant falls inside.
Here one calendar object is asked forward through the span and now and then back in
time, against the minute-by-minute reference of ``test_business_time_properties``.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.customers.test_business_time_properties import MINUTE, SETTINGS, Case, cases
from voiceline.customers.business_time import is_business_time, next_business_moment


@SETTINGS
@given(case=cases(), span_days=st.integers(1, 4), data=st.data())
def test_asking_one_calendar_through_a_night_agrees_with_the_reference(
    case: Case, span_days: int, data: st.DataObject
) -> None:
    a, count = case.anchor, span_days * 1440
    bits = case.reference.minutes(a, count)
    changes = [i for i in range(1, count) if bits[i] != bits[i - 1]]
    asked = sorted({0, count - 1, *(j for i in changes for j in (i - 1, i, i + 1) if j < count)})
    for j in asked + data.draw(st.lists(st.integers(0, count - 1), max_size=20)):
        assert is_business_time(case.calendar, a + j * MINUTE) is bool(bits[j]), j
        if 1 in bits[j:]:
            opens = a + bits.index(1, j) * MINUTE
            assert next_business_moment(case.calendar, a + j * MINUTE) == opens, j
