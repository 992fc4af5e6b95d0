"""A per-destination rate for pages that bundles, and never drops, an emergency page.

Carriers flag a number as spam after a burst of calls or texts, and an analyst paged 200
times in a storm can read none of them. So pages to one destination (number and
channel) go out at most ``max_per_window`` per ``window`` and at least ``min_gap`` apart,
and pages that must wait are not spaced one by one but combined:

- the first page to a quiet destination goes at once;
- while the destination had a send in the last ``min_gap``, a new page is scheduled for
  the next send the limits allow; every page that arrives before that send joins it,
  so the analyst gets one bundle naming them all (``escalation.dispatch`` sends it).

The history spans every incident, which is why the rate is not part of one incident's
escalation state: the caller passes the send times to the destination (past ones, and
ones already scheduled). The rows of one bundle share one send time, so each distinct
time is one message or call.
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

    def __post_init__(self) -> None:
        if self.max_per_window < 1 or self.window <= timedelta(0):
            raise EscalationError("a throttle needs max_per_window >= 1 and a positive window")
        if self.min_gap < timedelta(0):
            raise EscalationError("a throttle's min_gap must not be negative")


# Twenty texts a minute, three seconds apart: a long storm never stalls behind the
# per-minute limit (20 x 3 s = 60 s), and every incident is named within about 3 s.
SMS_LIMITS = ThrottleLimits(
    max_per_window=20, window=timedelta(minutes=1), min_gap=timedelta(seconds=3)
)
# A page call rings for up to ~30 s, so a second call much sooner would only hit "busy".
VOICE_LIMITS = ThrottleLimits(
    max_per_window=3, window=timedelta(minutes=1), min_gap=timedelta(seconds=20)
)


@dataclass(frozen=True)
class ThrottleDecision:
    """When a page goes; ``joins_bundle`` means with a send already scheduled."""

    send_at: datetime
    is_delayed: bool
    joins_bundle: bool


def decide(sent_at: Iterable[datetime], now: datetime, limits: ThrottleLimits) -> ThrottleDecision:
    """Return when a page to a destination with these past (or scheduled) sends may go."""
    now = as_utc(now, "now")
    times = sorted({as_utc(moment, "send time") for moment in sent_at})
    if times and times[-1] > now:
        # A send is already scheduled: ride along instead of taking another slot.
        return ThrottleDecision(send_at=times[-1], is_delayed=True, joins_bundle=True)
    send_at = next_slot(times, now, limits)
    return ThrottleDecision(send_at=send_at, is_delayed=send_at > now, joins_bundle=False)


def next_slot(times: list[datetime], now: datetime, limits: ThrottleLimits) -> datetime:
    """Return the first moment from ``now`` on that a new send keeps within the limits."""
    earliest = now
    if times:
        earliest = max(earliest, times[-1] + limits.min_gap)
    while True:
        recent = [moment for moment in times if earliest - limits.window < moment <= earliest]
        if len(recent) < limits.max_per_window:
            return earliest
        # The oldest send in the window leaves it exactly one window later.
        earliest = recent[0] + limits.window
