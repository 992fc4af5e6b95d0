"""The storm's checks: which incidents a page names, and the per-phone limits.

A storm check that could not see a page, or a limit it could not count, would report a
storm as handled when it was not; these pin what the checks read from the fake Twilio.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from bench.callers import SentPage, sent_pages
from bench.storm import _limits
from escalation.throttle import SMS_LIMITS
from simulator.engine import Simulator
from simulator.resources import CallRecord, MessageRecord

T0 = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
TIER1 = "+15035550201"


def _sms(sid: str, body: str, at: datetime, direction: str = "outbound-api") -> MessageRecord:
    return MessageRecord(sid, "AC1", TIER1, "+15035550100", body, direction, "sent", at, at)


def test_pages_name_incidents_by_sms_text_voice_url_and_page_row() -> None:
    sim = Simulator(account_sid="AC" + "1" * 32)
    sim.api.add_message(_sms("SM1", "#12 EMERGENCY Acme Dental; also #13", T0))
    sim.api.add_message(_sms("SM2", "#99 from the analyst", T0, direction="inbound"))
    sim.api.add_message(_sms("SM3", "a bundled page without numbers", T0 + timedelta(seconds=2)))
    call = CallRecord("CA1", "AC1", TIER1, "+15035550100", "outbound-api", "queued",
                      T0 + timedelta(seconds=1), T0,
                      url="http://127.0.0.1:5000/twilio/page/14/0.0.alex.voice.1")  # fmt: skip
    sim.api.add_call(call)
    pages = sent_pages(sim, {"SM3": 15})
    assert [(p.channel, sorted(p.incidents)) for p in pages] == [
        ("sms", [12, 13]),
        ("voice", [14]),
        ("sms", [15]),
    ]


def test_limits_count_each_phone_and_channel() -> None:
    too_many = SMS_LIMITS.max_per_window + 2  # all within one window, half a second apart
    burst = [SentPage("sms", TIER1, float(n) * 0.5, frozenset({n})) for n in range(too_many)]
    calm = [SentPage("sms", "+15035550203", float(n) * 40, frozenset({n})) for n in range(5)]
    over, (gap, peak) = _limits(burst + calm)
    assert list(over) == [f"{TIER1} sms"]
    assert f"limit {SMS_LIMITS.max_per_window}" in over[f"{TIER1} sms"]
    assert gap == 0.5 and peak == 2


def test_no_second_sms_means_no_gap() -> None:
    over, (gap, peak) = _limits([SentPage("sms", TIER1, 0.0, frozenset({1}))])
    assert over == {} and math.isinf(gap) and peak == 1
