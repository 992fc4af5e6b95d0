"""The per-destination page throttle: spaces pages out, never drops an emergency one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escalation.errors import EscalationError
from escalation.throttle import SMS_LIMITS, VOICE_LIMITS, ThrottleLimits, decide

NOW = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
LIMITS = ThrottleLimits(
    max_per_window=3,
    window=timedelta(minutes=10),
    min_gap=timedelta(seconds=20),
    max_emergency_delay=timedelta(seconds=30),
)


def _ago(*seconds: int) -> list[datetime]:
    return [NOW - timedelta(seconds=s) for s in seconds]


@pytest.mark.parametrize(
    ("history", "is_emergency", "wait", "over"),
    [
        pytest.param([], True, 0, False, id="first page goes at once"),
        pytest.param(_ago(60), True, 0, False, id="well spaced goes at once"),
        pytest.param(_ago(5), True, 15, False, id="min gap delays by the rest of the gap"),
        pytest.param(_ago(20), True, 0, False, id="exactly the gap is fine"),
        pytest.param(_ago(500, 300, 100), True, 30, True, id="full window: emergency capped"),
        pytest.param(_ago(500, 300, 100), False, 100, False, id="full window: normal waits"),
        pytest.param(_ago(590, 300, 100), False, 10, False, id="oldest leaves the window soon"),
        pytest.param(_ago(590, 300, 100), True, 10, False, id="emergency within the cap"),
        pytest.param(_ago(600, 300, 100), True, 0, False, id="send a window ago has left"),
        pytest.param([NOW + timedelta(seconds=10)], True, 30, False, id="a scheduled send counts"),
    ],
)
def test_decide(history: list[datetime], is_emergency: bool, wait: int, over: bool) -> None:
    decision = decide(history, NOW, LIMITS, is_emergency=is_emergency)
    assert decision.send_at == NOW + timedelta(seconds=wait)
    assert decision.is_delayed is (wait > 0)
    assert decision.is_over_limit is over


def test_a_burst_of_emergency_calls_is_spread_and_never_dropped() -> None:
    sent: list[datetime] = []
    for _ in range(10):
        decision = decide(sent, NOW, VOICE_LIMITS)
        assert decision.send_at <= NOW + VOICE_LIMITS.max_emergency_delay
        sent.append(decision.send_at)
    assert len(sent) == 10
    assert sent[0] == NOW
    assert sent[1] == NOW + VOICE_LIMITS.min_gap


def test_naive_times_are_refused() -> None:
    with pytest.raises(EscalationError, match="timezone-aware"):
        decide([], NOW.replace(tzinfo=None), SMS_LIMITS)
    with pytest.raises(EscalationError, match="timezone-aware"):
        decide([NOW.replace(tzinfo=None)], NOW, SMS_LIMITS)


def test_limits_are_checked() -> None:
    with pytest.raises(EscalationError, match="max_per_window"):
        ThrottleLimits(0, timedelta(minutes=1), timedelta(0), timedelta(0))
    with pytest.raises(EscalationError, match="negative"):
        ThrottleLimits(1, timedelta(minutes=1), timedelta(seconds=-1), timedelta(0))


@given(
    offsets=st.lists(st.integers(min_value=-3600, max_value=60), max_size=30),
    is_emergency=st.booleans(),
)
def test_decision_respects_the_limits_unless_an_emergency_cannot_wait(
    offsets: list[int], is_emergency: bool
) -> None:
    history = [NOW + timedelta(seconds=s) for s in offsets]
    decision = decide(history, NOW, LIMITS, is_emergency=is_emergency)
    assert decision.send_at >= NOW
    if is_emergency:
        assert decision.send_at <= NOW + LIMITS.max_emergency_delay
    if not decision.is_over_limit:
        at = decision.send_at
        assert all(abs(at - h) >= LIMITS.min_gap for h in history if h <= at)
        in_window = [h for h in history if at - LIMITS.window < h <= at]
        assert len(in_window) < LIMITS.max_per_window
    else:
        assert is_emergency
