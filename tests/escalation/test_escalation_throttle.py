"""The per-destination page rate: the first page at once, later ones join the next bundle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escalation.errors import EscalationError
from escalation.throttle import SMS_LIMITS, VOICE_LIMITS, ThrottleLimits, decide

NOW = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
LIMITS = ThrottleLimits(
    max_per_window=3, window=timedelta(minutes=10), min_gap=timedelta(seconds=20)
)


def _ago(*seconds: int) -> list[datetime]:
    return [NOW - timedelta(seconds=s) for s in seconds]


@pytest.mark.parametrize(
    ("history", "wait", "joins"),
    [
        pytest.param([], 0, False, id="first page goes at once"),
        pytest.param(_ago(60), 0, False, id="well spaced goes at once"),
        pytest.param(_ago(5), 15, False, id="min gap: the next bundle after the rest of it"),
        pytest.param(_ago(20), 0, False, id="exactly the gap is fine"),
        pytest.param(_ago(500, 300, 100), 100, False, id="full window: the oldest must leave"),
        pytest.param(_ago(600, 300, 100), 0, False, id="send a window ago has left"),
        pytest.param([NOW + timedelta(seconds=10)], 10, True, id="joins a scheduled bundle"),
        pytest.param(_ago(5) * 4, 15, False, id="one bundle's rows count as one send"),
    ],
)
def test_decide(history: list[datetime], wait: int, joins: bool) -> None:
    decision = decide(history, NOW, LIMITS)
    assert decision.send_at == NOW + timedelta(seconds=wait)
    assert decision.is_delayed is (wait > 0)
    assert decision.joins_bundle is joins


def test_a_burst_makes_one_send_now_and_one_bundle_for_the_rest() -> None:
    sends: list[datetime] = []
    for offset in range(200):  # 200 pages to one phone within two seconds
        now = NOW + timedelta(milliseconds=10 * offset)
        sends.append(decide(sends, now, SMS_LIMITS).send_at)
    assert sends[0] == NOW
    assert set(sends[1:]) == {NOW + SMS_LIMITS.min_gap}
    assert len(sends) == 200  # none dropped


def test_a_long_storm_is_never_stalled_by_the_minute_limit() -> None:
    """Sends go every min_gap: the per-minute limit never adds a long wait."""
    sends: list[datetime] = []
    for second in range(600):
        now = NOW + timedelta(seconds=second)
        at = decide(sends, now, SMS_LIMITS).send_at
        assert at - now <= SMS_LIMITS.min_gap
        sends.append(at)
    distinct = sorted(set(sends))
    for moment in distinct:
        in_minute = [t for t in distinct if moment - timedelta(minutes=1) < t <= moment]
        assert len(in_minute) <= SMS_LIMITS.max_per_window
    assert min(b - a for a, b in zip(distinct, distinct[1:], strict=False)) >= timedelta(seconds=1)


def test_voice_calls_are_spaced_by_a_ring() -> None:
    first = decide([], NOW, VOICE_LIMITS)
    second = decide([first.send_at], NOW + timedelta(seconds=1), VOICE_LIMITS)
    assert first.send_at == NOW and second.send_at == NOW + VOICE_LIMITS.min_gap


def test_naive_times_are_refused() -> None:
    with pytest.raises(EscalationError, match="timezone-aware"):
        decide([], NOW.replace(tzinfo=None), SMS_LIMITS)
    with pytest.raises(EscalationError, match="timezone-aware"):
        decide([NOW.replace(tzinfo=None)], NOW, SMS_LIMITS)


def test_limits_are_checked() -> None:
    with pytest.raises(EscalationError, match="max_per_window"):
        ThrottleLimits(0, timedelta(minutes=1), timedelta(0))
    with pytest.raises(EscalationError, match="negative"):
        ThrottleLimits(1, timedelta(minutes=1), timedelta(seconds=-1))


@given(offsets=st.lists(st.integers(min_value=-3600, max_value=0), max_size=30))
def test_a_new_send_respects_the_limits(offsets: list[int]) -> None:
    history = [NOW + timedelta(seconds=s) for s in offsets]
    decision = decide(history, NOW, LIMITS)
    assert not decision.joins_bundle
    at = decision.send_at
    assert at >= NOW
    assert all(at - h >= LIMITS.min_gap for h in history if h <= at)
    in_window = {h for h in history if at - LIMITS.window < h <= at}
    assert len(in_window) < LIMITS.max_per_window
