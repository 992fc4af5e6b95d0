"""A per-destination throttle for pages that delays, and never drops, an emergency page.

Carriers flag a number as spam after a burst of calls or texts, and a flagged number
stops reaching analysts at all. So pages to one destination are spaced out: at most
``max_per_window`` sends per ``window`` and at least ``min_gap`` apart. An emergency
page waits at most ``max_emergency_delay``; if the limit would make it wait longer it
is sent anyway and the decision says so (``is_over_limit``), so the runner can log it.

The history spans every incident, which is why the throttle is not part of one
incident's escalation state: the runner keeps the send times per (number, channel),
including sends it has scheduled for later, and asks ``decide`` before each page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from escalation.errors import EscalationError
from escalation.state import as_utc


@dataclass(frozen=True)
class ThrottleLimits:
    """How often one destination may be paged on one channel."""

    max_per_window: int
    window: timedelta
    min_gap: timedelta
    max_emergency_delay: timedelta

    def __post_init__(self) -> None:
        if self.max_per_window < 1 or self.window <= timedelta(0):
            raise EscalationError("a throttle needs max_per_window >= 1 and a positive window")
        if self.min_gap < timedelta(0) or self.max_emergency_delay < timedelta(0):
            raise EscalationError("throttle gaps and delays must not be negative")


# A voice page rings for up to ~30 s, so a second call sooner would only hit "busy".
VOICE_LIMITS = ThrottleLimits(
    max_per_window=6,
    window=timedelta(minutes=10),
    min_gap=timedelta(seconds=20),
    max_emergency_delay=timedelta(seconds=30),
)
SMS_LIMITS = ThrottleLimits(
    max_per_window=10,
    window=timedelta(minutes=5),
    min_gap=timedelta(seconds=1),
    max_emergency_delay=timedelta(seconds=10),
)


@dataclass(frozen=True)
class ThrottleDecision:
    """When to send; ``is_over_limit`` means sent early because emergencies cannot wait."""

    send_at: datetime
    is_delayed: bool
    is_over_limit: bool


def decide(
    sent_at: Iterable[datetime],
    now: datetime,
    limits: ThrottleLimits,
    *,
    is_emergency: bool = True,
) -> ThrottleDecision:
    """Return when a page to a destination with these past (or scheduled) sends may go."""
    now = as_utc(now, "now")
    times = sorted(as_utc(moment, "send time") for moment in sent_at)
    earliest = now
    if times:
        earliest = max(earliest, times[-1] + limits.min_gap)
    while True:
        recent = [moment for moment in times if earliest - limits.window < moment <= earliest]
        if len(recent) < limits.max_per_window:
            break
        # The oldest send in the window leaves it exactly one window later.
        earliest = recent[0] + limits.window
    send_at = earliest
    if is_emergency:
        send_at = min(earliest, now + limits.max_emergency_delay)
    return ThrottleDecision(
        send_at=send_at, is_delayed=send_at > now, is_over_limit=send_at < earliest
    )
